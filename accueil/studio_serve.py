"""`python -m studio`: serves the studio with waitress on ACCUEIL_HOST:ACCUEIL_STUDIO_PORT."""

from __future__ import annotations

from waitress import serve

from core.logs import configure as configure_logging
from core.settings import get_settings
from studio.app import create_app


def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    serve(create_app(settings), host=settings.host, port=settings.studio_port, threads=8, ident="accueil-studio")


if __name__ == "__main__":
    main()
