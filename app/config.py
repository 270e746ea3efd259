"""Settings from the environment, parsed once at start-up.

Every setting has a typed parser; a missing or malformed value fails fast with a message
that names the variable. The README's configuration table lists the same variables.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "production", "test")
MAIL_BACKENDS = ("console", "files", "smtp", "memory")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
DEVELOPMENT_SECRET_KEY = "development-only-secret-do-not-use-in-production"  # noqa: S105


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and why."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("expected a whole number of 0 or more")
    return number


def _port(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 65535:
        raise ValueError("expected a port number from 1 to 65535")
    return number


def _choice(*choices: str, upper: bool = False) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = value.strip().upper() if upper else value.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse


def _base_url(value: str) -> str:
    value = value.strip().rstrip("/")
    # Mails and the CLI print links built on it; without a scheme they would not work.
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
        raise ValueError("expected an http:// or https:// address, e.g. https://chorus.example.com")
    return value


def _redis_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(REDIS_SCHEMES):
        raise ValueError(f"expected a URL starting with {', '.join(REDIS_SCHEMES)}")
    return value


def _networks(value: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())


# One source of a CSP source list: '*', 'self', 'none', a scheme ("https:"), or a host
# with an optional scheme, "*." wildcard, port and path. Nothing that could end the
# directive (";", ",") or open another.
_FRAME_SOURCE = re.compile(
    r"\*|'self'|'none'|[a-z][a-z0-9+.-]*:"
    r"|([a-z][a-z0-9+.-]*://)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?(/[^\s;,']*)?",
    re.IGNORECASE,
)


def _frame_ancestors(value: str) -> str:
    sources = value.split()
    if not sources:
        raise ValueError("expected at least one source")
    for source in sources:
        if not _FRAME_SOURCE.fullmatch(source):
            raise ValueError(
                f"{source!r} is not a frame-ancestors source, e.g. https://intranet.example.com"
            )
    if "'none'" in sources and len(sources) > 1:
        raise ValueError("'none' stands alone")
    return " ".join(sources)


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "Europe" is a folder
        raise ValueError("unknown IANA time zone") from exc
    return value


def _env(
    env: Mapping[str, str],
    name: str,
    parse: Callable[[str], Any],
    default: Any,
    secret: bool = False,
) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        shown = name if secret else f"{name}={raw!r}"  # a secret never goes to a log
        raise ConfigError(f"{shown} is not valid: {exc}") from exc


def _data_keys(value: str) -> list[str]:
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise ValueError("name one key at least")
    if any(len(key) < 32 for key in keys):
        raise ValueError("each key needs 32 characters at least")
    return keys


def _database_url(url: str) -> str:
    # Hosted platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def load_config(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from environment variables."""
    env = os.environ if env is None else env
    chorus_env = env.get("CHORUS_ENV", "development")
    if chorus_env not in ENVIRONMENTS:
        raise ConfigError(f"CHORUS_ENV={chorus_env!r} is not one of {', '.join(ENVIRONMENTS)}")
    production = chorus_env == "production"

    secret_key = env.get("SECRET_KEY", "")
    if not secret_key:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production Chorus signs sessions, sign-in links "
                "and tracked links with it; set it to a long random value, for example "
                "the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        secret_key = DEVELOPMENT_SECRET_KEY
    elif production and len(secret_key) < 32:
        raise ConfigError("SECRET_KEY is too short for production: use at least 32 characters")
    elif production and secret_key == DEVELOPMENT_SECRET_KEY:
        raise ConfigError("SECRET_KEY is the published development key: set your own")

    redis_url = _env(env, "REDIS_URL", _redis_url, "")
    if production and not redis_url:
        raise ConfigError("REDIS_URL is not set: production needs a Redis or Valkey server")

    # Links in mails, shares and the CLI's output. Production says where it is reached;
    # elsewhere the host and port being served: the request's, or HOST and PORT.
    base_url = _env(env, "BASE_URL", _base_url, "")
    if production and not base_url:
        raise ConfigError(
            "BASE_URL is not set: production needs the address people reach Chorus at, "
            "e.g. https://chorus.example.com"
        )
    host = (env.get("HOST") or "127.0.0.1").strip()
    if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 - served on every interface
        host = "127.0.0.1"
    served = f"http://{host}:{_env(env, 'PORT', _port, 5000)}"

    sqlite_default = f"sqlite:///{Path(instance_path) / 'chorus.db'}"
    cookie_secure = _env(env, "SESSION_COOKIE_SECURE", _bool, production)
    session_lifetime = timedelta(seconds=_env(env, "SESSION_LIFETIME", _int, 14 * 24 * 3600))
    return {
        "CHORUS_ENV": chorus_env,
        "SECRET_KEY": secret_key,
        # Seal the secrets kept in the database (app.sealed): the first key seals, each
        # opens. Empty: SECRET_KEY does.
        "DATA_KEYS": _env(env, "DATA_KEYS", _data_keys, [], secret=True),
        "SQLALCHEMY_DATABASE_URI": _database_url(env.get("DATABASE_URL") or sqlite_default),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Empty means: start the embedded Redis under instance/ (laptop default).
        "REDIS_URL": redis_url,
        "BASE_URL": base_url or served,
        "BASE_URL_FROM_REQUEST": not base_url,
        "COMPANY_NAME": env.get("COMPANY_NAME", "Chorus"),
        "COMPANY_TIME_ZONE": _env(env, "COMPANY_TIME_ZONE", _time_zone, "Europe/Berlin"),
        "SIGN_IN_LINK_MAX_AGE": _env(env, "SIGN_IN_LINK_MAX_AGE", _int, 15 * 60),
        "SIGN_IN_RATE_LIMIT": env.get("SIGN_IN_RATE_LIMIT", "5 per minute;30 per hour"),
        "TRUSTED_PROXIES": _env(env, "TRUSTED_PROXIES", _networks, ()),
        # Which pages may show the intranet widget in a frame (CSP frame-ancestors).
        "INTRANET_FRAME_ANCESTORS": _env(env, "INTRANET_FRAME_ANCESTORS", _frame_ancestors, "*"),
        # Intranet addresses that open nothing (unknown or revoked), per client address.
        "INTRANET_MISS_RATE_LIMIT": env.get("INTRANET_MISS_RATE_LIMIT", "60 per minute"),
        "MAIL_BACKEND": _env(
            env, "MAIL_BACKEND", _choice(*MAIL_BACKENDS), "smtp" if production else "console"
        ),
        "MAIL_DIR": env.get("MAIL_DIR") or str(Path(instance_path) / "mail"),  # for "files"
        "MAIL_FROM": env.get("MAIL_FROM", "Chorus <chorus@localhost>"),
        # Mails a second at most through the SMTP server (the outbox's rate limit).
        "MAIL_PER_SECOND": _env(env, "MAIL_PER_SECOND", _int, 10),
        # Deliveries a second at most to one webhook endpoint.
        "WEBHOOK_PER_SECOND": _env(env, "WEBHOOK_PER_SECOND", _int, 10),
        # Webhook endpoints on plain http or inside the network (localhost, private
        # addresses): for development and tests, never by default in production.
        "WEBHOOK_ALLOW_PRIVATE": _env(env, "WEBHOOK_ALLOW_PRIVATE", _bool, not production),
        "SMTP_HOST": env.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": _env(env, "SMTP_PORT", _port, 587),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _env(env, "SMTP_STARTTLS", _bool, True),
        "LOG_LEVEL": _env(env, "LOG_LEVEL", _choice(*LOG_LEVELS, upper=True), "INFO"),
        "LOG_FORMAT": _env(
            env, "LOG_FORMAT", _choice(*LOG_FORMATS), "json" if production else "text"
        ),
        # One lifetime and one policy for the session and the remember cookie.
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": session_lifetime,
        "REMEMBER_COOKIE_DURATION": session_lifetime,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # bound to the session instead of a clock
        # flask-smorest: the OpenAPI document at /api/openapi.json, no CDN-hosted UI.
        "API_TITLE": "Chorus API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "chorus:rl",
    }
