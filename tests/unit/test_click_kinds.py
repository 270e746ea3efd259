"""What a click is (scoring.clicks): bot, mail scanner, the owner themselves, a person,
or one seen before."""

from __future__ import annotations

import pytest

from scoring.clicks import (
    ClickKind,
    CrawlerList,
    click_kind,
    earns_points,
    first_sighting,
    is_bot_agent,
)

# A stand-in for the maintained list, as the adapter hands it in: patterns, not code.
CRAWLERS = CrawlerList(["Googlebot", "bingbot", "facebookexternalhit", "LinkedInBot", "curl"])
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


@pytest.mark.parametrize(
    ("user_agent", "bot"),
    [
        (BROWSER, False),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("facebookexternalhit/1.1", True),
        ("LinkedInBot/1.0 (compatible; Mozilla/5.0)", True),
        ("curl/8.5.0", True),
        ("", True),  # no agent at all: a script
        ("   ", True),
        # mail gateways the crawler list misses, in any case
        ("Mozilla/5.0 (Windows NT 10.0; Microsoft Office/16.0)", True),
        ("Mozilla/5.0 SafeLinks", True),
        ("Proofpoint URL Defense", True),
        ("mimecast-url-protect", True),
        # the list is case-sensitive, as the maintained list's own matcher is
        ("googlebot-lookalike", False),
    ],
)
def test_bots_and_mail_scanners_are_told_from_people(user_agent: str, bot: bool):
    assert is_bot_agent(user_agent, CRAWLERS) is bot


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 25, 1000])
def test_the_list_matches_whatever_its_chunking(chunk_size: int):
    crawlers = CrawlerList(["alpha", "beta", "gam+a", "delta"], chunk_size=chunk_size)
    found = [
        agent for agent in ("x alpha", "gammma", "delt", "zeta beta") if crawlers.matches(agent)
    ]
    assert found == ["x alpha", "gammma", "zeta beta"]


def test_an_empty_list_matches_nothing():
    assert not CrawlerList([]).matches("Googlebot")
    assert is_bot_agent("Googlebot", CrawlerList([])) is False


@pytest.mark.parametrize(
    ("head", "bot_agent", "session_user_id", "owner_id", "kind"),
    [
        (False, False, "", 7, ClickKind.HUMAN),
        (False, False, "8", 7, ClickKind.HUMAN),  # another employee clicking
        (False, False, "7", 7, ClickKind.SELF),
        (True, False, "", 7, ClickKind.BOT),  # a HEAD request is a preview
        (False, True, "", 7, ClickKind.BOT),
        (True, True, "7", 7, ClickKind.BOT),  # a bot first, even in the owner's session
        (False, False, "70", 7, ClickKind.HUMAN),
    ],
)
def test_what_kind_of_click(head, bot_agent, session_user_id, owner_id, kind):
    click = click_kind(
        head=head, bot_agent=bot_agent, session_user_id=session_user_id, owner_id=owner_id
    )
    assert click is kind


@pytest.mark.parametrize(
    ("kind", "earns"), [(ClickKind.HUMAN, True), (ClickKind.BOT, False), (ClickKind.SELF, False)]
)
def test_only_a_person_s_click_earns_points(kind: ClickKind, earns: bool):
    assert earns_points(kind) is earns


@pytest.mark.parametrize(
    ("previous", "entry", "first"),
    [
        (None, "1700000000000-0", True),  # never seen
        ("1700000000000-0", "1700000000000-0", True),  # claimed by a run that crashed
        ("1700000000000-0", "1700000000001-0", False),  # another entry counted it
    ],
)
def test_a_click_counts_once(previous: str | None, entry: str, first: bool):
    assert first_sighting(previous, entry) is first
