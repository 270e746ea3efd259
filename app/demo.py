"""The demo company that ``make run`` loads: five teams of ten and two of four (too
small for their figures to be shown: the analytics withhold them), every role, and
six weeks of history dated in the order things happen: the company, the guidelines, the
rules and content, people opting in, their shares and clicks, then rewards redeemed.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update

from app.db import bulk_insert
from app.extensions import db
from app.models import (
    AllowedDomain,
    AuditEntry,
    Badge,
    BadgeGrant,
    Challenge,
    ClickKind,
    ClickRecord,
    ContentItem,
    DeliveryState,
    Employee,
    Event,
    Interest,
    IntranetLink,
    LedgerLine,
    LessonCompletion,
    Notification,
    OutboxMessage,
    Redemption,
    Referral,
    ReferralProgramme,
    RewardKind,
    Role,
    RuleVersion,
    ScoringRule,
    Team,
    WebhookEndpoint,
    utcnow,
)
from app.services import (
    badges,
    challenge_notices,
    challenge_settlement,
    challenges,
    content,
    digests,
    events,
    home_ranks,
    intranet,
    ledger,
    lessons,
    notifications,
    outbox,
    participation,
    people,
    redemptions,
    referrals,
    rollups,
    rules,
    sharing,
    taboo,
    team_rewards,
    webhook_endpoints,
    your_week,
)
from app.services.calendar import company_calendar
from app.services.lessons_demo import DEMO_LESSONS
from app.services.single_row import stored_single_row
from scoring.challenges import Metric, Mode, PrizeKind, ScopeKind
from scoring.keys import click_event_key, lesson_line_key
from scoring.notifications import Kind as NotificationKind
from scoring.participation import Network, Presence
from scoring.vocabulary import Channel, EventKind, ReferralStage

COMPANY = "Nordlicht Energie GmbH"
# The demo company started with Chorus this long ago; shares begin a week later.
HISTORY = timedelta(days=42)
# Another system of the company that hears of shares and referrals (Admin → Webhooks).
WAREHOUSE = {
    "name": "People analytics warehouse",
    "url": "https://analytics.example.com/hooks/chorus",
    "events": ["share.created", "referral.stage_reached"],
}
SHARING_FOR = timedelta(days=35)
# Pictures drawn by tools/demo_images.py: the project's own, CC0.
IMAGES = Path(__file__).parent / "demo_images"
IMAGE_CREDIT = "Illustration: Chorus demo (CC0)"
DOMAIN = "nordlicht.example"

TEAMS = {
    "Engineering": [
        "Lena Hoffmann",
        "Jonas Becker",
        "Aylin Demir",
        "Felix Wagner",
        "Marta Nowak",
        "Tobias Schulz",
        "Sofia Rossi",
        "Niklas Braun",
        "Hannah Keller",
        "Omar Haddad",
    ],
    "Sales": [
        "Katrin Vogel",
        "Lukas Richter",
        "Elif Yilmaz",
        "Sebastian Koch",
        "Julia Lang",
        "Mehmet Kaya",
        "Clara Fischer",
        "David Schwarz",
        "Nina Zimmermann",
        "Paul Hartmann",
    ],
    "Marketing": [
        "Miriam Weber",
        "Jan Krüger",
        "Laura Schmitt",
        "Yusuf Arslan",
        "Anna Neumann",
        "Moritz Wolf",
        "Isabel García",
        "Finn Schröder",
        "Leonie Krause",
        "Ben Lehmann",
    ],
    "People & Culture": [
        "Sabine Meyer",
        "Daniel Köhler",
        "Fatima El Amrani",
        "Maximilian Huber",
        "Emma Schneider",
        "Kemal Öztürk",
        "Lea Fuchs",
        "Philipp Jung",
        "Zoe Berger",
        "Till Scholz",
    ],
    "Customer Success": [
        "Carla Bauer",
        "Matthias Frank",
        "Priya Sharma",
        "Robert Peters",
        "Ines Kaiser",
        "Jakob Simon",
        "Greta Lorenz",
        "Ali Rahimi",
        "Nora Busch",
        "Henrik Stein",
    ],
    # Teams of fewer people than the minimum group size: their figures are withheld on
    # the pages. Two of them, so that together they are a group large enough that the
    # company's total less the other teams gives neither away (one alone would take the
    # figures of the next smallest team with it).
    "Executive office": ["Ursula Brandt", "Georg Lenz", "Hanna Albrecht", "Viktor Engel"],
    "Legal": ["Dorothea Winter", "Malte Brandes", "Selin Aydin", "Konstantin Roth"],
}

# Followers people declare on a network (None: not said).
AUDIENCES = [None, 180, 350, 420, 760, 1300, 2400]

INTERESTS = [
    "Careers",
    "Engineering",
    "Sustainability",
    "Product news",
    "Events",
    "Company culture",
]

# The people printed with sign-in links: one per role.
DEMO_LOGINS = {
    "admin": f"lena.hoffmann@{DOMAIN}",
    "hr": f"sabine.meyer@{DOMAIN}",
    "team_lead": f"katrin.vogel@{DOMAIN}",
    "employee": f"lukas.richter@{DOMAIN}",
}
ROLES = {
    f"lena.hoffmann@{DOMAIN}": Role.ADMIN,
    f"sabine.meyer@{DOMAIN}": Role.HR,
    f"daniel.koehler@{DOMAIN}": Role.HR,
    f"jonas.becker@{DOMAIN}": Role.TEAM_LEAD,
    f"katrin.vogel@{DOMAIN}": Role.TEAM_LEAD,
    f"miriam.weber@{DOMAIN}": Role.TEAM_LEAD,
    f"carla.bauer@{DOMAIN}": Role.TEAM_LEAD,
}

GUIDELINES = """\
Sharing company news is voluntary. Nobody has to, and nobody is judged for not doing it.

