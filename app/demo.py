"""The demo company that ``make run`` loads: five teams, fifty people, every role."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ClickKind, ClickRecord, Employee, Role, utcnow
from app.services import participation, people
from scoring.participation import Network, Presence
from scoring.vocabulary import Channel, EventKind, ReferralStage

COMPANY = "Nordlicht Energie GmbH"
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
}

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
    settings = people.company_settings()
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
    guidelines = participation.publish_guidelines(
        hr_contact, body=GUIDELINES, contact_name=hr_contact.name, contact_email=hr_contact.email
    )
    # Most, not all, take part: the demo shows opted-out people and every presence.
    everyone = db.session.scalars(select(Employee).order_by(Employee.id)).all()
    for employee in everyone:
        if employee.email == DEMO_LOGINS["employee"] or rng.random() < 0.2:
            continue  # the demo employee walks through opting in themselves
        participation.opt_in(employee, guidelines.id)
        presence = rng.choices(list(Presence), weights=[8, 1, 1])[0]
        pseudonym = f"Advocate {employee.id:03d}" if presence is Presence.PSEUDONYM else None
        participation.update_presence(employee, presence, pseudonym)
        networks = rng.sample(list(Network), k=rng.randint(1, 3))
        participation.set_networks(
            employee,
            [
                {"network": n, "handle": None, "audience_size": rng.choice([None, 150, 420, 1300])}
                for n in networks
            ],
        )
        participation.set_interests(employee, [i.id for i in rng.sample(interests, k=2)])
    items = _content(hr_contact)
    _activity(rng, [e for e in everyone if e.participating], items)
    return True


STORIES = [
    {
        "title": "Our new wind farm feeds 40,000 homes",
        "summary": "Twelve turbines off the coast of Rügen went live this week.",
        "destination_url": f"https://www.{DOMAIN}/news/wind-farm-ruegen",
        "tags": ["news", "sustainability"],
        "featured": True,
        "campaign_hashtag": "#GreenGrid",
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
        "texts": {"linkedin": "Our sustainability report is out: the wins and the lessons."},
    },
    {
        "title": "Meet us at the Energy Transition Summit",
        "summary": "Talks, a workshop and our booth in Berlin, 3-4 December.",
        "destination_url": f"https://www.{DOMAIN}/events/summit",
        "tags": ["events"],
        "featured": False,
        "campaign_hashtag": "#ETSummit",
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


def _content(hr):
    from app.services import content, referrals, rules, taboo

    content.add_domain(hr, DOMAIN)
    for topic in TABOO_TOPICS:
        taboo.create_topic(hr, dict(topic))
    rules.install_default_rules(hr, effective_at=utcnow() - timedelta(days=120))
    referrals.create_programme(hr, name="Employee referrals", content_tag="job")
    items = []
    for story in STORIES:
        templates = [{"channel": Channel(c), "text": t} for c, t in story["texts"].items()]
        data = {k: v for k, v in story.items() if k != "texts"}
        item = content.create_content(hr, {**data, "templates": templates})
        content.publish(hr, item)
        item.published_at = utcnow() - timedelta(days=40)
        items.append(item)
    return items


def _activity(rng: random.Random, advocates, items) -> None:
    """Five weeks of shares, clicks and a few referrals, scored into the ledger."""
    from app.services import events, referrals, sharing

    now = utcnow()
    for employee in advocates:
        for _ in range(rng.randint(0, 6)):
            item = rng.choice(items)
            shared_at = now - timedelta(days=rng.uniform(0.5, 35))
            channel = rng.choice([Channel.LINKEDIN, Channel.LINKEDIN, Channel.X, Channel.XING])
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
                    f"click:{share.id}:{visitor}:{day.isoformat()}",
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


REWARDS = [
    {
        "name": "Company hoodie",
        "description": "Navy, organic cotton, with the Nordlicht wave.",
        "cost": 30,
        "stock": 25,
        "per_person_limit": 1,
    },
    {
        "name": "Conference ticket",
        "description": "A ticket for the Energy Transition Summit in Berlin.",
        "cost": 60,
        "stock": 3,
    },
    {
        "name": "Extra day off",
        "description": "One more day of holiday this year, agreed with your team lead.",
        "cost": 80,
        "per_person_limit": 2,
    },
    {
        "name": "Lunch with the CEO",
        "description": "An hour with our CEO, with two colleagues of your choice.",
        "cost": 120,
        "stock": 4,
        "per_person_limit": 1,
    },
]


def load_demo_rewards() -> int:
    """The reward catalogue and a few redemptions in every state, made through the real
    checks by the people with the most points. Runs after the demo's events are scored,
    so the balances are real; returns how many redemptions were made."""
    from app.services import ledger, rewards

    hr = db.session.scalar(select(Employee).where(Employee.email == DEMO_LOGINS["hr"]))
    catalogue = [rewards.create_reward(hr, dict(reward)) for reward in REWARDS]
    hoodie, ticket, day_off, _lunch = catalogue
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
    ]
    made = 0
    for person, (reward, outcome) in zip(richest, plan, strict=False):
        if ledger.balance(person.id).spendable < reward.cost:
            continue
        redemption, _ = rewards.redeem(person, reward.id, f"demo-{person.id}-{reward.id}")
        if outcome in ("approve", "fulfil"):
            rewards.approve(hr, redemption, "Sabine will get in touch about the date.")
        if outcome == "fulfil":
            rewards.fulfil(hr, redemption)
        if outcome == "reject":
            rewards.reject(hr, redemption, "Your size is sold out; new ones arrive next month.")
        made += 1
    return made
