"""The web server: the widget's built files, its configuration, and the demo hospital's pages.

GET /widget/accueil-widget.js|.css   the widget, built by `make web` into web/dist
GET /widget/accueil-call-worklet.js  the audio call's microphone capture (an AudioWorklet module)
GET /widget/config.json              link allow-list, message length limit and the voice gateway's
                                     WebSocket address (the « Appeler » button), from Accueil's settings
GET /, /infos-pratiques.html, …      the demo site of the CH Valmont, with the widget tag
GET /health                          readiness

Every asset is served from here: nothing is fetched from a third party, so the
widget works on a hospital intranet without internet.
"""

from __future__ import annotations

import html
import logging
import mimetypes
import sys
from pathlib import Path
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse

from core.logs import configure as configure_logging
from core.settings import Settings, get_settings

WEB_DIR = Path(__file__).resolve().parent
DIST_DIR = WEB_DIR / "dist"
DEMO_DIR = WEB_DIR / "demo"
WIDGET_FILES = ("accueil-widget.js", "accueil-widget.css", "accueil-call-worklet.js", "accueil-widget.js.map")
SERVER_PLACEHOLDER = "__ACCUEIL_SERVER__"

log = logging.getLogger(__name__)


class WidgetNotBuilt(RuntimeError):
    pass


def content_security_policy(rasa_url: str, voice_url: str | None = None) -> str:
    """The demo pages may load only their own files and talk only to Rasa (and to the voice gateway's calls).

    The audio call's worklet is a file of this server, allowed by script-src 'self' (a blob: one would not be).
    """
    parts = urlsplit(rasa_url)
    ws = "wss" if parts.scheme == "https" else "ws"
    rasa = f"{parts.scheme}://{parts.netloc}"
    voice = f" {voice_url}" if voice_url else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        f"connect-src 'self' {rasa} {ws}://{parts.netloc}{voice}; frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
    )


def widget_config(settings: Settings) -> dict:
    """What the widget reads at start: `voice_url` (the call button) only when the voice gateway is switched on.

    Whether the gateway actually started is not known here: the widget says so if its socket does not answer.
    """
    config: dict = {"link_hosts": settings.link_hosts, "max_length": settings.max_message_length}
    if settings.voice_enabled:
        config["voice_url"] = settings.voice_url
    return config


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def create_app(settings: Settings) -> Sanic:
    missing = [name for name in WIDGET_FILES[:3] if not (DIST_DIR / name).is_file()]
    if missing:
        raise WidgetNotBuilt(f"The widget is not built ({', '.join(missing)} missing in {DIST_DIR}): run `make web`.")

    app = Sanic("accueil_web")
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes  # it serves GETs only: no body needs more
    config = widget_config(settings)
    csp = content_security_policy(settings.rasa_url, config.get("voice_url"))
    server_attribute = html.escape(settings.rasa_url, quote=True)

    def file_response(path: Path, cache: str, extra: dict | None = None) -> HTTPResponse:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "image/svg+xml"):
            content_type += "; charset=utf-8"
        headers = {**SECURITY_HEADERS, "Cache-Control": cache, **(extra or {})}
        return response.raw(path.read_bytes(), content_type=content_type, headers=headers)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/widget/config.json")
    async def config_json(_: Request) -> HTTPResponse:
        return response.json(config, headers={**SECURITY_HEADERS, "Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})

    @app.get("/widget/<name:str>")
    async def widget_file(_: Request, name: str) -> HTTPResponse:
        if name not in WIDGET_FILES:
            raise NotFound("Fichier inconnu.")
        # Any site may embed the widget; no-cache makes browsers revalidate after an upgrade.
        return file_response(DIST_DIR / name, "no-cache", {"Access-Control-Allow-Origin": "*"})

    @app.get("/")
    async def home(request: Request) -> HTTPResponse:
        return await demo_file(request, "index.html")

    @app.get("/<name:str>")
    async def demo_file(_: Request, name: str) -> HTTPResponse:
        path = (DEMO_DIR / name).resolve()
        if path.parent != DEMO_DIR or not path.is_file():
            raise NotFound("Page introuvable.")
        if path.suffix != ".html":
            return file_response(path, "no-cache")
        page = path.read_text(encoding="utf-8").replace(SERVER_PLACEHOLDER, server_attribute)
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp, "Cache-Control": "no-cache"}
        return response.html(page, headers=headers)

    return app


def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    try:
        app = create_app(settings)
    except WidgetNotBuilt as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    app.run(host=settings.public_host, port=settings.web_port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
