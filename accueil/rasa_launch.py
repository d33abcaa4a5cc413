"""`python -m accueil.rasa_launch run ARGS…`: Rasa's own command line, with the API token kept off it.

Rasa reads its HTTP API's token only from `--auth-token`, and a process's command line is readable by
every local user (`ps`, /proc/PID/cmdline). So `accueil run` starts this module instead, with the token in
the environment variable ACCUEIL_RASA_API_TOKEN (readable by the same user only); the module takes it out
of its environment and calls Rasa's entry point in this same process with `--enable-api
--auth-token=TOKEN` added to `sys.argv`. The kernel's copy of the command line, the one `ps` reads, is the
one the process was started with, without the token. The `--auth-token=TOKEN` form is read by argparse as
one argument even when the token starts with `-`.

`--public-interface HOST --public-port PORT` open Rasa's web channels, and nothing else, on the public bind
as well, and `--shared-api-port PORT` the API door the replicas share (accueil/public_door.py).

While the action server is away, every custom action gets the polite answer of `core.degraded` instead of
an empty reply.

It also caps every request body at ACCUEIL_MAX_REQUEST_BYTES (16 kB): Accueil's own uses of the API
(`PUT /model` with a file path, `/conversations/…/execute`) are small JSON bodies.
"""

from __future__ import annotations

import os
import sys

from accueil import action_guard, public_door
from core.settings import get_settings

TOKEN_ENV = "ACCUEIL_RASA_API_TOKEN"


def rasa_argv(arguments: list[str], token: str | None) -> list[str]:
    """The command line Rasa parses: `rasa ARGS…`, plus the API and its token when there is one."""
    if any(a == "--auth-token" or a.startswith("--auth-token=") or a == "--enable-api" for a in arguments):
        raise SystemExit("accueil.rasa_launch: the API and its token come from ACCUEIL_RASA_API_TOKEN, not from arguments.")
    return ["rasa", *arguments, *(["--enable-api", f"--auth-token={token}"] if token else [])]


def main(arguments: list[str] | None = None) -> None:
    token = os.environ.pop(TOKEN_ENV, None) or None  # not passed on to anything Rasa starts
    arguments, public = public_door.split_arguments(sys.argv[1:] if arguments is None else arguments)
    arguments, shared_api = public_door.split_shared_api(arguments)
    sys.argv = rasa_argv(arguments, token)
    if public is not None:  # the web channels on the public bind too, the API not (accueil/public_door.py)
        public_door.install(*public, shared_api=shared_api, token=token)
    elif shared_api is not None:
        raise SystemExit("accueil.rasa_launch: --shared-api-port goes with --public-interface and --public-port.")
    # Sanic reads its settings from SANIC_* variables when Rasa creates the app: bodies over the limit get a 413.
    os.environ["SANIC_REQUEST_MAX_SIZE"] = str(get_settings().max_request_bytes)
    # An action that fails (its action server away) answers politely instead of leaving the reply empty.
    action_guard.install(get_settings())
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
