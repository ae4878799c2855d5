"""Alerts -> messages to subscribers through Apprise."""
