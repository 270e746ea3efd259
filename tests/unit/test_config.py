"""Settings come from the environment through typed parsers and fail fast, by name."""

from __future__ import annotations

import ipaddress

import pytest

from app import create_app
from app.config import ConfigError, load_config

GOOD_KEY = "k" * 48
PRODUCTION = {
    "CHORUS_ENV": "production",
    "SECRET_KEY": GOOD_KEY,
    "REDIS_URL": "redis://r:6379/0",
    "BASE_URL": "https://chorus.example.com",
}


def test_development_defaults(tmp_path):
    config = load_config(str(tmp_path), {})
    assert config["CHORUS_ENV"] == "development"
    assert config["SECRET_KEY"]  # a development key, so the app starts on a laptop
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'chorus.db'}"
    assert config["REDIS_URL"] == ""  # empty: the embedded Redis is started
    assert config["MAIL_BACKEND"] == "console"
    assert config["LOG_FORMAT"] == "text"
    assert config["COMPANY_TIME_ZONE"] == "Europe/Berlin"
    assert config["TRUSTED_PROXIES"] == ()
    assert config["SMTP_PORT"] == 587
    assert config["SMTP_STARTTLS"] is True
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["BASE_URL"] == "http://127.0.0.1:5000"


def test_production_defaults(tmp_path):
    config = load_config(str(tmp_path), PRODUCTION)
    assert config["SECRET_KEY"] == GOOD_KEY
    assert config["MAIL_BACKEND"] == "smtp"
    assert config["LOG_FORMAT"] == "json"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"SECRET_KEY": ""}, "SECRET_KEY is not set", id="no-secret"),
        pytest.param({"SECRET_KEY": "short"}, "SECRET_KEY is too short", id="short-secret"),
        pytest.param(
            {"SECRET_KEY": "development-only-secret-do-not-use-in-production"},
            "SECRET_KEY is the published development key",
            id="development-secret",
        ),
        pytest.param({"REDIS_URL": ""}, "REDIS_URL is not set", id="no-redis"),
    ],
)
def test_production_refuses_to_start(tmp_path, env, expected):
    with pytest.raises(ConfigError, match=expected):
        load_config(str(tmp_path), {**PRODUCTION, **env})


def test_missing_secret_says_why(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path), env)
    message = str(info.value)
    assert "signs sessions" in message
    assert "secrets.token_urlsafe" in message


def test_a_malformed_data_key_is_refused_without_showing_the_keys(tmp_path):
    keys = "a-data-key-that-is-long-enough-for-chorus-0001,short"
    with pytest.raises(ConfigError, match="DATA_KEYS is not valid: each key needs 32") as info:
        load_config(str(tmp_path), {"DATA_KEYS": keys})
    assert "short" not in str(info.value).replace("each key", "")
    assert "long-enough" not in str(info.value)
    config = load_config(str(tmp_path), {"DATA_KEYS": " " + keys.replace(",short", ", ") + " "})
    assert config["DATA_KEYS"] == ["a-data-key-that-is-long-enough-for-chorus-0001"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHORUS_ENV", "staging"),
        ("COMPANY_TIME_ZONE", "Mars/Olympus_Mons"),
        ("COMPANY_TIME_ZONE", "Europe"),  # a folder of the tz database, not a zone
        ("COMPANY_TIME_ZONE", "../../etc/passwd"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, not-a-network"),
        ("TRUSTED_PROXIES", "10.0.0.1/8"),  # host bits set: a typo, not a network
        ("SMTP_PORT", "five-eight-seven"),
        ("SMTP_PORT", "-1"),
        ("SMTP_PORT", "70000"),
        ("SMTP_STARTTLS", "maybe"),
        ("SESSION_COOKIE_SECURE", "yes please"),
        ("SIGN_IN_LINK_MAX_AGE", "15m"),
        ("SESSION_LIFETIME", "-5"),
        ("MAIL_BACKEND", "sendmail"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "LOUD"),
        ("REDIS_URL", "localhost:6379"),
        ("BASE_URL", "chorus.example.com"),
    ],
)
def test_malformed_values_name_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path), {name: value})
    assert name in str(info.value)
    assert repr(value) in str(info.value) or name == "CHORUS_ENV"


