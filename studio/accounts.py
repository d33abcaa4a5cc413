"""Studio accounts: argon2-hashed passwords, roles, lock-out after failed logins, and session revocation.

Roles: « rédacteur » edits the content (inbox, intents, training, knowledge base, dashboard, journal);
« rappels » sees the callback and transfer requests (names, numbers, summaries) and nothing else;
« administrateur » sees everything and manages the accounts. Each user has a session generation
(`session_epoch`) kept in the session cookie: raising it (logout, password change, deactivation)
ends every session opened before.
"""

from __future__ import annotations

import datetime as dt
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import get_settings
from store import tables
from store.tables import Base

ROLES = {"editor": "rédacteur", "callback": "rappels", "admin": "administrateur"}
ROLE_DESCRIPTIONS = {
    "editor": "Modifie le contenu : messages à traiter, intentions, entraînement et déploiement, base de connaissances, "
    "tableau de bord et journal. Ne voit pas les demandes de rappel.",
    "callback": "Voit la liste « Rappels » (demandes de rappel et transferts, avec les noms et les numéros à rappeler) "
    "et rien d'autre ; ne modifie aucun contenu.",
    "admin": "Voit et fait tout, y compris les rappels, et gère les comptes des autres utilisateurs.",
}
# The parts of the studio (blueprint names) each role opens; administrators open all of them.
AREAS = {
    "inbox": {"editor"},
    "intents": {"editor"},
    "pipeline": {"editor"},
    "knowledge": {"editor"},
    "dashboard": {"editor"},
    "audit": {"editor"},
    "handovers": {"callback"},
    "users": set(),
}
MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def password_hasher() -> PasswordHasher:
    """argon2id with the configured cost (4 lanes); the hashes already stored keep theirs until the next login."""
    settings = get_settings()
    return PasswordHasher(time_cost=settings.studio_password_passes, memory_cost=settings.studio_password_memory_kib, parallelism=4)


class AccountError(ValueError):
    """A refused account change; the message is French, for the person who asked."""


class User(Base):
    __table__ = tables.studio_users

    # What Flask-Login asks of a user object.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def can_open(self, area: str) -> bool:
        """Whether this user may open the part `area` (a blueprint name) of the studio."""
        return self.is_admin or self.role in AREAS.get(area, ())

    @property
    def home_area(self) -> str:
        return "inbox" if self.can_open("inbox") else "handovers"

    def get_id(self) -> str:
        return str(self.id)


def _now() -> dt.datetime:
    return dt.datetime.utcnow().replace(microsecond=0)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")


def create_user(session: Session, username: str, password: str, role: str) -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Identifiant invalide : 2 à 64 caractères parmi a-z, 0-9, « . », « _ » et « - ».")
    if role not in ROLES:
        raise AccountError(f"Rôle inconnu « {role[:40]} » : choisissez parmi {', '.join(ROLES)}.")
    check_password_strength(password)
    if find_user(session, username) is not None:
        raise AccountError(f"L'identifiant « {username} » existe déjà.")
    user = User(
        username=username, password_hash=password_hasher().hash(password), role=role, active=True, failed_logins=0, created_at=_now(), session_epoch=0
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """A new password; the sessions opened with the old one end."""
    check_password_strength(password)
    user.password_hash = password_hasher().hash(password)
    user.failed_logins = 0
    user.locked_until = None
    revoke_sessions(user)


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        revoke_sessions(user)


def revoke_sessions(user: User) -> None:
    """Ends every session of `user` opened until now (the session cookies carry the old generation)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username.strip().lower())).first()


def count_admins(session: Session) -> int:
    return len(session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))).all())


def authenticate(session: Session, username: str, password: str) -> User:
    """The user if the password is right; otherwise AccountError (the same message for an unknown user)."""
    refused = AccountError("Identifiant ou mot de passe incorrect.")
    # A name no account can have is not looked up (PostgreSQL refuses NUL characters in a query).
    user = find_user(session, username) if USERNAME.match(username.strip().lower()) else None
    if user is None or not user.active:
        password_hasher().hash(password)  # the same time as for a real account, so timing tells nothing
        raise refused
    now = _now()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountError(f"Compte bloqué après {MAX_FAILED_LOGINS} essais manqués : réessayez après {user.locked_until:%H:%M} UTC.")
    hasher = password_hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        raise refused from None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user
