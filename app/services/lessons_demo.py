"""Three starter lessons: a professional profile, what stays off-limits, and disclosing
that you work here. Plain words, a few minutes each; HR can edit or retire them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Employee, Lesson
from app.services import lessons

DEMO_LESSONS: tuple[dict[str, Any], ...] = (
    {
        "title": "Building a professional profile",
        "summary": "Before you share anything: a profile people trust, in ten minutes.",
        "body": (
            "People decide in a few seconds whether to read what you post, and they look "
            "at your profile first.\n\n"
            "Use a clear, friendly photo of yourself: not a logo, not a holiday crowd.\n\n"
            "Write a headline that says what you do and for whom, in your own words. "
            '"Engineer building offshore wind farms" says more than a job code.\n\n'
            "Say where you work. It is honest, and it makes everything you share about "
            "us easier to understand.\n\n"
            "Keep it yours. Your profile belongs to you, not to the company: share what "
            "you are comfortable with, and nothing more."
        ),
        "points": 10,
        "questions": [
            {
                "question": "Which headline tells a reader the most?",
                "choices": [
                    "Employee at a company",
                    "Engineer building offshore wind farms",
                    "Open to everything",
                ],
                "answer": 1,
            },
            {
                "question": "Whose is your profile?",
                "choices": ["Yours", "The company's", "HR's"],
                "answer": 0,
            },
        ],
    },
    {
        "title": "What stays off-limits",
        "summary": "Some things are never shared, however proud you are of them.",
        "body": (
            "Sharing is voluntary, and most of what we do can be talked about. A few "
            "things cannot.\n\n"
            "Confidential information: figures before they are published, customers who "
            "have not agreed to be named, plans, prices and anything marked internal.\n\n"
            "Other people's data: colleagues' names, photos or health, candidates, "
            "customers. Ask before you show anyone.\n\n"
            "Taboo topics: politics and religion in the company's name, rumours, and "
            "comments on competitors or on pending legal matters.\n\n"
            "When in doubt, leave it out, or ask the communications team first. Chorus "
            "warns you about some of these words, but the judgement is yours."
        ),
        "points": 10,
        "questions": [
            {
                "question": "Next quarter's sales figures, before they are published, are:",
                "choices": [
                    "Fine to share with a #employee tag",
                    "Confidential: never shared",
                    "Fine on LinkedIn only",
                ],
                "answer": 1,
            },
            {
                "question": "You took a photo of colleagues at the summer party. Before "
                "posting it you:",
                "choices": ["Ask them", "Blur the logo", "Post it at night"],
                "answer": 0,
            },
            {
                "question": "When you are unsure whether something may be shared:",
                "choices": [
                    "Share it and delete it later",
                    "Leave it out or ask first",
                    "Share it without the link",
                ],
                "answer": 1,
            },
        ],
    },
    {
        "title": "How and why to disclose that you work here",
        "summary": "Say openly that you work here: it is honest, and the law asks for it.",
        "body": (
            "When you post about your employer, readers have a right to know that you "
            "work here. Hiding it turns a recommendation into advertising in disguise, "
            "and consumer protection rules treat it that way.\n\n"
            "Chorus adds a disclosure tag (for example #employee) to every text you share, "
            'and you cannot remove it. You may also say it in your own words: "Proud of '
            'my team at ..." is a disclosure people read gladly.\n\n'
            "Disclose on every network, also in short posts and comments about us."
        ),
        "points": 10,
        "questions": [
            {
                "question": "Why do you disclose that you work here?",
                "choices": [
                    "So readers can judge what they read",
                    "To collect more points",
                    "Only because HR says so",
                ],
                "answer": 0,
            },
            {
                "question": "Which post discloses it?",
                "choices": [
                    "Great product, buy it!",
                    "Proud of my team, we launched it today #employee",
                    "Great product, no ads here",
                ],
                "answer": 1,
            },
        ],
    },
)


def add_demo_lessons(actor: Employee | None, now: datetime) -> list[Lesson]:
    """The starter lessons, published a day apart before ``now``; none when a lesson with
    the same title exists (running it twice adds nothing)."""
    have = set(db.session.scalars(select(Lesson.title)))
    added = []
    for age, data in enumerate(reversed(DEMO_LESSONS)):
        if data["title"] in have:
            continue
        lesson = lessons.create_lesson(actor, dict(data))
        lesson.published_at = now - timedelta(days=age + 1)
        added.append(lesson)
    db.session.flush()
    return added
