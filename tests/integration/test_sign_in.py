"""Magic-link sign-in: queued by mail job, timed, single use."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.errors import InvalidInput
from app.extensions import db
from app.jobs import send_sign_in_link
from app.queue import queue
from app.services import sign_in
from tests.factories import EmployeeFactory


def wait_off_a_minute_boundary() -> None:
    """Link jobs are unique per minute; keep two requests inside the same one."""
    if time.time() % 60 > 58.5:
        time.sleep(60 - time.time() % 60 + 0.1)


def token_of(url: str) -> str:
    path = urlsplit(url).path
    assert path.startswith("/sign-in/")
    return path.removeprefix("/sign-in/")


def old_token(app, employee, age: int) -> str:
    """A token signed ``age`` seconds ago, with the real salt and key."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=sign_in.SALT, signer=PastSigner
    )
    return serializer.dumps({"e": employee.id, "n": employee.login_nonce})


@pytest.mark.parametrize("email", ["nobody@example.com", "inactive@example.com"])
def test_no_link_for_unknown_or_inactive_addresses(ctx, email):
    EmployeeFactory(email="inactive@example.com", active=False)
    sign_in.request_sign_in_link(email)
    assert queue("mail").count == 0


def test_a_known_address_queues_one_mail_job(ctx):
    employee = EmployeeFactory(email="jana@example.com")
    wait_off_a_minute_boundary()
    sign_in.request_sign_in_link("jana@example.com")
    sign_in.request_sign_in_link(" JANA@example.com ")
    jobs = queue("mail").get_jobs()
    assert len(jobs) == 1
    assert queue("default").count == 0
    job = jobs[0]
    digest = hashlib.sha256(employee.login_nonce.encode()).hexdigest()[:16]
    assert job.id == f"sign-in-{employee.id}-{digest}-{int(time.time() // 60)}"
    assert job.func_name == "app.jobs.send_sign_in_link"
    assert job.args == [employee.id, employee.login_nonce]


def test_the_page_to_go_on_to_travels_with_the_job_into_the_link(ctx, run_jobs, outbox):
    employee = EmployeeFactory(email="jana@example.com")
    db.session.commit()
    sign_in.request_sign_in_link("jana@example.com", "/content/7/share")
    [job] = queue("mail").get_jobs()
    assert job.args == [employee.id, employee.login_nonce, "/content/7/share"]
    run_jobs()
    url = re.search(r"http://localhost/sign-in/\S+", outbox[0].get_content()).group(0)
    assert url.endswith("?next=/content/7/share")
    assert sign_in.check_sign_in_token(token_of(url.split("?")[0])).id == employee.id


def test_the_job_mails_a_working_link(ctx, run_jobs, outbox):
    employee = EmployeeFactory(email="jana@example.com", name="Jana Kraus")
    db.session.commit()
    sign_in.request_sign_in_link("jana@example.com")
    run_jobs()
    assert len(outbox) == 1
    mail = outbox[0]
    assert mail["To"] == "jana@example.com"
    body = mail.get_content()
    assert "Jana Kraus" in body
    url = re.search(r"http://localhost/sign-in/\S+", body).group(0)
    assert sign_in.check_sign_in_token(token_of(url)).id == employee.id
    assert queue("mail").count == 0


def test_consume_works_once(ctx):
    employee = EmployeeFactory()
    db.session.commit()
    token = token_of(sign_in.sign_in_url(employee))
    nonce = employee.login_nonce
    assert sign_in.check_sign_in_token(token) is employee  # checking does not spend it
    signed_in = sign_in.consume_sign_in_token(token)
    db.session.commit()
    assert signed_in.id == employee.id
    assert signed_in.login_nonce != nonce
    assert signed_in.last_sign_in_at is not None
    for attempt in (sign_in.check_sign_in_token, sign_in.consume_sign_in_token):
        with pytest.raises(InvalidInput, match="already used"):
            attempt(token)


def test_a_sign_in_kills_every_other_link(ctx):
    employee = EmployeeFactory()
    first = sign_in.make_sign_in_token(employee)
    second = old_token(ctx, employee, 5)
    assert first != second
    sign_in.consume_sign_in_token(second)
    with pytest.raises(InvalidInput, match="already used"):
        sign_in.check_sign_in_token(first)


@pytest.mark.parametrize(
    ("age", "max_age", "valid"),
    [(0, 900, True), (899, 900, True), (901, 900, False), (3600, 900, False), (30, 10, False)],
)
def test_links_expire(ctx, monkeypatch, age, max_age, valid):
    monkeypatch.setitem(ctx.config, "SIGN_IN_LINK_MAX_AGE", max_age)
    employee = EmployeeFactory()
    token = old_token(ctx, employee, age)
    if valid:
        assert sign_in.consume_sign_in_token(token) is employee
    else:
        with pytest.raises(InvalidInput, match="expired"):
            sign_in.consume_sign_in_token(token)


def tamper(token: str) -> str:
    payload, _, rest = token.partition(".")
    return payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda app, e: tamper(sign_in.make_sign_in_token(e)), id="payload"),
        pytest.param(lambda app, e: sign_in.make_sign_in_token(e)[:-3] + "abc", id="signature"),
        pytest.param(lambda app, e: "garbage", id="garbage"),
        pytest.param(lambda app, e: "", id="empty"),
        pytest.param(
            lambda app, e: URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="other").dumps(
                {"e": e.id, "n": e.login_nonce}
            ),
            id="other-salt",
        ),
        pytest.param(
            lambda app, e: URLSafeTimedSerializer("another-key", salt=sign_in.SALT).dumps(
                {"e": e.id, "n": e.login_nonce}
            ),
            id="other-key",
        ),
        pytest.param(
            lambda app, e: URLSafeTimedSerializer(
                app.config["SECRET_KEY"], salt=sign_in.SALT
            ).dumps([e.id, e.login_nonce]),
            id="not-a-dict",
        ),
        pytest.param(
            lambda app, e: URLSafeTimedSerializer(
                app.config["SECRET_KEY"], salt=sign_in.SALT
            ).dumps({"e": 987654, "n": e.login_nonce}),
            id="unknown-employee",
        ),
    ],
)
def test_tampered_links_are_refused(ctx, make_token):
    employee = EmployeeFactory()
    with pytest.raises(InvalidInput, match="not valid"):
        sign_in.consume_sign_in_token(make_token(ctx, employee))


@pytest.mark.parametrize("change", ["deactivate", "erase"])
def test_links_of_deactivated_people_are_refused(ctx, change):
    from app.models import utcnow

    employee = EmployeeFactory()
    token = sign_in.make_sign_in_token(employee)
    if change == "deactivate":
        employee.active = False
    else:
        employee.erased_at = utcnow()
    db.session.commit()
    with pytest.raises(InvalidInput, match="not valid"):
        sign_in.consume_sign_in_token(token)


def test_the_job_sends_nothing_once_the_link_was_used(ctx, run_jobs, outbox):
    employee = EmployeeFactory(email="jana@example.com")
    db.session.commit()
    nonce = employee.login_nonce
    sign_in.request_sign_in_link("jana@example.com")
    # Signed in meanwhile with another link: the queued one must not go out.
    sign_in.consume_sign_in_token(sign_in.make_sign_in_token(employee))
    db.session.commit()
    run_jobs()
    assert outbox == []
    send_sign_in_link(employee.id, nonce)  # run again by hand: still nothing
    send_sign_in_link(987654, nonce)  # an employee who is gone
    assert outbox == []
