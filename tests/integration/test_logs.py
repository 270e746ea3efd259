"""One structured line per request, naming the route, never the token or the address."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from app.logs import JsonFormatter, TextFormatter
from tests.factories import EmployeeFactory

CLIENT = {"REMOTE_ADDR": "203.0.113.77"}
FORWARDED = {"X-Forwarded-For": "198.51.100.23"}


@pytest.fixture
def logged() -> Iterator:
    """Call after the requests: the JSON lines written to chorus.request meanwhile."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("chorus.request")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("path", "route", "status"),
    [
        ("/sign-in/secret.token-value", "/sign-in/<token>", 400),
        ("/healthz", "/healthz", 200),
        ("/no/such/page-secret.token-value", None, 404),
    ],
)
def test_one_line_per_request_with_the_route_pattern(client, logged, path, route, status):
    response = client.get(path, environ_base=CLIENT, headers=FORWARDED)
    assert response.status_code == status
    lines = logged()
    assert len(lines) == 1
    line = lines[0]
    assert line["logger"] == "chorus.request"
    assert line["method"] == "GET"
    assert line["route"] == route
    assert line["status"] == status
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert len(line["request_id"]) == 32
    text = json.dumps(line)
    assert "secret.token-value" not in text
    assert "203.0.113" not in text
    assert "198.51.100" not in text
    assert not {"ip", "remote_addr", "path", "url", "user_agent"} & line.keys()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("req-123.abc_DEF", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("abc user_id=1", False),
        ('"}, {"forged": 1', False),
        ("", False),
    ],
)
def test_a_callers_request_id_is_kept_only_when_plain(client, logged, given, kept):
    response = client.get("/healthz", headers={"X-Request-ID": given})
    request_id = logged()[0]["request_id"]
    assert response.headers["X-Request-ID"] == request_id
    assert (request_id == given) is kept


def test_the_signed_in_user_is_named_by_id(app, client, logged):
    from tests.conftest import sign_in

    with app.app_context():
        employee = EmployeeFactory()
        employee_id = employee.id
        sign_in(client, employee)
    client.get("/me")  # a page that loads the signed-in user
    assert logged()[0]["user_id"] == str(employee_id)


def test_logging_does_not_load_the_user_itself(app, client, logged):
    """Public hot paths never look the user up; the log line must not either."""
    from tests.conftest import sign_in

    with app.app_context():
        sign_in(client, EmployeeFactory())
    client.get("/healthz")
    assert logged()[0]["user_id"] is None


def test_text_format_appends_fields():
    record = logging.LogRecord("chorus.request", logging.INFO, "", 0, "request", None, None)
    record.fields = {"status": 200, "route": "/healthz"}
    line = TextFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == "INFO chorus.request: request status=200 route=/healthz"


@pytest.fixture
def every_log() -> Iterator:
    """Everything any logger writes meanwhile (Chorus, RQ, Werkzeug, SQLAlchemy...),
    at every level, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("chorus"), logging.getLogger("rq")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield stream.getvalue
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def test_no_log_holds_a_sign_in_token_a_link_token_or_an_address(
    app, client, every_log, run_jobs, outbox
):
    """A whole sign-in and a click on a tracked link, through the worker's jobs too."""
    import re

    from app.links import make_token
    from tests.conftest import csrf_token
    from tests.factories import ContentItemFactory, ShareFactory

    with app.app_context():
        employee = EmployeeFactory(email="mira@example.com")
        nonce = employee.login_nonce
        share = ShareFactory(content=ContentItemFactory())
        link_token = make_token(share.id)
    seen = {"client": CLIENT, "headers": FORWARDED}
    client.post(
        "/sign-in",
        data={"csrf_token": csrf_token(client), "email": "mira@example.com"},
        environ_base=seen["client"],
        headers=seen["headers"],
    )
    run_jobs()  # the worker mails the link
    path = re.search(r"http://localhost(/sign-in/\S+)", outbox[-1].get_content()).group(1)
    sign_in_token = path.rsplit("/", 1)[1]
    client.get(path, environ_base=CLIENT, headers=FORWARDED)
    signed_in = client.post(
        path, data={"csrf_token": csrf_token(client)}, environ_base=CLIENT, headers=FORWARDED
    )
    assert signed_in.status_code == 302
    click = app.test_client().get(
        f"/l/{link_token}",
        environ_base=CLIENT,
        headers={**FORWARDED, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"},
    )
    assert click.status_code == 302
    run_jobs()  # the clock's click processing, as the worker runs it
    text = every_log()
    assert "route=/sign-in/<token>" in text  # the capture works: request lines are in it
    assert "endpoint=tracked_link" in text  # the click's request line too
    for secret in (sign_in_token, link_token, nonce, "203.0.113", "198.51.100"):
        assert secret not in text, secret
