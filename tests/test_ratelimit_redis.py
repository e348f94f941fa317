"""With Redis as the limiter's storage, the login throttle holds across app workers."""

from __future__ import annotations

import pytest

from app import create_app
from extensions import db
from tests.conftest import csrf_token
from tests.services_redis import start_redis


@pytest.fixture
def redis_url(tmp_path):
    process, url = start_redis(tmp_path)
    yield url
    process.terminate()
    process.wait(timeout=10)


def _worker(app, redis_url):
    """A second app instance, as a second gunicorn worker would be, sharing Redis."""
    worker = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            "RATELIMIT_STORAGE_URI": redis_url,
        }
    )
    with worker.app_context():
        db.create_all()  # an in-memory SQLite is per app; on PostgreSQL this is a no-op
    return worker.test_client()


def _wrong_login(client):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": "inconnu", "password": "mauvais-mot-de-passe", "csrf_token": token},
    ).status_code


def test_two_workers_share_the_login_count(app, redis_url):
    first, second = _worker(app, redis_url), _worker(app, redis_url)
    statuses = [_wrong_login(first if n % 2 else second) for n in range(10)]
    assert statuses == [200] * 10
    assert _wrong_login(first) == 429
    assert _wrong_login(second) == 429
