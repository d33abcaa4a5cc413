"""Rasa's two doors: its web channels on the public bind, its HTTP API on the private bind only.

Rasa serves its web channels (REST webhook, socket.io), its HTTP API (conversations, model loading) and the
voice webhook from one Sanic application, started by `rasa run` on one address. Accueil needs the channels
where patients' browsers (or the hospital's reverse proxy) reach them, and the API out of their reach: the
API reads and writes any conversation, and the voice webhook speaks for a caller.

How: `accueil.rasa_launch` starts Rasa on the private bind (HOST:RASA_PORT, loopback by default), where
everything answers as before, and installs this module's hook on Rasa's `configure_app`. Once the server has
started, the hook opens a second listening socket of the same application on PUBLIC_HOST:PUBLIC_RASA_PORT.
Connections accepted by that socket are served by `PublicDoor`, a subclass of Sanic's own protocol, and the
first request middleware (it runs before CORS's, and Sanic runs it for unrouted requests too) answers 404 to
any request that came in through a `PublicDoor` for anything but the channels' paths (`PUBLIC_PATHS`). The test is on the socket a connection came in by, never
on the client's address: a reverse proxy on the same machine connects from 127.0.0.1 as the studio does.

Replicas (ACCUEIL_RASA_REPLICAS): several Rasa processes serve side by side, so that one restarting (a crash, a
minute to load its model) or loading a new model leaves the others answering. Each listens on its own port
(`--port`, RASA_REPLICA_PORT + i: its health check and model loading reach that process and no other); the hook
also opens, with SO_REUSEPORT, the two doors the replicas share: the public one and the private API
(`--shared-api-port`, RASA_PORT, where the voice webhook and Accueil's API calls go). The kernel hands each new
connection to one of the processes listening on a shared port; one that dies closes its sockets and the next
connections go to the others. A patient's socket.io session lives on one connection (the widget speaks
websocket only), so it needs no stickiness. `READY_PATH` answers 200 on a replica's own port once its shared doors are
open: that is its readiness and liveness check. A deployment drains a replica before loading the new model into
it (`DOORS_PATH`, with the API token: its shared doors close, the kernel sends new connections to the others),
then opens it again, one replica after the other (accueil/rasa_api.py).

Why not the alternatives: a second Rasa process would need its own agent, lock store and model reloads; a
check of the client's address is void behind a local proxy; a reverse proxy alone leaves the API open to
whoever reaches the port directly (`make run` has no proxy). The hospital's proxy (deploy/nginx/accueil.conf)
routes only the channels' paths too, so the API is behind two closed doors.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from sanic import Sanic, response
from sanic.request import Request
from sanic.server import HttpProtocol, Signal, serve
from sanic.server.protocols.websocket_protocol import WebSocketProtocol

logger = logging.getLogger(__name__)

# The web channels patients' browsers use (the widget: web/src/transport.js), and the REST channel's probe.
PUBLIC_PATHS = frozenset({"/webhooks/rest/", "/webhooks/rest/webhook", "/socket.io", "/socket.io/"})
# On a replica's own port: 200 once its shared doors are open, or drained on purpose (its readiness and liveness
# check), else 503.
READY_PATH = "/accueil/ready"
# On the private bind, with the API token: POST ?action=close[&seconds=S] drains this replica, ?action=open ends it.
DOORS_PATH = "/accueil/doors"
DRAIN_SECONDS = 600.0  # a drain ends by itself after this long, should its `open` never come


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS


class PublicDoor:
    """Marks the connections accepted on the public socket (mixed into Sanic's protocol class at start)."""


def guard(
    app: Sanic, host: str, port: int, shared_api: tuple[str, int] | None = None, token: str | None = None
) -> None:
    """Opens the public door `host:port` on `app` once it has started (and the shared API door, if any), and closes
    every non-channel path on the public door. With the API `token`, `DOORS_PATH` drains this replica."""
    if not host or not port:
        raise ValueError("the public door needs an address and a port")
    doors = _SharedDoors(app, host, port, shared_api)

    async def refuse_outside_channels(request: Request):
        protocol = request.transport.get_protocol() if request.transport is not None else None
        if isinstance(protocol, PublicDoor):
            if not is_public_path(request.path):
                return response.json({"error": "Not found"}, status=404)
        elif request.path == READY_PATH:
            return response.json({"doors": doors.state()}, status=200 if doors.state() != "opening" else 503)
        elif request.path == DOORS_PATH and token is not None and request.method == "POST":
            if request.args.get("token") != token:
                return response.json({"error": "Unauthorized"}, status=401)
            action = request.args.get("action")
            try:
                seconds = min(DRAIN_SECONDS, max(1.0, float(request.args.get("seconds", DRAIN_SECONDS))))
            except ValueError:
                return response.json({"error": "seconds: a number"}, status=400)
            if action == "close":
                doors.drain(seconds)
            elif action == "open":
                await doors.open()
            else:
                return response.json({"error": "action: close or open"}, status=400)
            return response.json({"doors": doors.state()})
        return None

    async def open_door(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        # The first request middleware, put there once Sanic-CORS has put its own first (before_server_start):
        # Sanic runs them for a route's unknown method too, where CORS would answer an OPTIONS preflight of /status.
        app.request_middleware.appendleft(refuse_outside_channels)
        await doors.open()  # raises (and Rasa exits) when an address is taken by something else than a replica
        logger.info("Rasa's web channels also on http://%s:%d (public door: channels only)", host, port)
        if shared_api is not None:
            logger.info("Rasa's API also on http://%s:%d (shared with the other replicas)", *shared_api)

    async def close_door(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        await doors.close()

    app.register_listener(open_door, "after_server_start")
    app.register_listener(close_door, "before_server_stop")


class _SharedDoors:
    """The listening sockets a replica shares with the others (SO_REUSEPORT): the public door and the API door.

    `drain` closes them for a while (a model to load): the kernel then hands every new connection to the other
    replicas, and this one serves the connections it has; they open again by `open` or after the delay."""

    def __init__(self, app: Sanic, host: str, port: int, shared_api: tuple[str, int] | None) -> None:
        self.app, self.public, self.shared_api = app, (host, port), shared_api
        self.servers: list = []
        self.connections: set = set()
        self.drained = False
        self._reopen: asyncio.TimerHandle | None = None

    def state(self) -> str:
        if self.drained:
            return "drained"
        return "open" if len(self.servers) == 1 + (self.shared_api is not None) else "opening"

    async def open(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        self.drained = False
        if self.servers:
            return
        base = WebSocketProtocol if self.app.websocket_enabled else HttpProtocol  # as Sanic chooses for the main socket
        doors = [(*self.public, type("PublicDoorProtocol", (PublicDoor, base), {}))]
        if self.shared_api is not None:
            doors.append((*self.shared_api, base))
        loop = asyncio.get_running_loop()
        for door_host, door_port, protocol in doors:
            server = serve(
                host=door_host, port=door_port, app=self.app, loop=loop, protocol=protocol, run_async=True,
                connections=self.connections, signal=Signal(), reuse_port=True,
            )  # fmt: skip
            self.servers.append(await server)

    def drain(self, seconds: float) -> None:
        """Stops accepting on the shared doors (the connections already here go on) for at most `seconds`."""
        for server in self.servers:
            server.close()
        self.servers, self.drained = [], True
        if self._reopen is not None:
            self._reopen.cancel()
        self._reopen = asyncio.get_running_loop().call_later(seconds, lambda: asyncio.ensure_future(self.open()))
        logger.info("Shared doors closed for at most %.0f s: new connections go to the other replicas", seconds)

    async def close(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        servers, self.servers = self.servers, []
        for server in servers:
            server.close()
            await server.wait_closed()
        for connection in list(self.connections):
            connection.close_if_idle()


def install(host: str, port: int, shared_api: tuple[str, int] | None = None, token: str | None = None) -> None:
    """Makes Rasa's `configure_app` (run by `rasa run` in this process) guard the app it builds."""
    import rasa.core.run

    configure: Callable[..., Sanic] = rasa.core.run.configure_app

    def configure_app(*args, **kwargs) -> Sanic:
        app = configure(*args, **kwargs)
        guard(app, host, port, shared_api, token)
        return app

    rasa.core.run.configure_app = configure_app


def split_arguments(arguments: list[str]) -> tuple[list[str], tuple[str, int] | None]:
    """Takes `--public-interface HOST --public-port PORT` (both or neither) out of a `rasa run` command line."""
    rest: list[str] = []
    found: dict[str, str] = {}
    items = iter(arguments)
    for argument in items:
        name, equals, value = argument.partition("=")
        if name in ("--public-interface", "--public-port"):
            found[name] = value if equals else next(items, "")
        else:
            rest.append(argument)
    if not found:
        return rest, None
    if set(found) != {"--public-interface", "--public-port"} or not found["--public-port"].isdigit():
        raise SystemExit("accueil.rasa_launch: --public-interface HOST and --public-port PORT go together.")
    return rest, (found["--public-interface"], int(found["--public-port"]))


def split_shared_api(arguments: list[str]) -> tuple[list[str], tuple[str, int] | None]:
    """Takes `--shared-api-port PORT` out of a `rasa run` command line: the API door the replicas share, on the
    address of `--interface`, while `--port` is this replica's own."""
    rest: list[str] = []
    port: str | None = None
    items = iter(arguments)
    for argument in items:
        name, equals, value = argument.partition("=")
        if name == "--shared-api-port":
            port = value if equals else next(items, "")
        else:
            rest.append(argument)
    if port is None:
        return rest, None
    if not port.isdigit():
        raise SystemExit("accueil.rasa_launch: --shared-api-port takes a port number.")
    interface = next((rest[i + 1] for i, a in enumerate(rest[:-1]) if a in ("--interface", "-i")), "0.0.0.0")
    return rest, (interface, int(port))
