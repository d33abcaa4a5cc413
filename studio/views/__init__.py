"""The studio's pages, one blueprint per area."""
