"""Which webhook addresses are accepted, how they are shown, and what a post looks like
on Slack (Block Kit with a text fallback) and Teams (an Adaptive Card)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from scoring.chat import (
    SLACK_SECTION_MAX,
    Post,
    Provider,
    masked,
    slack_message,
    teams_message,
    webhook_problem,
)
from scoring.delivery import retry_after_seconds

SLACK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopqrstuvwx"
TEAMS = (
    "https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b2c/triggers/manual/"
    "paths/invoke?api-version=2016-06-01&sig=secret"
)
POWER = "https://default0a1b.2c.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/9f/triggers/manual/paths/invoke?sig=x"


@pytest.mark.parametrize(
    ("provider", "url", "accepted"),
    [
        (Provider.SLACK, SLACK, True),
        (Provider.SLACK, "https://hooks.slack-gov.com/services/T/B/x", True),
        (Provider.SLACK, SLACK.replace("https", "http"), False),
        (Provider.SLACK, "https://evil.example.com/services/T/B/x", False),
        (Provider.SLACK, "https://hooks.slack.com.evil.example/services/T/B/x", False),
        (Provider.SLACK, "https://user:pw@hooks.slack.com/services/T/B/x", False),
        (Provider.SLACK, "https://hooks.slack.com:8443/services/T/B/x", False),
        (Provider.SLACK, "https://hooks.slack.com/api/chat.postMessage", False),
        (Provider.SLACK, "not a url", False),
        (Provider.TEAMS, TEAMS, True),
        (Provider.TEAMS, POWER, True),
        (Provider.TEAMS, SLACK, False),
        (Provider.TEAMS, "https://outlook.office.com/webhook/abc/IncomingWebhook/x", False),
        (Provider.TEAMS, "https://contoso.webhook.office.com/webhookb2/abc", False),
        (Provider.TEAMS, "https://evil.example/logic.azure.com/workflows/x", False),
        (Provider.TEAMS, "http://127.0.0.1:8080/workflows/x", False),
    ],
)
def test_only_the_providers_own_https_addresses_are_accepted(provider, url, accepted):
    assert (webhook_problem(provider, url) is None) is accepted


def test_retired_teams_connectors_are_named_as_such():
    problem = webhook_problem(Provider.TEAMS, "https://outlook.office.com/webhook/abc")
    assert "Office 365 connectors are retired" in problem


def test_an_address_is_shown_masked():
    assert masked(SLACK) == "https://hooks.slack.com/…uvwx"
    assert "sig=secret" not in masked(TEAMS)


POST = Post(
    title="We are hiring",
    text="Backend engineers in Leipzig.",
    lines=("1. Ada", "2. Bo"),
    button="Share",
    url="https://chorus.example.com/content/7/share",
)


def test_a_slack_post_is_block_kit_with_a_text_fallback_and_a_button():
    message = slack_message(POST)
    assert "We are hiring" in message["text"]
    assert "https://chorus.example.com/content/7/share" in message["text"]
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "actions", "context"]
    (button,) = message["blocks"][2]["elements"]
    assert (button["type"], button["url"], button["text"]["text"]) == (
        "button",
        POST.url,
        "Share",
    )
    long = slack_message(Post(title="t", lines=tuple("x" * 999 for _ in range(30))))
    assert len(long["blocks"]) <= 50
    assert all(
        len(b["text"]["text"]) <= SLACK_SECTION_MAX
        for b in long["blocks"]
        if b["type"] == "section"
    )


def test_a_teams_post_is_an_adaptive_card_in_a_message():
    message = teams_message(POST)
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == "We are hiring"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Share", "url": POST.url}]
    huge = teams_message(
        Post(title="t", text="x" * 50_000, lines=tuple("y" * 5000 for _ in range(99)))
    )
    assert len(json.dumps(huge)) < 28_000


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Mon, 02 Mar 2026 09:01:30 GMT", now) == 90
    assert retry_after_seconds("Mon, 02 Mar 2026 08:00:00 GMT", now) == 0
    assert retry_after_seconds(None, now) is None
    assert retry_after_seconds("soon", now) is None
