"""The studio's Flask application: sessions with expiry and revocation, CSRF protection, logins, roles, security headers.

HTTPS is declared by ACCUEIL_STUDIO_HTTPS (the TLS reverse proxy's configuration), not guessed from
X-Forwarded-Proto: then the session cookie is Secure and pages carry HSTS.
"""

from __future__ import annotations

import datetime as dt
import importlib

from flask import Flask, abort, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from core.secret_files import generated_secret
from core.settings import Settings
from studio.auth import SESSION_EPOCH_KEY
from studio.db import init_db, session_scope
from studio.flow import EXTENSION as FLOW_EXTENSION
from studio.flow import DeploymentFlow
from studio.jobs import mark_interrupted
from studio.metrics import metrics_response

BLUEPRINTS = ("auth", "users", "audit", "inbox", "intents", "pipeline", "knowledge", "dashboard", "handovers")
PUBLIC_ENDPOINTS = {"auth.login", "static", "health", "metrics"}  # /metrics has its own token (studio/metrics.py)
HSTS = "max-age=31536000"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept in VAR_DIR (readable by this user only)."""
    return settings.studio_secret_key or generated_secret(settings.var_dir / "studio_secret")


def create_app(settings: Settings, flow: DeploymentFlow | None = None) -> Flask:
    """The studio on `settings`; the pipeline pages need the deployment `flow` (studio/flow.py), the others do not."""
    app = Flask(__name__)
    app.extensions["accueil_settings"] = settings
    if flow is not None:
        app.extensions[FLOW_EXTENSION] = flow
    app.config.update(
        SECRET_KEY=secret_key(settings),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.studio_session_minutes),
        SESSION_COOKIE_NAME="accueil_studio",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.studio_https,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    init_db(settings)
    mark_interrupted(settings)  # after a crash or a kill -9: no job left « en cours »
    csrf = CSRFProtect(app)
    _login_manager(app, settings)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"studio.views.{name}").bp)
    _guard(app, settings)
    _errors(app)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/metrics")
    @csrf.exempt
    def metrics():
        return metrics_response(settings)

    @app.get("/")
    def home():
        return redirect(url_for(f"{current_user.home_area}.index"))

    return app


def _login_manager(app: Flask, settings: Settings) -> None:
    from studio.accounts import User

    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Connectez-vous pour accéder au studio."
    manager.login_message_category = "info"
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(user_id: str):
        with session_scope(settings) as db:
            user = db.get(User, int(user_id))
            if user is not None:
                db.expunge(user)
        if user is None or not user.active or session.get(SESSION_EPOCH_KEY) != user.session_epoch:
            return None  # deactivated, or the session was revoked (logout, password change)
        return user


def _guard(app: Flask, settings: Settings) -> None:
    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        if request.blueprint and not current_user.can_open(request.blueprint) and request.blueprint != "auth":
            abort(403)
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if settings.studio_https or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _errors(app: Flask) -> None:
    messages = {
        400: "Requête invalide.",
        403: "Votre rôle ne donne pas accès à cette page. Demandez-le à un administrateur du studio si vous en avez besoin.",
        404: "Page introuvable.",
        413: "Envoi trop volumineux.",
        500: "Une erreur interne est survenue ; rien n'a été perdu de ce qui était enregistré. Réessayez ou prévenez l'équipe informatique.",
    }

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = "Le formulaire a expiré ou ne vient pas du studio (jeton CSRF manquant ou invalide). Rechargez la page et recommencez."
        return render_template("error.html", code=400, message=message), 400

    for code, message in messages.items():
        app.register_error_handler(code, lambda error, code=code, message=message: (render_template("error.html", code=code, message=message), code))
