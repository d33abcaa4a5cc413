"""`python -m voice_gateway`: run the voice gateway (normally started by `accueil run`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.logs import configure as configure_logging
from core.settings import get_settings
from voice_gateway.models import ModelError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voice_gateway", description=__doc__)
    parser.add_argument("--phrases", type=Path, help="phrase list for recognition, one word or phrase per line")
    parser.add_argument("--no-sip", action="store_true", help="WebSocket calls only")
    parser.add_argument("--line", type=int, default=0, help="index of this process among ACCUEIL_VOICE_PROCESSES (its ports)")
    args = parser.parse_args(argv)
    settings = get_settings().voice_line(args.line)
    configure_logging(settings)
    from voice_gateway.gateway import serve

    try:
        asyncio.run(serve(settings, phrases_file=args.phrases, sip=not args.no_sip))
    except ModelError as exc:
        print(f"The voice gateway cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
