"""`python -m studio`: serves the studio with waitress on ACCUEIL_HOST:ACCUEIL_STUDIO_PORT."""

from __future__ import annotations

import logging

from waitress import serve

from accueil.settings import get_settings
from studio.app import create_app


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(create_app(settings), host=settings.host, port=settings.studio_port, threads=8, ident="accueil-studio")


if __name__ == "__main__":
    main()
