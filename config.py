"""Settings, read from the environment (see .env.example and the README's table)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production


class Config:
    """Development defaults: everything runs embedded on one machine."""

    APP_ENV = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'portail.db'}"
    )
    # A database error's message never carries the statement's values (names, addresses),
    # whoever logs it (SECURITY.md checks 13 and 31).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_RATE_PER_IP = os.environ.get("LOGIN_RATE_PER_IP", "10 per minute")
    LOGIN_RATE_PER_ACCOUNT = os.environ.get("LOGIN_RATE_PER_ACCOUNT", "20 per hour")
    # A browser that signed in to a login before is judged by its own failures only.
    LOGIN_FAILURES_PER_BROWSER = os.environ.get("LOGIN_FAILURES_PER_BROWSER", "5 per 15 minutes")
    # How many reverse proxies sit in front of the app; X-Forwarded-For is trusted that deep only.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    MOLLIE_API_KEY = os.environ.get("MOLLIE_API_KEY", "test_simulator")
    # Development: the simulator `make run` starts (python -m mollie_simulator --port 5001).
    MOLLIE_API_ENDPOINT = os.environ.get("MOLLIE_API_ENDPOINT", "http://127.0.0.1:5001")
    # Per address: Mollie's retries never come near it; a flood does.
    MOLLIE_WEBHOOK_RATE = os.environ.get("MOLLIE_WEBHOOK_RATE", "120 per minute")
    # Seconds to wait for Mollie's API: the webhook answers 503 before Mollie gives up on it.
    MOLLIE_TIMEOUT_SECONDS = _env_int("MOLLIE_TIMEOUT_SECONDS", 5)
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(BASE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 10) * 1024 * 1024
    # What one family may keep on file, refused with a French message past either.
    DOCUMENT_QUOTA_MB = _env_int("DOCUMENT_QUOTA_MB", 50)
    DOCUMENT_QUOTA_FILES = _env_int("DOCUMENT_QUOTA_FILES", 100)
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Portail Famille <portail-famille@mairie.example>"
    )
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "false").lower() in ("1", "true", "yes")
    MAIL_TIMEOUT_SECONDS = _env_int("MAIL_TIMEOUT_SECONDS", 30)
    # Alert emails wait this long so that a burst of changes goes out as one message.
    MAIL_DIGEST_MINUTES = _env_int("MAIL_DIGEST_MINUTES", 5)
    # Retries back off from 1 min, doubling, capped at 6 h: 20 attempts span about 3 days.
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 20)
    # Spent sessions and used or expired links are kept this long, then purged by the jobs.
    PURGE_AFTER_DAYS = _env_int("PURGE_AFTER_DAYS", 30)
    COMMUNE_NAME = os.environ.get("COMMUNE_NAME", "Mairie de Saint-Exemple")
    # Who issues the invoices, receipts and tax certificates, as printed on their PDFs.
    COMMUNE_SERVICE = os.environ.get("COMMUNE_SERVICE", "Service des affaires scolaires")
    COMMUNE_ADDRESS = os.environ.get("COMMUNE_ADDRESS", "1 place de la Mairie")
    COMMUNE_POSTCODE_CITY = os.environ.get("COMMUNE_POSTCODE_CITY", "35999 Saint-Exemple")
    COMMUNE_SIRET = os.environ.get("COMMUNE_SIRET", "000 000 000 00017")
    COMMUNE_EMAIL = os.environ.get("COMMUNE_EMAIL", "affaires-scolaires@mairie.example")
    COMMUNE_PHONE = os.environ.get("COMMUNE_PHONE", "02 00 00 00 00")
    # How to pay at the mairie: cheques to the public treasurer, at the office's hours.
    PAYMENT_TREASURER = os.environ.get("PAYMENT_TREASURER", "Trésor public")
    PAYMENT_OFFICE_HOURS = os.environ.get(
        "PAYMENT_OFFICE_HOURS", "du lundi au vendredi de 8 h 30 à 12 h et de 13 h 30 à 17 h"
    )
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "portail_session"
    STAFF_IDLE_TIMEOUT_MINUTES = 30
    SESSION_ABSOLUTE_TIMEOUT_HOURS = 12
    RESET_TOKEN_HOURS = 2
    INVITATION_TOKEN_HOURS = 72
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    FLASK_ADMIN_SWATCH = "cerulean"
    BABEL_DEFAULT_LOCALE = "fr"
    DEBUG = False


class TestConfig(Config):
    """A throw-away database per test app; CSRF stays on so the tests prove it."""

    APP_ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_STORAGE_URI = "memory://"
    PUBLIC_BASE_URL = "https://portail.example"
    # Nothing listens there: a test that pays starts its own simulator and sets its URL.
    MOLLIE_API_ENDPOINT = "http://127.0.0.1:9"
    MAIL_SERVER = ""


class ProductionConfig(Config):
    """Refuses to start on unsafe settings (see validate)."""

    APP_ENV = "production"
    # Mollie's own API unless set (and set, it is refused: see validate).
    MOLLIE_API_ENDPOINT = os.environ.get("MOLLIE_API_ENDPOINT", "")
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @staticmethod
    def validate(config: dict) -> None:
        """Fail fast: no default secret, no simulator, no debug, no per-process limiter store."""
        if config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
            raise RuntimeError("SECRET_KEY must be set in production.")
        if not config["MOLLIE_API_KEY"].startswith("live_") and not config[
            "MOLLIE_API_KEY"
        ].startswith("test_"):
            raise RuntimeError("MOLLIE_API_KEY must be a Mollie key in production.")
        if config["MOLLIE_API_KEY"] == "test_simulator" or config["MOLLIE_API_ENDPOINT"]:
            raise RuntimeError("The Mollie simulator cannot be used in production.")
        if config.get("DEBUG"):
            raise RuntimeError("DEBUG must be off in production.")
        if _in_memory(config.get("RATELIMIT_STORAGE_URI")):
            raise RuntimeError(
                "RATELIMIT_STORAGE_URI must be a shared store in production "
                "(redis://host:6379/0): in memory, each gunicorn worker counts sign-in "
                "attempts alone and the limits multiply by the number of workers."
            )


def _in_memory(storage_uri: str | None) -> bool:
    """Flask-Limiter's default store, in one process's memory (empty means it too)."""
    uri = (storage_uri or "").strip().lower()
    return not uri or uri.startswith("memory://")


def config_for(env: str | None) -> type[Config]:
    """The settings class for APP_ENV."""
    return {"production": ProductionConfig, "test": TestConfig}.get(env or "", Config)
