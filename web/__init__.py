"""The web channel: the embeddable chat widget (built from src/ into dist/) and the server of its files and demo page."""
