"""The demo company that ``make run`` loads: five teams, fifty people, every role."""

from __future__ import annotations

import random

from sqlalchemy import select

from app.extensions import db
from app.models import Employee, Role
from app.services import participation, people
from scoring.participation import Network, Presence

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
    return True
