"""The shared ground of Accueil: settings, logs, metrics, secrets, pseudonyms, masking and the names and texts
every part agrees on.

The rule: `core` imports nothing of the project but itself, so any package may import it and none is
imported back (tests/test_architecture.py checks it).
"""
