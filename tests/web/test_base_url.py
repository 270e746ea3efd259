"""Links follow the host and port being served, unless BASE_URL says where Chorus is."""

from __future__ import annotations

import pytest
from flask import Flask

from app.config import ConfigError, load_config
from app.links import tracked_link
from app.urls import absolute_url, base_url

PRODUCTION = {"CHORUS_ENV": "production", "SECRET_KEY": "k" * 48, "REDIS_URL": "redis://r:6379/0"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:5000"),
        ({"PORT": "5001"}, "http://127.0.0.1:5001"),
        ({"HOST": "localhost", "PORT": "8080"}, "http://localhost:8080"),
        ({"HOST": "0.0.0.0", "PORT": "5001"}, "http://127.0.0.1:5001"),  # noqa: S104 - served on all
        ({"PORT": "5001", "BASE_URL": "https://chorus.example.com"}, "https://chorus.example.com"),
    ],
)
def test_outside_production_links_default_to_the_port_being_served(tmp_path, env, expected):
    assert load_config(str(tmp_path), env)["BASE_URL"] == expected


def test_production_needs_base_url(tmp_path):
    with pytest.raises(ConfigError, match="BASE_URL is not set"):
        load_config(str(tmp_path), PRODUCTION)
    config = load_config(str(tmp_path), {**PRODUCTION, "BASE_URL": "https://c.example.com"})
    assert config["BASE_URL"] == "https://c.example.com"


def test_in_a_request_links_follow_the_host_being_served(app: Flask):
    with app.test_request_context("/", base_url="http://127.0.0.1:5001"):
        assert base_url() == "http://127.0.0.1:5001"
        assert tracked_link(7).startswith("http://127.0.0.1:5001/l/")
        assert absolute_url("auth.sign_in") == "http://127.0.0.1:5001/sign-in"
    with app.app_context():  # a worker's mail or the CLI: no request to follow
        assert absolute_url("auth.sign_in") == app.config["BASE_URL"] + "/sign-in"


def test_a_configured_base_url_wins_over_the_request(app: Flask, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL_FROM_REQUEST", False)
    with app.test_request_context("/", base_url="http://127.0.0.1:5001"):
        assert base_url() == app.config["BASE_URL"]
        assert tracked_link(7).startswith(app.config["BASE_URL"] + "/l/")
