"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from studio.accounts import AccountError, authenticate
from studio.audit import record
from studio.db import session_scope
from studio.web import current_settings

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home")


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
            record(db, username.lower() or "anonyme", "connexion refusée", username)
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
    login_user(user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/deconnexion")
def logout():
    with session_scope(current_settings()) as db:
        record(db, current_user.username, "déconnexion")
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
