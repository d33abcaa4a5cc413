"""`GET /metrics`: Accueil's Prometheus metrics, every process added up (`core.metrics`).

Outside the login (Prometheus has no account), but never open: the request must carry
`Authorization: Bearer <token>`, the token being `ACCUEIL_METRICS_TOKEN` or, when unset, a random
one generated once and kept in VAR_DIR/metrics_token (mode 600) for Prometheus to read.
"""

from __future__ import annotations

import hmac

from flask import Response, request
from prometheus_client import CONTENT_TYPE_LATEST

from core.metrics import render
from core.secret_files import metrics_token
from core.settings import Settings


def authorised(settings: Settings) -> bool:
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {metrics_token(settings)}".encode())


def metrics_response(settings: Settings) -> Response:
    if not authorised(settings):
        return Response("Jeton manquant ou invalide.\n", status=401, mimetype="text/plain", headers={"WWW-Authenticate": "Bearer"})
    response = Response(render(settings.metrics_dir), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