1. Speak as yourself. Add your own view; you are not the company's spokesperson.
2. Be transparent: Chorus adds #employee to what you share so readers know you work here.
3. Keep confidential things confidential: no financial figures before they are published,
   no unannounced products, no customer projects without the customer's consent.
4. Be fair to competitors and to people who disagree. When in doubt, don't post.
5. Mind your network: share what your contacts find useful, not everything.
6. Mistakes happen. If something went wrong, talk to us; there are no penalties.

Questions? Ask the contact person below.
"""


def email_for(name: str) -> str:
    local = name.lower()
    for umlaut, plain in {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "í": "i"}.items():
        local = local.replace(umlaut, plain)
    return ".".join(local.split()) + f"@{DOMAIN}"


def load_demo(seed: int = 7) -> bool:
    """Create the demo company unless its admin exists; True when it was created."""
    if db.session.scalar(select(Employee).where(Employee.email == DEMO_LOGINS["admin"])):
        return False
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    now = utcnow()
    start = now - HISTORY
    mark = _last_audit_id()
    settings = stored_single_row(people.company_settings())
    settings.name = COMPANY
    interests = [people.create_interest(None, name) for name in INTERESTS]
    hr_contact = None
    for team_name, names in TEAMS.items():
        team = people.create_team(None, team_name)
        for name in names:
            email = email_for(name)
            employee = people.create_employee(
                None, email=email, name=name, role=ROLES.get(email, Role.EMPLOYEE), team=team
            )
            if employee.role == Role.HR and hr_contact is None:
                hr_contact = employee
    db.session.flush()
    for model in (Interest, Team, Employee):
        for n, row in enumerate(db.session.scalars(select(model).order_by(model.id))):
            row.created_at = start + timedelta(seconds=2 * n)
    mark = _date_audit(mark, start)

    published = start + timedelta(hours=1)
    guidelines = participation.publish_guidelines(
        hr_contact, body=GUIDELINES, contact_name=hr_contact.name, contact_email=hr_contact.email
    )
    guidelines.created_at = published
    mark = _date_audit(mark, published)
    items, mark = _content(hr_contact, start + timedelta(hours=2), mark)

    # Most, not all, take part: the demo shows opted-out people and every presence. They
    # opt in over the first week, one after another, before anyone shares.
    everyone = db.session.scalars(select(Employee).order_by(Employee.id)).all()
    first_opt_in = start + timedelta(days=1)
    spacing = (HISTORY - SHARING_FOR - timedelta(days=1)) / (len(everyone) + 1)
    declared: dict[int, list[Channel]] = {}  # the networks each person shares to
    for index, employee in enumerate(everyone):
        if employee.email == DEMO_LOGINS["employee"] or rng.random() < 0.2:
            continue  # the demo employee walks through opting in themselves
        joined = first_opt_in + spacing * index + timedelta(minutes=rng.uniform(0, 30))
        employee.opted_in_at = joined  # before opting in, which keeps it: taking part began then
        participation.opt_in(employee, guidelines.id)
        presence = rng.choices(list(Presence), weights=[8, 1, 1])[0]
        pseudonym = f"Advocate {employee.id:03d}" if presence is Presence.PSEUDONYM else None
        participation.update_presence(employee, presence, pseudonym)
        networks = rng.sample(list(Network), k=rng.randint(1, 3), counts=[4, 2, 1, 2, 1])
        declared[employee.id] = [Channel(n.value) for n in dict.fromkeys(networks)]
        # Most people say how many follow them, so potential reach is worth showing.
        participation.set_networks(
            employee,
            [
                {"network": n, "handle": None, "audience_size": rng.choice(AUDIENCES)}
                for n in dict.fromkeys(networks)
            ],
        )
        participation.set_interests(employee, [i.id for i in rng.sample(interests, k=2)])
        mark = _date_audit(mark, joined)
    connected = now - SHARING_FOR - timedelta(hours=1)
    warehouse, _ = webhook_endpoints.register(_person(DEMO_LOGINS["admin"]), WAREHOUSE)
    warehouse.created_at = connected
    mark = _date_audit(mark, connected)
    _activity(rng, [e for e in everyone if e.participating], items, now, declared)
    _arrival_times(rng)
    rollups.recount()  # the history's clicks were written as rows, not by the worker
    return True


def _last_audit_id() -> int:
    db.session.flush()
    return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def _date_audit(after_id: int, at: datetime, step: timedelta = timedelta(seconds=20)) -> int:
    """Date the audit entries written since ``after_id`` when the demo says it happened,
    a few seconds apart in their order; returns the new mark."""
    db.session.flush()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.id > after_id).order_by(AuditEntry.id)
    ).all()
    for n, entry in enumerate(entries):
        entry.created_at = at + step * n
    return entries[-1].id if entries else after_id


STORIES = [
    {
        "title": "Our new wind farm feeds 40,000 homes",
        "summary": "Twelve turbines off the coast of Rügen went live this week.",
        "destination_url": f"https://www.{DOMAIN}/news/wind-farm-ruegen",
        "tags": ["news", "sustainability"],
        "featured": True,
        "campaign_hashtag": "#GreenGrid",
        "image": "wind-farm.png",
        "texts": {
            "linkedin": "Twelve turbines, 40,000 homes: proud of the team that built our "
            "new wind farm off Rügen.",
            "x": "Our new wind farm off Rügen now powers 40,000 homes.",
        },
    },
    {
        "title": "We're hiring: Backend Engineer (Python)",
        "summary": "Join the grid-forecasting team in Hamburg or remote.",
        "destination_url": f"https://jobs.{DOMAIN}/backend-engineer-python",
        "tags": ["job", "engineering"],
        "featured": False,
        "campaign_hashtag": None,
        "image": "hiring.png",
        "texts": {
            "linkedin": "My team is hiring a backend engineer: Python, forecasting, "
            "renewable energy. Ask me anything about working here.",
            "xing": "Wir suchen eine Backend-Entwicklerin (Python) für unser Team.",
        },
    },
    {
        "title": "Sustainability report 2026",
        "summary": "Emissions down 18 %, and what we learned on the way.",
        "destination_url": f"https://www.{DOMAIN}/sustainability/2026",
        "tags": ["sustainability"],
        "featured": False,
        "campaign_hashtag": None,
        "image": "sustainability.png",
        "texts": {"linkedin": "Our sustainability report is out: the wins and the lessons."},
    },
    {
        "title": "Meet us at the Energy Transition Summit",
        "summary": "Talks, a workshop and our booth in Berlin, 3-4 December.",
        "destination_url": f"https://www.{DOMAIN}/events/summit",
        "tags": ["events"],
        "featured": False,
        "campaign_hashtag": "#ETSummit",
        "image": "summit.png",
        "texts": {"linkedin": "See you at the Energy Transition Summit in Berlin!"},
    },
]

TABOO_TOPICS = [
    {
        "name": "Financial figures",
        "explanation": "Revenue, profit and forecasts are published by Investor Relations "
        "first. Please share the official report once it is out.",
        "phrases": ["revenue", "profit", "EBIT", "Umsatz", "forecast"],
    },
    {
        "name": "Unannounced products",
        "explanation": "Products are announced by Communications; until then they are "
        "confidential.",
        "phrases": ["roadmap", "prototype", "coming soon"],
    },
    {
        "name": "Customer projects",
        "explanation": "Customers decide whether their projects are public. Ask Sales "
        "before naming a customer.",
        "phrases": ["our customer", "client project"],
    },
]


def _content(hr, at: datetime, mark: int) -> tuple[list[ContentItem], int]:
    """HR's setup on the first day: the domain, taboo topics, the rules (saved when they
    take effect, so none needs a recalculation), the referral programme and the stories
    with their pictures."""
    content.add_domain(hr, DOMAIN)
    for topic in TABOO_TOPICS:
        taboo.create_topic(hr, dict(topic))
    rules.install_default_rules(hr, effective_at=at)
    referrals.create_programme(hr, name="Employee referrals", content_tag="job")
    intranet.create_link(hr, None)  # listed on the intranet page; its address is not kept
    db.session.flush()
    for model in (AllowedDomain, ScoringRule, RuleVersion, ReferralProgramme, IntranetLink):
        for row in db.session.scalars(select(model)):
            row.created_at = at
    mark = _date_audit(mark, at)
    items = []
    for n, story in enumerate(STORIES):
        written = at + timedelta(hours=1, minutes=20 * n)
        templates = [{"channel": Channel(c), "text": t} for c, t in story["texts"].items()]
        data = {k: v for k, v in story.items() if k not in ("texts", "image")}
        data.update(image_credit=IMAGE_CREDIT, image_rights_confirmed=True)
        image = (IMAGES / story["image"]).read_bytes()
        item = content.create_content(hr, {**data, "templates": templates}, image=image)
        content.publish(hr, item)
        item.created_at = written
        item.published_at = item.updated_at = written + timedelta(minutes=5)
        mark = _date_audit(mark, written, step=timedelta(minutes=5))
        items.append(item)
    return items, mark


def _activity(
    rng: random.Random, advocates, items, now: datetime, declared: dict[int, list[Channel]]
) -> None:
    """Five weeks of shares, clicks and a few referrals, scored into the ledger. People
    share to the networks they connected."""
    for employee in advocates:
        for _ in range(rng.randint(0, 6)):
            item = rng.choice(items)
            shared_at = now - timedelta(days=rng.uniform(0.5, SHARING_FOR.days))
            channel = rng.choice(declared[employee.id])
            share = sharing.record_share(
                employee, item, channel, f"{item.title} #employee", shared_at, share_points=True
            )
            for n in range(int(rng.expovariate(1 / 6))):
                clicked_at = shared_at + timedelta(hours=rng.uniform(0.1, 48))
                if clicked_at > now:
                    continue
                visitor = f"{share.id:08x}{n:024x}"
                day = clicked_at.date()
                db.session.add(
                    ClickRecord(
                        share_id=share.id,
                        visitor=visitor,
                        day=day,
                        kind=ClickKind.HUMAN,
                        occurred_at=clicked_at,
                    )
                )
                events.record_event(
                    EventKind.CLICK,
                    click_event_key(share.id, visitor, day.isoformat()),
                    employee_id=employee.id,
                    occurred_at=clicked_at,
                    team_id=employee.team_id,
                    share_id=share.id,
                    content_id=item.id,
                    channel=channel,
                )
            if "job" in item.tag_names and rng.random() < 0.3:
                applied_at = min(now, shared_at + timedelta(days=rng.uniform(1, 5)))
                referrals.record_stage(
                    ref_code=share.ref_code,
                    candidate_id=f"demo-{share.id}",
                    stage=ReferralStage.APPLIED,
                    occurred_at=applied_at,
                )


def _arrival_times(rng: random.Random) -> None:
    """Each event reached Chorus moments after it happened (a click within seconds, a
    share at once, an applicant-tracking system's stage within minutes), not when the
    demo was loaded: a challenge counts only what arrived before its results were
    final."""
    db.session.flush()
    for event in db.session.scalars(select(Event).order_by(Event.id)):
        delay = 600 if event.kind is EventKind.REFERRAL_APPLIED else 20
        event.created_at = event.occurred_at + timedelta(seconds=rng.uniform(1, delay))


REWARDS = [
    {
        "name": "Company hoodie",
        "description": "Navy, organic cotton, with the Nordlicht wave.",
        "cost": 30,
        "stock": 25,
        "per_person_limit": 1,
        "kind": RewardKind.SWAG,
        "tax_note": "Branded clothing of small value: no benefit in kind (check the "
        "yearly allowance with payroll).",
    },
    {
        "name": "Conference ticket",
        "description": "A ticket for the Energy Transition Summit in Berlin.",
        "cost": 60,
        "stock": 3,
        "kind": RewardKind.EXPERIENCE,
        "tax_note": "Job-related training: tax-free.",
    },
    {
        "name": "Extra day off",
        "description": "One more day of holiday this year, agreed with your team lead.",
        "cost": 80,
        "per_person_limit": 2,
        "kind": RewardKind.EXPERIENCE,
        "tax_note": "Paid leave: no payroll entry beyond the holiday record.",
    },
    {
        "name": "Lunch with the CEO",
        "description": "An hour with our CEO, with two colleagues of your choice.",
        "cost": 120,
        "stock": 4,
        "per_person_limit": 1,
        "kind": RewardKind.EXPERIENCE,
        "tax_note": "Business meal: tax-free for the employee.",
    },
    {
        "name": "Ten trees for the Harz",
        "description": "Ten young trees planted in the Harz forest, in your name.",
        "cost": 20,
        "kind": RewardKind.DONATION,
        "charity_name": "Bergwaldprojekt e.V.",
        "needs_approval": False,  # nothing to hand over: approved at once
        "tax_note": "Company donation with a receipt in the company's name; the employee "
        "is named, not the donor.",
    },
    {
        "name": "Summer boat trip",
        "description": "An evening on the Elbe with the whole company.",
        "cost": 40,
        "stock": 60,
        "per_person_limit": 1,
        "kind": RewardKind.EXPERIENCE,
        "tax_note": "Company event: within the yearly allowance per employee.",
        # The window opens in a month and lasts six weeks (set when the demo loads).
    },
]
# The boat trip's window, relative to the day the demo is loaded.
BOAT_TRIP_WINDOW = (timedelta(days=30), timedelta(days=72))


def load_demo_rewards() -> int:
    """The reward catalogue and a few redemptions in every state, made through the real
    checks by the people with the most points. Runs after the demo's events are scored,
    so the balances are real; returns how many redemptions were made."""
    hr = db.session.scalar(select(Employee).where(Employee.email == DEMO_LOGINS["hr"]))
    now = utcnow()
    opened = now - timedelta(days=14)  # the catalogue opened two weeks ago
    mark = _last_audit_id()
    today = redemptions.company_today()
    starts, ends = BOAT_TRIP_WINDOW
    window = {"available_from": today + starts, "available_until": today + ends}
    catalogue = [
        redemptions.create_reward(
            hr, {**reward, **(window if reward["name"] == "Summer boat trip" else {})}
        )
        for reward in REWARDS
    ]
    for reward in catalogue:
        reward.created_at = reward.updated_at = opened
    mark = _date_audit(mark, opened, step=timedelta(minutes=3))
    hoodie, ticket, day_off, _lunch, trees, _boat_trip = catalogue
    richest = sorted(
        (e for e in db.session.scalars(select(Employee)) if e.participating),
        key=lambda e: ledger.balance(e.id).spendable,
        reverse=True,
    )
    # (reward, what HR did with it): each goes to the next person who can afford it.
    plan = [
        (day_off, "fulfil"),
        (ticket, "approve"),
        (hoodie, "pending"),
        (hoodie, "reject"),
        (day_off, "pending"),
        (trees, "at once"),
    ]
    made = 0
    for person, (reward, outcome) in zip(richest, plan, strict=False):
        if ledger.balance(person.id).spendable < reward.cost:
            continue
        # One redemption every other day or so, at working hours, each decided (if it was)
        # the next day; all before now.
        asked = opened + timedelta(days=1 + 2 * made, hours=9 + 2 * made, minutes=7 * made)
        redemption, _ = redemptions.redeem(person, reward.id, f"demo-{person.id}-{reward.id}")
        redemption.created_at = asked
        mark = _date_audit(mark, asked)
        decided = asked + timedelta(days=1, hours=1, minutes=13 * made)
        if outcome == "at once":  # approved in the same transaction, a moment later
            redemption.decided_at = asked + timedelta(seconds=1)
        if outcome in ("approve", "fulfil"):
            redemptions.approve(hr, redemption, "Sabine will get in touch about the date.")
            redemption.decided_at = decided
            mark = _date_audit(mark, decided)
        if outcome == "fulfil":
            redemptions.fulfil(hr, redemption)
            redemption.decided_at = decided + timedelta(days=1, hours=3)
            mark = _date_audit(mark, redemption.decided_at)
        if outcome == "reject":
            redemptions.reject(hr, redemption, "Your size is sold out; new ones arrive next month.")
            redemption.decided_at = decided
            mark = _date_audit(mark, decided)
        made += 1
    _told_back_then()
    return made


def _told_back_then() -> None:
    """The demo's decisions were mailed when they were made, long before it starts: the
    mail job has nothing of them to tell."""
    db.session.execute(
        update(Redemption)
        .where(Redemption.notified_state.is_(None))
        .values(notified_state=Redemption.state)
        .execution_options(synchronize_session=False)
    )


# The game: badges, challenges, lessons and a team reward ------------------------------

# A badge a challenge can give as its prize: first place in a challenge, once per
# challenge (the badge pass finds the same grants the settlement wrote).
WINNER_BADGE = {
    "id": "challenge-winner",
    "name": "Challenge winner",
    "kind": "placing",
    "top": 1,
    "per_challenge": True,
    "description": "First place in a share challenge.",
}


def _local(now: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` from today at ``hour`` o'clock in the company's time zone, in UTC."""
    zone, _ = company_calendar()
    day = now.astimezone(zone).date() + timedelta(days=days)
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return moment.astimezone(UTC)


def _person(email: str) -> Employee:
    return db.session.scalar(select(Employee).where(Employee.email == email))


def _dated(row, at: datetime) -> None:
    row.created_at = at
    if hasattr(row, "updated_at"):
        row.updated_at = at


def _challenge(actor: Employee, data: dict, created: datetime, mark: int) -> tuple[Challenge, int]:
    """A challenge made through the real checks, as if on the day it was created."""
    challenge = challenges.create_challenge(actor, data, now=created)
    _dated(challenge, created)
    return challenge, _date_audit(mark, created)


def load_demo_game() -> dict[str, int]:
    """What the game had before the reward catalogue opened two weeks ago, in the order
    it happened: the badges (when sharing began), a company challenge that ran, froze
    and was settled by the real settlement with its placings, prizes and digest, the
    lessons and the first people to finish them, and three challenges running now: one
    for the whole company with a collective target and a freeze at its end, one a team
    lead runs for their own team, and one of team against team. Runs after the demo's
    events are scored, so standings and settlement read the real ledger."""
    now = utcnow()
    hr = _person(DEMO_LOGINS["hr"])
    lead = _person(DEMO_LOGINS["team_lead"])
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    mark = _last_audit_id()

    # Badges: the defaults and a prize badge, switched on as sharing began.
    switched_on = _local(now, -34, 10)
    made = badges.ensure_default_badges(hr)
    if not db.session.scalar(select(Badge.id).where(Badge.slug == WINNER_BADGE["id"])):
        made.append(badges.create_badge(hr, dict(WINNER_BADGE)))
    for badge in made:
        _dated(badge, switched_on)
    mark = _date_audit(mark, switched_on, step=timedelta(minutes=1))
    winner = db.session.scalar(select(Badge).where(Badge.slug == WINNER_BADGE["id"]))

    # A fortnight's challenge for everyone, settled a day after its end.
    finished, mark = _challenge(
        hr,
        {
            "title": "Wind farm fortnight",
            "description": "Two weeks to tell people about our new wind farm off Rügen. "
            "Every share, counted click and referral counts.",
            "starts_at": _local(now, -32, 9),
            "ends_at": _local(now, -19, 17),
            "metric": Metric.POINTS,
            "scope": ScopeKind.COMPANY,
            "freeze_hours": 24,
            "lateness_hours": 24,
            "minimum": 20,
            "prizes": [
                {"kind": PrizeKind.BADGE, "value": winner.id, "place": 1},
                {"kind": PrizeKind.POINTS, "value": 50, "place": 1},
                {"kind": PrizeKind.POINTS, "value": 30, "place": 2},
                {"kind": PrizeKind.POINTS, "value": 20, "place": 3},
                {"kind": PrizeKind.POINTS, "value": 10, "place": None},
            ],
        },
        _local(now, -33, 10),
        mark,
    )
    # Told as the clock would have: its start, its last day, then its results.
    challenge_notices.tell_started(finished.id, now=finished.starts_at + timedelta(minutes=1))
    challenge_notices.tell_ending(finished.id, now=finished.ends_at - timedelta(hours=23))
    settled_at = finished.ends_at + timedelta(hours=finished.lateness_hours, minutes=1)
    challenge_settlement.settle_challenge(finished.id, now=settled_at)
    challenge_notices.tell_results(finished.id, now=settled_at + timedelta(minutes=1))
    mark = _date_audit(mark, settled_at)

    # Lessons, published one by one, and the first people to finish them.
    mark = _lessons(hr, now, mark)

    # Running now.
    running = [
        _challenge(
            hr,
            {
                "title": "Autumn reach",
                "description": "How many readers can we reach together before the summit? "
                "Counted clicks on anything you share.",
                "starts_at": _local(now, -15, 9),
                "ends_at": _local(now, 2, 17),
                "metric": Metric.CLICKS,
                "scope": ScopeKind.COMPANY,
                "freeze_hours": 24,
                "minimum": 5,
                "target": 400,
                "prizes": [
                    {"kind": PrizeKind.BADGE, "value": winner.id, "place": 1},
                    {"kind": PrizeKind.POINTS, "value": 15, "place": None},
                ],
            },
            _local(now, -16, 10),
            mark,
        ),
    ]
    mark = running[-1][1]
    running.append(
        _challenge(
            lead,
            {
                "title": "Sales shares the summit",
                "description": "Our team's challenge: tell your customers where to meet us "
                "in Berlin. Three shares qualify.",
                "starts_at": _local(now, -15, 12),
                "ends_at": _local(now, 4, 17),
                "metric": Metric.SHARES,
                "scope": ScopeKind.TEAMS,
                "team_ids": [lead.team_id],
                "minimum": 3,
                "prizes": [{"kind": PrizeKind.POINTS, "value": 10, "place": None}],
            },
            _local(now, -15, 11, 30),
            mark,
        )
    )
    mark = running[-1][1]
    running.append(
        _challenge(
            hr,
            {
                "title": "Engineering against Marketing",
                "description": "Which team earns more points per active member? "
                "A friendly rematch of last year's summer party quiz.",
                "starts_at": _local(now, -14, 9),
                "ends_at": _local(now, 5, 17),
                "metric": Metric.POINTS,
                "mode": Mode.TEAM,
                "scope": ScopeKind.TEAM_VS_TEAM,
                "team_ids": [teams["Engineering"].id, teams["Marketing"].id],
                "prizes": [{"kind": PrizeKind.POINTS, "value": 20, "place": 1}],
            },
            _local(now, -15, 14),
            mark,
        )
    )
    for challenge, _mark in running:  # each start told as it came
        challenge_notices.tell_started(challenge.id, now=challenge.starts_at + timedelta(minutes=1))
    _told_back_then()  # the prizes of the settled challenge
    return {"settled": 1, "running": len(running), "badges": len(made)}


def _lessons(hr: Employee, now: datetime, mark: int) -> int:
    """The starter lessons, one every other hour the day after the fortnight was
    settled, and the people who finished them in the afternoon."""
    published = []
    for n, data in enumerate(DEMO_LESSONS):
        written = _local(now, -17, 9 + 2 * n)
        lesson = lessons.create_lesson(hr, dict(data))
        lessons.publish_lesson(hr, lesson)
        _dated(lesson, written)
        lesson.published_at = written + timedelta(minutes=10)
        mark = _date_audit(mark, written, step=timedelta(minutes=10))
        published.append(lesson)
    learners = [_person(DEMO_LOGINS["team_lead"]), _person(DEMO_LOGINS["hr"])]
    learners += [
        e
        for e in db.session.scalars(select(Employee).order_by(Employee.id))
        if e.participating and e not in learners
    ][:4]
    for n, person in enumerate(p for p in learners if p.participating):
        for lesson in published[: 2 if n == 0 else 1]:
            done = _local(now, -17, 15, 7 * n) + timedelta(minutes=20 * published.index(lesson))
            lessons.complete(person, lesson, [q["answer"] for q in lesson.questions])
            completion = db.session.get(LessonCompletion, (lesson.id, person.id))
            completion.completed_at = done
            line = db.session.scalar(
                select(LedgerLine).where(
                    LedgerLine.line_key == lesson_line_key(lesson.id, person.id)
                )
            )
            if line is not None:
                line.occurred_at = line.created_at = done
    db.session.flush()
    rollups.recount(since=_local(now, -18, 0).date())  # the lesson points, dated anew
    return mark


TEAM_REWARD = {
    "name": "Team breakfast",
    "description": "A long breakfast for the whole team, at a place the team chooses.",
    "cost": 150,
    "stock": 5,
    "kind": RewardKind.TEAM,
    "tax_note": "Company event for a team: within the yearly allowance per employee.",
}


def load_demo_game_since() -> dict[str, int]:
    """What happened in the game since the redemptions: yesterday HR added a team
    reward and three Sales colleagues pledged toward it; then the badge pass over
    everyone's history, each grant dated when it was earned and quiet when that was
    more than two days ago."""
    now = utcnow()
    hr = _person(DEMO_LOGINS["hr"])
    mark = _last_audit_id()
    pledges = 0
    offered = _local(now, -1, 9)
    reward = redemptions.create_reward(hr, dict(TEAM_REWARD))
    _dated(reward, offered)
    mark = _date_audit(mark, offered)
    team = _person(DEMO_LOGINS["team_lead"]).team
    givers = sorted(
        (e for e in team.members if e.participating),
        key=lambda e: (-ledger.balance(e.id).spendable, e.id),
    )[:3]
    for n, person in enumerate(givers):
        points = min(40, ledger.balance(person.id).spendable)
        if points <= 0:
            continue
        at = _local(now, -1, 10 + 2 * n, 5 * n)
        pledge, _ = team_rewards.pledge(person, reward.id, points, f"demo-pledge-{person.id}")
        pledge.created_at = at
        if n == 0:
            pledge.funding.created_at = at
        mark = _date_audit(mark, at)
        pledges += 1
    grants = sum(badges.evaluate_everyone(now))
    _inbox_back_then(now)
    _mail_back_then(now)
    _webhooks_back_then(now)
    return {"pledges": pledges, "grants": grants}


def _webhooks_back_then(now: datetime) -> None:
    """The analytics warehouse took each share and referral a second after it happened,
    but one: it answered 503 through every try, while it was being moved. Yesterday an
    admin turned the endpoint off until the move is done (the demo posts nowhere)."""
    deliveries = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.endpoint_id.is_not(None))
        .order_by(OutboxMessage.id)
    ).all()
    for message in deliveries:
        data = json.loads(message.payload)["data"]
        at = datetime.fromisoformat(data.get("created_at") or data["occurred_at"])
        message.created_at = message.next_attempt_at = at
        message.claimed_at = message.sent_at = at + timedelta(seconds=1)
        message.state, message.attempts, message.last_status = DeliveryState.SENT, 1, 200
    if deliveries:
        lost = deliveries[len(deliveries) // 2]
        lost.state, lost.sent_at, lost.attempts = DeliveryState.FAILED, None, 8
        lost.last_status, lost.last_error = 503, "503 Service Unavailable: moving to a new host"
    warehouse = db.session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.url == WAREHOUSE["url"])
    )
    warehouse.disabled_at = now - timedelta(days=1)
    warehouse.disabled_reason = outbox.OFF_BY_ADMIN
    _in_time_order(OutboxMessage, OutboxMessage.endpoint_id.is_not(None))


