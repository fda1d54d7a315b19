"""Every setting of the mall, read from the environment in one place (documented in README)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def var_dir() -> Path:
    """The writable folder for the SQLite file, the search index and the secret key."""
    path = Path(os.environ.get("MALL_VAR_DIR") or PROJECT_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(folder: Path) -> str:
    """Take SECRET_KEY from the environment, else a key generated once into var/ (never committed)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Let operators write postgres:// or postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_settings() -> dict:
    """Read every setting from the environment with a safe default."""
    folder = var_dir()
    idle_minutes = _int("SESSION_IDLE_MINUTES", 30)
    return {
        "MALL_VAR_DIR": str(folder),
        "SECRET_KEY": _secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'mall.db'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SEARCH_BACKEND": os.environ.get("SEARCH_BACKEND", "tantivy"),
        "MEILI_URL": os.environ.get("MEILI_URL", ""),
        "MEILI_KEY": os.environ.get("MEILI_KEY", ""),
        "STRIPE_API_KEY": os.environ.get("STRIPE_API_KEY", "sk_test_localstripe"),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:8420"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_localstripe"),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe"),
        "STRIPE_TIMEOUT_SECONDS": float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "30")),
        "STRIPE_MAX_NETWORK_RETRIES": int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2")),
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "noreply@mall.example.cn"),
        "SCHEDULER_ENABLED": _bool("SCHEDULER_ENABLED", False),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=idle_minutes),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle_minutes),
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("LOGIN_LOCK_MINUTES", 15),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "20 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "WTF_CSRF_ENABLED": _bool("WTF_CSRF_ENABLED", True),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": os.environ.get("MALL_DEFAULT_LOCALE", "zh_Hans_CN"),
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "mall" / "translations"),
        "PRICE_RATIO_LIMIT_PCT": _int("PRICE_RATIO_LIMIT_PCT", 130),
        "IMPORT_MAX_BYTES": _int("IMPORT_MAX_MB", 512) * 1024 * 1024,
        # Any request body: the largest import plus its multipart envelope (Werkzeug answers 413).
        "MAX_CONTENT_LENGTH": _int("IMPORT_MAX_MB", 512) * 1024 * 1024 + 64 * 1024,
        # The audit chain's anchors: signed outside the database (mall/core/audit_anchor.py).
        "AUDIT_SIGNING_KEY_FILE": os.environ.get("AUDIT_SIGNING_KEY_FILE")
        or str(folder / "audit_signing_key.pem"),
        "AUDIT_PUBLIC_KEY_FILE": os.environ.get("AUDIT_PUBLIC_KEY_FILE", ""),
        "AUDIT_ANCHOR_DIR": os.environ.get("AUDIT_ANCHOR_DIR") or str(folder / "audit-anchors"),
        "DEMO_PASSWORD": os.environ.get("DEMO_PASSWORD", "Mall-Demo-2026"),
        # A unit may ask to return accepted goods for this many days after the acceptance.
        "RETURN_WINDOW_DAYS": _int("RETURN_WINDOW_DAYS", 7),
        # Open data: the OCDS ocid prefix registered for this mall, and the publisher's name.
        "OCDS_OCID_PREFIX": os.environ.get("OCDS_OCID_PREFIX", "ocds-mall01"),
        "OCDS_PUBLISHER_NAME": os.environ.get("OCDS_PUBLISHER_NAME", "政府采购电子卖场"),
        # Requests a bank's API client may make to the financing feed.
        "FINANCE_RATE_LIMIT": os.environ.get("FINANCE_RATE_LIMIT", "120 per minute"),
        # flask-smorest: the OpenAPI document lives at /api/v1/openapi.json
        "API_TITLE": "Government online mall API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
    }
