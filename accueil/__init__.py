"""Accueil: an on-premises French assistant for hospital patients (chat and phone)."""

__version__ = "0.1.0"
