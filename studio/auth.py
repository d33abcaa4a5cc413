"""Access rules: every page needs a login; each part of the studio needs a role (studio.accounts.AREAS)."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

SESSION_EPOCH_KEY = "_epoch"  # the user's session generation when the session was opened (studio.accounts)


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
