"""Rasa project of Accueil: config, domain, stories and rules, and Accueil's own NLU component."""
