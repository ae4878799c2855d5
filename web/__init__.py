"""The analyst's console: server-rendered pages, a JSON API and Atom feeds over the store.

It reads the store through `db` and speaks the `core` vocabulary; only `flows` starts it
(`watchfloor web`) and hands it its settings.
"""

from web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