def _mail_back_then(now: datetime) -> None:
    """The weekly digests of the demo's history, composed as the clock would have on
    each first weekday at nine and sent a minute later: the stories came out on the
    first day, so the first digest carried them and later ones had nothing new. One
    bounced (a colleague's mailbox was moved), for the admins' list of failed mail."""
    # A referral's stage went by mail as it was recorded (mail is on for it by default).
    happened = _referral_times()
    referral_mail = select(OutboxMessage).where(
        OutboxMessage.kind == NotificationKind.REFERRAL_STAGE
    )
    for message in db.session.scalars(referral_mail):
        at = happened[message.key.split(":", 2)[2]]  # "<kind>:<employee>:<told key>"
        message.created_at = message.next_attempt_at = at
        message.state, message.attempts = DeliveryState.SENT, 1
        message.sent_at = at + timedelta(minutes=1)
    zone, week_start = company_calendar()
    today = now.astimezone(zone).date()
    last_start = (today.weekday() - week_start) % 7
    for weeks in range(HISTORY.days // 7 + 1, 0, -1):
        days = -(last_start + 7 * (weeks - 1))
        if days == 0:
            continue  # today's digest is the clock's to write
        moment = _local(now, days, 9, 5)
        sum(digests.compose_due(moment))
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == DeliveryState.PENDING)
            .values(state=DeliveryState.SENT, attempts=1, sent_at=moment + timedelta(minutes=1))
        )
    bounced = db.session.execute(
        select(OutboxMessage, Employee.email)
        .join(Employee, Employee.id == OutboxMessage.employee_id)
        .where(
            Employee.email.not_in(DEMO_LOGINS.values()),
            OutboxMessage.kind == NotificationKind.DIGEST,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if bounced is not None:
        message, email = bounced
        message.state, message.sent_at = DeliveryState.FAILED, None
        message.last_error = f"550 5.1.1 <{email}>: Recipient address rejected"
    db.session.flush()


def _referral_times() -> dict[str, datetime]:
    """When each referral stage happened, by the key it was told and mailed under."""
    return {f"referral:{r.id}": r.occurred_at for r in db.session.scalars(select(Referral))}


def _inbox_back_then(now: datetime) -> None:
    """What the demo's people were told as its history happened: each badge and each
    decision on a redemption in their inbox, dated when it came, and read a few hours
    later when that was more than two days ago."""
    grants = db.session.execute(
        select(BadgeGrant, Badge.name).join(Badge, Badge.id == BadgeGrant.badge_id)
    ).all()
    notifications.tell(
        badges.grant_told(g.employee_id, g.badge_id, name, g.level, g.period, at=g.granted_at)
        for g, name in grants
    )
    decided = select(Redemption).where(Redemption.state.in_(redemptions.NOTIFIED))
    notifications.tell(
        redemptions.decision_told(r, at=r.decided_at) for r in db.session.scalars(decided)
    )
    # A referral's stage was told as it was recorded (the demo records them all today).
    happened = _referral_times()
    told = select(Notification).where(Notification.kind == NotificationKind.REFERRAL_STAGE)
    for notification in db.session.scalars(told):
        notification.created_at = happened[notification.key]
    # Last week in short, as the clock told it when this week began (after the ranks of
    # both weeks' starts were kept, for the change of place).
    this_week = home_ranks.week_of(now)[1]
    home_ranks.ensure_snapshot(this_week - timedelta(days=7))
    sum(your_week.tell_weeks(min(this_week + timedelta(minutes=5), now)))
    old = select(Notification).where(
        Notification.read_at.is_(None), Notification.created_at < now - timedelta(days=2)
    )
    for notification in db.session.scalars(old):
        notification.read_at = notification.created_at + timedelta(hours=3)
    _in_time_order(Notification)


def _in_time_order(model, *where) -> None:
    """Write rows the history dated after the fact again, oldest first, so that their
    ids follow their times as they do when things happen one after another (inboxes and
    logs list the newest, by id, first)."""
    db.session.flush()
    table = model.__table__
    rows = [dict(row._mapping) for row in db.session.execute(select(table).where(*where))]
    rows.sort(key=lambda row: (row["created_at"], row["id"]))
    db.session.execute(delete(table).where(*where))
    for row in rows:
        del row["id"]
    bulk_insert(table, rows)
    db.session.expire_all()
