"""Accueil's one store: the schema of every table it writes (`tables`), the one engine factory (`engine`) and the
one Alembic history (`migrations`, applied by `migrate`). It imports nothing of the project but `core`."""