@pytest.mark.parametrize(
    ("name", "value", "key", "expected"),
    [
        ("COMPANY_TIME_ZONE", "America/New_York", "COMPANY_TIME_ZONE", "America/New_York"),
        ("SMTP_PORT", "2525", "SMTP_PORT", 2525),
        ("SMTP_STARTTLS", "off", "SMTP_STARTTLS", False),
        ("SMTP_STARTTLS", " YES ", "SMTP_STARTTLS", True),
        ("SESSION_COOKIE_SECURE", "1", "SESSION_COOKIE_SECURE", True),
        ("SIGN_IN_LINK_MAX_AGE", "300", "SIGN_IN_LINK_MAX_AGE", 300),
        ("MAIL_BACKEND", "SMTP", "MAIL_BACKEND", "smtp"),
        ("MAIL_BACKEND", "memory", "MAIL_BACKEND", "memory"),
        ("LOG_LEVEL", "debug", "LOG_LEVEL", "DEBUG"),
        ("LOG_FORMAT", "json", "LOG_FORMAT", "json"),
        ("BASE_URL", "https://chorus.example.com/", "BASE_URL", "https://chorus.example.com"),
        ("REDIS_URL", "rediss://cache:6380/1", "REDIS_URL", "rediss://cache:6380/1"),
        ("REDIS_URL", "unix:///run/redis.sock", "REDIS_URL", "unix:///run/redis.sock"),
        # An empty variable means "not set", as in most shells' env files.
        ("SMTP_PORT", "", "SMTP_PORT", 587),
    ],
)
def test_well_formed_values_are_parsed(tmp_path, name, value, key, expected):
    assert load_config(str(tmp_path), {name: value})[key] == expected


def test_trusted_proxies_are_networks(tmp_path):
    config = load_config(str(tmp_path), {"TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32,,127.0.0.1"})
    assert config["TRUSTED_PROXIES"] == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
        ipaddress.ip_network("127.0.0.1/32"),
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/chorus", "postgresql+psycopg://u:p@db:5432/chorus"),
        ("postgresql://u:p@db/chorus", "postgresql+psycopg://u:p@db/chorus"),
        ("postgresql+psycopg://u@db/chorus", "postgresql+psycopg://u@db/chorus"),
        ("sqlite:////var/lib/chorus.db", "sqlite:////var/lib/chorus.db"),
    ],
)
def test_database_urls_name_the_driver(tmp_path, url, expected):
    config = load_config(str(tmp_path), {"DATABASE_URL": url})
    assert config["SQLALCHEMY_DATABASE_URI"] == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CHORUS_ENV": "production", "REDIS_URL": "redis://127.0.0.1:1/0"}, "SECRET_KEY"),
        ({"CHORUS_ENV": "production", "SECRET_KEY": GOOD_KEY}, "REDIS_URL"),
    ],
)
def test_create_app_refuses_to_start_in_production(monkeypatch, tmp_path, env, expected):
    for name in ("SECRET_KEY", "REDIS_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        create_app()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "*"),
        ("https://intranet.example.com", "https://intranet.example.com"),
        ("  'self'   https://*.sharepoint.com  ", "'self' https://*.sharepoint.com"),
        ("https://portal.example.com:8443/start", "https://portal.example.com:8443/start"),
        ("https: intranet.example.com", "https: intranet.example.com"),
        ("'none'", "'none'"),
    ],
)
def test_the_widgets_frame_ancestors(tmp_path, value, expected):
    env = {} if value is None else {"INTRANET_FRAME_ANCESTORS": value}
    assert load_config(str(tmp_path), env)["INTRANET_FRAME_ANCESTORS"] == expected


@pytest.mark.parametrize(
    "value",
    [
        "https://intranet.example.com; script-src *",  # would open another directive
        "https://a.example.com,https://b.example.com",
        "'unsafe-inline'",
        "'none' https://intranet.example.com",
        "   ",
    ],
)
def test_frame_ancestors_that_could_widen_the_policy_are_refused(tmp_path, value):
    env = {"INTRANET_FRAME_ANCESTORS": value}
    with pytest.raises(ConfigError, match="INTRANET_FRAME_ANCESTORS"):
        load_config(str(tmp_path), env)
