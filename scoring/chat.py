"""Chat channels: which webhook addresses Chorus accepts, and what a post looks like on
Slack (Block Kit with a text fallback) and Microsoft Teams (a Workflows webhook taking
an Adaptive Card; the retired Office 365 connectors are refused).

A webhook address is a secret (whoever has it can post to the channel), so it is
accepted only for the providers' own hosts, over HTTPS, and shown back only as
``masked``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit


class Provider(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"


PROVIDER_LABELS = {Provider.SLACK: "Slack", Provider.TEAMS: "Microsoft Teams"}

# Posts a second at most per webhook: Slack allows about one, Teams throttles above four.
PER_SECOND = {Provider.SLACK: 1, Provider.TEAMS: 4}

SLACK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")
# Power Automate's "When a Teams webhook request is received": Logic Apps hosts
# (prod-NN.<region>.logic.azure.com) and the newer Power Platform ones.
TEAMS_HOST_SUFFIXES = (".logic.azure.com", ".api.powerplatform.com")
RETIRED_TEAMS_HOSTS = ("outlook.office.com", "outlook.office365.com")
RETIRED_TEAMS_SUFFIX = ".webhook.office.com"

SLACK_SECTION_MAX = 3000  # characters in a section's text
SLACK_BLOCKS_MAX = 50
# Teams takes about 28 KB a message: posts keep their text and lines short (``Post``).
TEXT_MAX, LINES_MAX = 1000, 20


def webhook_problem(provider: Provider, url: str) -> str | None:
    """Why ``url`` is not a webhook address of ``provider``, or None when it is."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "This is not a web address."
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        return "Give the full https:// address the provider showed you."
    if parts.username or parts.password or port not in (None, 443):
        return "The address must not carry a user, a password or a port of its own."
    if provider is Provider.SLACK:
        if host not in SLACK_HOSTS or not parts.path.startswith("/services/"):
            return "A Slack incoming webhook starts with https://hooks.slack.com/services/."
        return None
    if host in RETIRED_TEAMS_HOSTS or host.endswith(RETIRED_TEAMS_SUFFIX):
        return (
            "Office 365 connectors are retired: create a Workflows webhook in Teams "
            '("When a Teams webhook request is received") and give its address.'
        )
    if not host.endswith(TEAMS_HOST_SUFFIXES) or "workflows" not in parts.path.lower():
        return "A Teams Workflows webhook is on logic.azure.com or api.powerplatform.com."
    return None


def masked(url: str) -> str:
    """The address as it may be shown again: its host and its last four characters."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…{url[-4:]}"


# Slack's member IDs: U (or W, in Enterprise Grid) and capitals and digits.
SLACK_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


@dataclass(frozen=True)
class Mention:
    """Whom a post mentions: in Slack by member ID (none: Slack cannot mention them),
    in Teams by the sign-in name, which is the work e-mail."""

    name: str
    email: str
    slack_member_id: str | None = None


def can_mention(provider: Provider, mention: Mention) -> bool:
    return provider is Provider.TEAMS or mention.slack_member_id is not None


@dataclass(frozen=True)
class Post:
    """What a post says, whatever the provider: a title, some lines, a button."""

    title: str
    text: str = ""
    lines: tuple[str, ...] = ()
    button: str | None = None
    url: str | None = None
    footer: str = field(default="Sharing is voluntary.")
    mention: Mention | None = None  # someone the post is addressed to, who asked for it

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text[:TEXT_MAX])
        object.__setattr__(self, "lines", tuple(line[:TEXT_MAX] for line in self.lines[:LINES_MAX]))


def fallback_text(post: Post) -> str:
    """The plain text of a post: notifications and clients without blocks show it."""
    parts = [_slack_tag(post) + post.title, post.text, *post.lines]
    if post.url:
        parts.append(f"{post.button or 'Open'}: {post.url}")
    return "\n".join(p for p in parts if p)


def _slack_tag(post: Post) -> str:
    if post.mention is None or post.mention.slack_member_id is None:
        return ""
    return f"<@{post.mention.slack_member_id}> "


def slack_message(post: Post) -> dict:
    """An incoming-webhook message: Block Kit blocks, and ``text`` as the fallback (a
    mention goes first in both: the fallback is what notifies)."""
    body = _slack_tag(post) + "\n".join(p for p in (post.text, *post.lines) if p)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": post.title[:150]}}
    ]
    if body:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:SLACK_SECTION_MAX]}}
        )
    if post.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": post.button or "Open"},
                        "url": post.url,
                        "style": "primary",
                    }
                ],
            }
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": post.footer}]})
    return {"text": fallback_text(post)[:SLACK_SECTION_MAX], "blocks": blocks[:SLACK_BLOCKS_MAX]}


def teams_message(post: Post) -> dict:
    """A Workflows webhook message: one Adaptive Card."""
    body: list[dict] = [
        {
            "type": "TextBlock",
            "text": post.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    tag = f"<at>{post.mention.name}</at>" if post.mention else ""
    if post.text or tag:
        body.append({"type": "TextBlock", "text": f"{tag} {post.text}".strip(), "wrap": True})
    body.extend({"type": "TextBlock", "text": line, "wrap": True} for line in post.lines)
    body.append({"type": "TextBlock", "text": post.footer, "isSubtle": True, "size": "Small"})
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if post.mention:
        mentioned = {"id": post.mention.email, "name": post.mention.name}
        card["msteams"] = {"entities": [{"type": "mention", "text": tag, "mentioned": mentioned}]}
    if post.url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": post.button or "Open", "url": post.url}
        ]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def message_for(provider: Provider, post: Post) -> dict:
    return slack_message(post) if provider is Provider.SLACK else teams_message(post)
