"""What every view needs from the running application: its settings."""

from __future__ import annotations

from flask import current_app

from core.settings import Settings


def current_settings() -> Settings:
    return current_app.extensions["accueil_settings"]
