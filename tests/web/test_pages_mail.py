"""Pages about mail: the rhythm on the settings page, the one-click unsubscribe, and the
admins' list of failed mail with its retry (pages and API)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import DeliveryState, OutboxMessage, Role
from app.services import notifications, outbox
from app.services.mails import unsubscribe_token
from scoring.notifications import Channel, Digest, Kind, Preferences
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory
from tests.web.api_support import session_caller

DECISION = Kind.REDEMPTION_DECIDED
RHYTHM = {
    "digest": "daily",
    "digest_hour": "7",
    "time_zone": "America/New_York",
    "quiet_from": "",
    "quiet_until": "",
    "weekly_budget": "5",
    "redemption_decided.in_app": "on",
}


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/inbox"), **data})


def _preferences(app, employee_id: int) -> Preferences:
    with app.app_context():
        return notifications.preferences_of([employee_id])[employee_id]


def test_the_settings_page_says_what_each_choice_sends_and_keeps_the_rhythm(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    page = client.get("/inbox/settings").get_data(as_text=True)
    assert '<option value="weekly" selected>Once a week</option>' in page
    assert "Nothing new, no mail." in page
    assert "The company's (Europe/Berlin)" in page
    assert "An example digest" in page
    assert _post(client, "/inbox/settings", RHYTHM).status_code == 302
    assert _preferences(app, me.id) == Preferences(
        digest=Digest.DAILY,
        digest_hour=7,
        time_zone="America/New_York",
        quiet_from=None,
        quiet_until=None,
        weekly_budget=5,
    )
    page = client.get("/inbox/settings").get_data(as_text=True)
    assert '<option value="America/New_York" selected>' in page
    assert '<option value="daily" selected>' in page


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"time_zone": "Atlantis/Capital"}, "Not a time zone we know"),
        ({"digest_hour": "25"}, "less than or equal to 23"),
        ({"digest": ""}, "Field may not be null."),
        ({"quiet_from": "22"}, "Give both ends of your quiet hours, or neither."),
        ({"weekly_budget": "many"}, "Not a valid integer."),
    ],
)
def test_a_bad_rhythm_on_the_page_is_refused_and_changes_nothing(
    app, client, login, change, problem
):
    me = login(Role.EMPLOYEE, opted_in=True)
    answer = _post(client, "/inbox/settings", {**RHYTHM, **change})
    assert answer.status_code == 422
    assert problem in answer.get_data(as_text=True)
    assert _preferences(app, me.id) == Preferences()
    with app.app_context():
        assert notifications.choices_of([me.id])[me.id] == {}


# One-click unsubscribe -------------------------------------------------------------


def _unsubscribe_path(app, employee_id: int, kind: Kind) -> str:
    with app.app_context():
        return f"/unsubscribe/{unsubscribe_token(employee_id, kind)}"


def test_opening_the_link_only_asks_and_the_button_or_the_mail_program_unsubscribes(app):
    with app.app_context():
        ada = EmployeeFactory(opted_in=True)
        db.session.commit()
        ada_id = ada.id
    path = _unsubscribe_path(app, ada_id, Kind.DIGEST)
    client = app.test_client()  # not signed in: the signature is enough
    asked = client.get(path)
    assert asked.status_code == 200
    assert "New content to share" in asked.get_data(as_text=True)
    assert _preferences(app, ada_id).digest is Digest.WEEKLY  # a GET changes nothing
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "No more mail about" in done.get_data(as_text=True)
    assert _preferences(app, ada_id).digest is Digest.OFF
    # The same for a single kind of mail, and twice is as once.
    path = _unsubscribe_path(app, ada_id, DECISION)
    assert client.post(path).status_code == client.post(path).status_code == 200
    with app.app_context():
        assert notifications.recipients([ada_id], DECISION, Channel.EMAIL) == set()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_or_cut_link_is_refused_and_changes_nothing(app, method):
    with app.app_context():
        ada = EmployeeFactory(opted_in=True)
        db.session.commit()
        ada_id = ada.id
    good = _unsubscribe_path(app, ada_id, Kind.DIGEST)
    client = app.test_client()
    for path in (good[:-3], good + "x", "/unsubscribe/WzEsImRpZ2VzdCJd.forged"):
        answer = client.open(path, method=method)
        assert answer.status_code == 404
        assert "This link does not work" in answer.get_data(as_text=True)
    assert _preferences(app, ada_id).digest is Digest.WEEKLY


# Failed mail, for admins -----------------------------------------------------------


def _failed_message(app) -> int:
    with app.app_context():
        ada = EmployeeFactory(opted_in=True, name="Ada Lovelace")
        notice = {"title": "Your reward", "body": "", "link": None}
        outbox.queue_mail([outbox.Mail(ada.id, DECISION, "k", notice)])
        db.session.execute(
            update(OutboxMessage).values(
                state=DeliveryState.FAILED, attempts=8, last_error="550 No such mailbox"
            )
        )
        db.session.commit()
        return db.session.scalar(select(OutboxMessage.id))


def _state(app, message_id: int) -> DeliveryState:
    with app.app_context():
        return db.session.get(OutboxMessage, message_id).state


def test_admins_see_failed_mail_and_send_it_again(app, client, login):
    message_id = _failed_message(app)
    login(Role.ADMIN)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Ada Lovelace" in page
    assert "550 No such mailbox" in page
    answer = client.post(
        f"/admin/mail/{message_id}/retry", data={"csrf_token": csrf_token(client, "/admin/mail")}
    )
    assert answer.status_code == 302
    assert _state(app, message_id) is DeliveryState.PENDING
    assert "No failed mail." in client.get("/admin/mail").get_data(as_text=True)
    # The same request twice (a double click): it already waits, nothing changes.
    again = client.post(
        f"/admin/mail/{message_id}/retry", data={"csrf_token": csrf_token(client, "/admin/mail")}
    )
    assert again.status_code == 302
    assert _state(app, message_id) is DeliveryState.PENDING


def test_the_api_lists_failed_mail_and_retries_it(app):
    message_id = _failed_message(app)
    admin = session_caller(app, Role.ADMIN)
    listed = admin.get("/api/v1/outbox/failed").json
    assert [(m["id"], m["state"], m["attempts"]) for m in listed] == [(message_id, "failed", 8)]
    assert "payload" not in listed[0]  # what a mail says is its person's
    retried = admin.post(f"/api/v1/outbox/{message_id}/retry")
    assert (retried.status_code, retried.json["state"], retried.json["attempts"]) == (
        200,
        "pending",
        0,
    )
    assert admin.get("/api/v1/outbox/failed").json == []
    unknown = admin.post("/api/v1/outbox/999999/retry")
    assert (unknown.status_code, unknown.json["errors"]) == (
        404,
        {"id": ["No message with id 999999."]},
    )


def test_a_sent_mail_is_not_sent_again_by_a_retry(app):
    message_id = _failed_message(app)
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(state=DeliveryState.SENT))
        db.session.commit()
    refused = session_caller(app, Role.ADMIN).post(f"/api/v1/outbox/{message_id}/retry")
    assert refused.status_code == 409
    assert _state(app, message_id) is DeliveryState.SENT
