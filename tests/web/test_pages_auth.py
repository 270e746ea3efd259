"""Sign-in through a mailed magic link, and sign-out."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Employee
from app.queue import queue
from app.services.sign_in import make_sign_in_token
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory


@pytest.fixture
def person(app) -> dict:
    with app.app_context():
        employee = EmployeeFactory(email="lena@example.com", name="Lena Hoffmann")
        return {"id": employee.id, "email": employee.email}


def _request_link(client, email: str, **extra) -> object:
    return client.post("/sign-in", data={"csrf_token": csrf_token(client), "email": email, **extra})


def _mailed_link(outbox) -> str:
    body = outbox[-1].get_content()
    match = re.search(r"http://localhost(/sign-in/\S+)", body)
    assert match, body
    return match.group(1)


def _signed_in_as(client) -> int | None:
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    return int(user_id.split(":")[0]) if user_id else None


def test_sign_in_page_renders(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<label for="email">Work e-mail</label>' in page
    assert 'name="csrf_token"' in page


def test_the_link_is_mailed_through_a_job_and_signs_in_once(app, client, person, run_jobs, outbox):
    response = _request_link(client, "  LENA@example.com ", next="/me")
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    with app.app_context():
        assert queue("mail").count == 1
    assert outbox == []  # sent by the worker, not in the request

    run_jobs()
    assert len(outbox) == 1
    assert outbox[0]["To"] == "lena@example.com"
    path = _mailed_link(outbox)

    confirm = client.get(path)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "Sign in as Lena Hoffmann" in page
    assert _signed_in_as(client) is None  # a GET (a mail scanner) spends nothing

    token = csrf_token(client)
    response = client.post(path, data={"csrf_token": token, "next": "/me"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    assert _signed_in_as(client) == person["id"]

    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    assert "already used" in client.get(path).get_data(as_text=True)


def test_unknown_addresses_get_the_same_answer_and_no_mail(app, client, run_jobs, outbox):
    response = _request_link(client, "nobody@example.com")
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    run_jobs()
    assert outbox == []


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b"])
def test_a_malformed_address_is_shown_next_to_the_field(client, email, outbox):
    response = _request_link(client, email)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page
    assert "Not a valid e-mail address." in page
    assert outbox == []


def test_an_expired_link_is_refused(app, client, person, run_jobs, outbox, monkeypatch):
    _request_link(client, person["email"])
    run_jobs()
    path = _mailed_link(outbox)
    monkeypatch.setitem(app.config, "SIGN_IN_LINK_MAX_AGE", -1)
    response = client.get(path)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert _signed_in_as(client) is None


@pytest.mark.parametrize("tamper", ["flip", "garbage"])
def test_a_tampered_link_is_refused(app, client, person, run_jobs, outbox, tamper):
    _request_link(client, person["email"])
    run_jobs()
    path = _mailed_link(outbox)
    path = path[:-2] + ("AA" if path[-2:] != "AA" else "BB") if tamper == "flip" else "/sign-in/xyz"
    response = client.get(path)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This link does not work" in page
    assert "not valid" in page
    response = client.post(path, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert _signed_in_as(client) is None


def test_a_link_for_a_deactivated_person_is_refused(app, client, person, run_jobs, outbox):
    _request_link(client, person["email"])
    run_jobs()
    path = _mailed_link(outbox)
    with app.app_context():
        db.session.get(Employee, person["id"]).active = False
        db.session.commit()
    assert client.get(path).status_code == 400


def test_confirming_without_csrf_token_is_refused(app, client, person, run_jobs, outbox):
    _request_link(client, person["email"])
    run_jobs()
    path = _mailed_link(outbox)
    assert client.post(path).status_code == 400
    assert _signed_in_as(client) is None
    with app.app_context():  # the link is still good
        nonce = db.session.scalar(select(Employee.login_nonce).where(Employee.id == person["id"]))
    assert nonce
    assert client.get(path).status_code == 200


def test_requesting_a_link_without_csrf_token_is_refused(client, person, run_jobs, outbox):
    response = client.post("/sign-in", data={"email": person["email"]})
    assert response.status_code == 400
    run_jobs()
    assert outbox == []


def test_the_sign_in_form_is_rate_limited(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_RATE_LIMIT", "3 per minute")
    token = csrf_token(client)
    statuses = [
        client.post(
            "/sign-in", data={"csrf_token": token, "email": f"p{i}@example.com"}
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    response = client.post("/sign-in", data={"csrf_token": token, "email": "p9@example.com"})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_cannot_leave_the_site(app, client, person, run_jobs, outbox, target):
    _request_link(client, person["email"], next=target)
    run_jobs()
    path = _mailed_link(outbox)
    assert "next=" not in path  # never carried into the mail
    confirm = client.get(path, query_string={"next": target}).get_data(as_text=True)
    assert 'name="next" value="/"' in confirm
    response = client.post(path, data={"csrf_token": csrf_token(client), "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_signed_out_visit_comes_back_after_sign_in(client):
    response = client.get("/people?q=x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/people?q%3Dx"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/people?q=x"' in page


def test_the_mailed_link_leads_on_to_the_page_the_visit_began_on(
    app, client, person, run_jobs, outbox
):
    """Whichever browser opens the mail: the page is in the link, not in a cookie."""
    _request_link(client, person["email"], next="/people?q=x")
    run_jobs()
    path = _mailed_link(outbox)
    assert path.endswith("?next=/people?q%3Dx")
    other_browser = app.test_client()
    confirm = other_browser.get(path).get_data(as_text=True)
    assert 'name="next" value="/people?q=x"' in confirm
    response = other_browser.post(
        path, data={"csrf_token": csrf_token(other_browser, path), "next": "/people?q=x"}
    )
    assert response.headers["Location"] == "/people?q=x"


def test_sign_out(client, login):
    login()
    token = csrf_token(client, "/me")
    assert client.post("/sign-out").status_code == 400  # no token: no sign-out by a third site
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/me").status_code == 302


def test_signed_in_people_skip_the_sign_in_form(client, login):
    login()
    response = client.get("/sign-in?next=/me")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"


# Sessions end on the server ----------------------------------------------------------


def _sign_in_by_link(app, client, employee_id: int) -> None:
    with app.app_context():
        token = make_sign_in_token(db.session.get(Employee, employee_id))
    response = client.post(f"/sign-in/{token}", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302


def _cookies(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")}


def _client_with(app, cookies: dict[str, str]):
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


@pytest.mark.parametrize("kept", [("session", "remember_token"), ("session",), ("remember_token",)])
def test_signing_out_ends_copies_of_the_session_and_the_remember_cookie(app, client, person, kept):
    _sign_in_by_link(app, client, person["id"])
    copied = {name: value for name, value in _cookies(client).items() if name in kept}
    assert _client_with(app, copied).get("/me").status_code == 200  # the copy works...
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/me")})
    assert response.headers["Location"] == "/sign-in"
    assert "signed out, on every device" in client.get("/sign-in").get_data(as_text=True)
    stale = _client_with(app, copied).get("/me")  # ...until its owner signs out
    assert stale.status_code == 302
    assert stale.headers["Location"].startswith("/sign-in")
    _sign_in_by_link(app, client, person["id"])  # signing in again works as before
    assert client.get("/me").status_code == 200


def test_the_session_and_the_remember_cookie_share_one_lifetime_and_policy(app, client, person):
    _sign_in_by_link(app, client, person["id"])
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    seconds = int(getattr(lifetime, "total_seconds", lambda: lifetime)())
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        assert cookie.same_site == "Lax", name
        assert cookie.http_only, name
        assert cookie.expires is not None, name
        left = cookie.expires.timestamp() - time.time()
        assert seconds - 60 < left <= seconds + 1, name


# One means of authentication per request -----------------------------------------------


def test_a_session_with_a_bad_bearer_token_is_refused_not_spared_the_csrf_check(app, client, login):
    login()
    garbage = {"Authorization": "Bearer not-a-token"}
    for method, path in (("GET", "/api/v1/me"), ("PATCH", "/api/v1/me/presence")):
        response = client.open(path, method=method, json={"presence": "hidden"}, headers=garbage)
        assert response.status_code == 401, path
        assert response.json["code"] == 401
    assert client.get("/api/v1/me").json["presence"] != "hidden"  # nothing changed


def test_a_bearer_token_speaks_for_its_owner_even_beside_a_session(app, client, login):
    from tests.web.api_support import issue_token

    login()
    with app.app_context():
        owner = EmployeeFactory(email="bot-owner@example.com").id
    bearer = {"Authorization": f"Bearer {issue_token(app, owner)}"}
    assert client.get("/api/v1/me", headers=bearer).json["id"] == owner
    # A session without a token still needs the CSRF token for a change.
    assert client.patch("/api/v1/me/presence", json={"presence": "hidden"}).status_code == 400
