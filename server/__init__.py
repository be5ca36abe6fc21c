"""The central server: sync endpoints, head-office API, storage (and later the books)."""

from server.app import create_app

__all__ = ["create_app"]
