"""Command-line tasks: flask seed-demo | create-staff | ..."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every command group to the app."""
