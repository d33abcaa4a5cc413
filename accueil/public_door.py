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


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS


class PublicDoor:
    """Marks the connections accepted on the public socket (mixed into Sanic's protocol class at start)."""


def guard(app: Sanic, host: str, port: int) -> None:
    """Opens `host:port` on `app` once it has started, and closes every non-channel path there."""
    if not host or not port:
        raise ValueError("the public door needs an address and a port")
    opened: dict = {}

    async def refuse_outside_channels(request: Request):
        protocol = request.transport.get_protocol() if request.transport is not None else None
        if isinstance(protocol, PublicDoor) and not is_public_path(request.path):
            return response.json({"error": "Not found"}, status=404)
        return None

    async def open_door(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        # The first request middleware, put there once Sanic-CORS has put its own first (before_server_start):
        # Sanic runs them for a route's unknown method too, where CORS would answer an OPTIONS preflight of /status.
        app.request_middleware.appendleft(refuse_outside_channels)
        base = WebSocketProtocol if app.websocket_enabled else HttpProtocol  # as Sanic chooses for the main socket
        door = type("PublicDoorProtocol", (PublicDoor, base), {})
        connections: set = set()
        server = serve(
            host=host, port=port, app=app, loop=loop, protocol=door, run_async=True, connections=connections, signal=Signal()
        )
        opened["server"] = await server  # raises (and Rasa exits) when the address is taken
        opened["connections"] = connections
        logger.info("Rasa's web channels also on http://%s:%d (public door: channels only)", host, port)

    async def close_door(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        server = opened.pop("server", None)
        if server is not None:
            server.close()
            await server.wait_closed()
            for connection in opened.pop("connections", ()):
                connection.close_if_idle()

    app.register_listener(open_door, "after_server_start")
    app.register_listener(close_door, "before_server_stop")


def install(host: str, port: int) -> None:
    """Makes Rasa's `configure_app` (run by `rasa run` in this process) guard the app it builds."""
    import rasa.core.run

    configure: Callable[..., Sanic] = rasa.core.run.configure_app

    def configure_app(*args, **kwargs) -> Sanic:
        app = configure(*args, **kwargs)
        guard(app, host, port)
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
