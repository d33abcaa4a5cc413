"""Login and logout (which ends every session of the account), and the local-only redirect after login."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from studio.accounts import AccountError, User, authenticate, revoke_sessions
from studio.audit import record
from studio.auth import SESSION_EPOCH_KEY
from studio.db import session_scope
from studio.web import current_settings

bp = Blueprint("auth", __name__)


# Browsers drop tabs and newlines from URLs and read a backslash as a slash: « /\evil », « /<tab>/evil » mean //evil.
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect."""
    if not target or _UNSAFE_IN_PATH.search(target) or not target.startswith("/") or target.startswith("//"):
        return url_for("home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return url_for("home")
    return urlunsplit(("", "", parts.path, parts.query, ""))


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("home"))
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    with session_scope(current_settings()) as db:
        try:
            user = authenticate(db, username, password)
        except AccountError as exc:
            record(db, username.lower() or "anonyme", "connexion refusée", username[:200])
            error = str(exc)
            user = None
        else:
            record(db, user.username, "connexion")
            db.flush()
            db.expunge(user)
    if user is None:
        return render_template("auth/login.html", error=error, username=username, next=request.form.get("next", "")), 401
    session.clear()
    session.permanent = True  # expires after ACCUEIL_STUDIO_SESSION_MINUTES without activity
    session[SESSION_EPOCH_KEY] = user.session_epoch
    login_user(user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/deconnexion")
def logout():
    with session_scope(current_settings()) as db:
        record(db, current_user.username, "déconnexion")
        user = db.get(User, current_user.id)
        if user is not None:
            revoke_sessions(user)  # a copy of the cookie kept elsewhere no longer opens the studio
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
