"""`python -m accueil.studio_serve`: serves the studio with waitress on ACCUEIL_HOST:ACCUEIL_STUDIO_PORT,
its pipeline page running the deployment flow of accueil/release.py."""

from __future__ import annotations

from waitress import serve

from accueil.release import studio_flow
from core.logs import configure as configure_logging
from core.settings import get_settings
from studio.app import create_app


def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    serve(create_app(settings, studio_flow()), host=settings.host, port=settings.studio_port, threads=8, ident="accueil-studio")


if __name__ == "__main__":
    main()
