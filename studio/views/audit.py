"""The audit log page: every change, who made it and when."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from studio.audit import recent
from studio.db import session_scope
from studio.web import current_settings

bp = Blueprint("audit", __name__, url_prefix="/journal")


@bp.get("/")
def index():
    username = request.args.get("utilisateur") or None
    with session_scope(current_settings()) as db:
        entries = recent(db, limit=500, username=username)
        db.expunge_all()
    return render_template("audit/index.html", entries=entries, username=username or "")
