"""Accounts management, for administrators only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from studio.accounts import ROLE_DESCRIPTIONS, ROLES, AccountError, User, count_admins, create_user, set_active, set_password
from studio.audit import record
from studio.auth import SESSION_EPOCH_KEY, admin_required
from studio.db import session_scope
from studio.web import current_settings

bp = Blueprint("users", __name__, url_prefix="/utilisateurs")


@bp.get("/")
@admin_required
def index():
    with session_scope(current_settings()) as db:
        users = list(db.scalars(select(User).order_by(User.username)))
        db.expunge_all()
    return render_template("users/index.html", users=users, roles=ROLES, descriptions=ROLE_DESCRIPTIONS, form={})


@bp.post("/")
@admin_required
def create():
    form = {"username": request.form.get("username", ""), "role": request.form.get("role", "editor")}
    try:
        with session_scope(current_settings()) as db:
            user = create_user(db, form["username"], request.form.get("password", ""), form["role"])
            record(db, current_user.username, "compte créé", user.username, {"rôle": user.role})
    except AccountError as exc:
        flash(str(exc), "error")
        with session_scope(current_settings()) as db:
            users = list(db.scalars(select(User).order_by(User.username)))
            db.expunge_all()
        return render_template("users/index.html", users=users, roles=ROLES, descriptions=ROLE_DESCRIPTIONS, form=form), 400
    flash(f"Compte « {user.username} » créé ({ROLES[user.role]}).", "success")
    return redirect(url_for("users.index"))


@bp.post("/<int(max=2147483647):user_id>")
@admin_required
def update(user_id: int):
    action = request.form.get("action")
    try:
        with session_scope(current_settings()) as db:
            user = db.get(User, user_id)
            if user is None:
                raise AccountError("Ce compte n'existe pas.")
            if action == "password":
                set_password(user, request.form.get("password", ""))
                record(db, current_user.username, "mot de passe changé", user.username)
                message = f"Mot de passe de « {user.username} » changé ; ses sessions ouvertes sont fermées."
                if user.id == current_user.id:  # the admin's other sessions end, this one goes on
                    session[SESSION_EPOCH_KEY] = user.session_epoch
            elif action in ("deactivate", "activate"):
                if action == "deactivate" and user.is_admin and count_admins(db) <= 1:
                    raise AccountError("Impossible de désactiver le dernier administrateur.")
                set_active(user, action == "activate")
                record(db, current_user.username, "compte activé" if user.active else "compte désactivé", user.username)
                message = f"Compte « {user.username} » {'activé' if user.active else 'désactivé'}."
            elif action == "role" and request.form.get("role") in ROLES:
                new_role = request.form["role"]
                if user.is_admin and new_role != "admin" and count_admins(db) <= 1:
                    raise AccountError("Impossible de retirer son rôle au dernier administrateur.")
                user.role = new_role
                record(db, current_user.username, "rôle changé", user.username, {"rôle": new_role})
                message = f"« {user.username} » est maintenant {ROLES[new_role]}."
            else:
                raise AccountError("Action inconnue.")
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("users.index"))
    flash(message, "success")
    return redirect(url_for("users.index"))
