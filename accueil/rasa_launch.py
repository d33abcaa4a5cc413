"""`python -m accueil.rasa_launch run ARGS…`: Rasa's own command line, with the API token kept off it.

Rasa reads its HTTP API's token only from `--auth-token`, and a process's command line is readable by
every local user (`ps`, /proc/PID/cmdline). So `accueil run` starts this module instead, with the token in
the environment variable ACCUEIL_RASA_API_TOKEN (readable by the same user only); the module takes it out
of its environment and calls Rasa's entry point in this same process with `--enable-api
--auth-token=TOKEN` added to `sys.argv`. The kernel's copy of the command line, the one `ps` reads, is the
one the process was started with, without the token. The `--auth-token=TOKEN` form is read by argparse as
one argument even when the token starts with `-`.
"""

from __future__ import annotations

import os
import sys

TOKEN_ENV = "ACCUEIL_RASA_API_TOKEN"


def rasa_argv(arguments: list[str], token: str | None) -> list[str]:
    """The command line Rasa parses: `rasa ARGS…`, plus the API and its token when there is one."""
    if any(a == "--auth-token" or a.startswith("--auth-token=") or a == "--enable-api" for a in arguments):
        raise SystemExit("accueil.rasa_launch: the API and its token come from ACCUEIL_RASA_API_TOKEN, not from arguments.")
    return ["rasa", *arguments, *(["--enable-api", f"--auth-token={token}"] if token else [])]


def main(arguments: list[str] | None = None) -> None:
    token = os.environ.pop(TOKEN_ENV, None) or None  # not passed on to anything Rasa starts
    sys.argv = rasa_argv(sys.argv[1:] if arguments is None else arguments, token)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
