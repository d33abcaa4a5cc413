"""Rasa custom actions: answers built from the knowledge base, read through one repository.

Started by `rasa run actions --actions actions`; rasa-sdk registers every
Action subclass found in this package's modules.
"""
