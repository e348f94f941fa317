"""SECURITY.md checks 3 and 12: production starts only on settings safe for several workers.

Each gunicorn worker counts sign-in attempts alone in an in-memory store (measured: the
first 429 at attempt 25 instead of 11 with 4 workers), so production refuses it.
"""

from __future__ import annotations

import pytest

from app import create_app

PRODUCTION = {
    "APP_ENV": "production",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "MOLLIE_API_KEY": "live_exampleexampleexample",
}


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    monkeypatch.setenv("UPLOAD_FOLDER", str(tmp_path))


@pytest.mark.parametrize("storage", ["memory://", "", "  memory://  ", "MEMORY://"])
def test_production_refuses_an_in_memory_rate_limit_store(storage, tmp_path):
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI") as refused:
        create_app({**PRODUCTION, "RATELIMIT_STORAGE_URI": storage, "UPLOAD_FOLDER": str(tmp_path)})
    assert "redis://" in str(refused.value)


def test_production_starts_with_a_shared_store(tmp_path):
    storage = "redis://127.0.0.1:6379/0"  # not reached: nothing is throttled here
    production = create_app(
        {**PRODUCTION, "RATELIMIT_STORAGE_URI": storage, "UPLOAD_FOLDER": str(tmp_path)}
    )
    assert production.config["RATELIMIT_STORAGE_URI"] == storage


def test_development_and_tests_keep_the_in_memory_store(tmp_path):
    for env in ("development", "test"):
        app = create_app(
            {"APP_ENV": env, "SQLALCHEMY_DATABASE_URI": "sqlite://", "UPLOAD_FOLDER": str(tmp_path)}
        )
        assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
