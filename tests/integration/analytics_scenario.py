"""A company with history for the analytics tests: Sales (Ada, Dora, and Finn, who
never takes part) and Tech (Ben, Cem, and Eve, who joins late); shares, clicks and
referral stages around the end of summer time in Berlin (Sunday 25 October 2026, 25
hours long, ends a week) and the end of October, all through the real services."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Role, ScoringRule
from app.services import ledger, participation, referrals, sharing
from app.services import rules as rules_service
from app.services.scoring import score_pending_events
from scoring.participation import Network
from scoring.vocabulary import Channel, ReferralStage
from tests.factories import (
    CompanySettingsFactory,
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    EmployeeNetworkFactory,
    ReferralProgrammeFactory,
    TeamFactory,
)
from tests.integration.rollup_support import click, process_clicks


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


SCORED_AT = utc(2026, 11, 20, 12)


def seed_company() -> dict[str, int]:
    """Sales (Ada, Dora) and Tech (Ben, Cem, Eve, who joins late); a story and a job ad
    in a referral programme; shares, clicks and referral stages around the end of
    summer time and of October, scored, the share rule lowered back to October and
    recalculated, two adjustments; Cem stops taking part in November."""
    CompanySettingsFactory(time_zone="Europe/Berlin")
    rules_service.install_default_rules(effective_at=utc(2026, 9, 1))
    sales, tech = TeamFactory(name="Sales"), TeamFactory(name="Tech")
    joined = utc(2026, 10, 1, 8)
    ada = EmployeeFactory(name="Ada", team=sales, opted_in_at=joined)
    ben = EmployeeFactory(name="Ben", team=tech, opted_in_at=joined)
    cem = EmployeeFactory(name="Cem", team=tech, opted_in_at=joined)
    dora = EmployeeFactory(name="Dora", team=sales, opted_in_at=joined)
    eve = EmployeeFactory(name="Eve", team=tech, opted_in_at=utc(2026, 10, 28, 9))
    EmployeeFactory(name="Finn", team=sales)  # never takes part
    # Declared audiences: what potential reach adds up, per share, as declared then.
    EmployeeNetworkFactory(employee=ada, network=Network.LINKEDIN, audience_size=500)
    ben_on_x = EmployeeNetworkFactory(employee=ben, network=Network.X, audience_size=120)
    story, job = ContentItemFactory(title="Story"), ContentItemFactory(title="Job ad")
    ContentTagFactory(content_id=job.id, tag="job")
    ReferralProgrammeFactory(content_tag="job")

    def share(person, item, channel, at):
        return sharing.record_share(person, item, channel, "Worth a read", at, share_points=True)

    s1 = share(ada, story, Channel.LINKEDIN, utc(2026, 10, 24, 18))  # Sat 20:00
    s2 = share(ben, job, Channel.X, utc(2026, 10, 25, 22, 30))  # Sun 23:30, winter time
    s3 = share(ada, job, Channel.LINKEDIN, utc(2026, 10, 25, 23, 10))  # Mon 00:10
    ben_on_x.audience_size = 9_000  # later: his share keeps the audience of its day
    s4 = share(cem, story, Channel.X, utc(2026, 10, 31, 22, 30))  # Sat 31 Oct 23:30
    db.session.commit()

    click(s1, utc(2026, 10, 25, 0, 30), "198.51.100.1")  # 02:30 summer time
    click(s1, utc(2026, 10, 25, 1, 30), "198.51.100.2")  # 02:30 again, winter time
    click(s1, utc(2026, 10, 25, 10), session_user_id=str(ada.id))  # her own: not counted
    click(s1, utc(2026, 10, 26, 7), "198.51.100.3")  # Monday
    click(s2, utc(2026, 10, 25, 22, 45), "198.51.100.4")  # Sun 23:45
    click(s2, utc(2026, 10, 25, 23, 5), "198.51.100.5")  # Mon 00:05
    click(s3, utc(2026, 10, 26, 8), "198.51.100.6")
    click(s3, utc(2026, 10, 26, 9), "198.51.100.6")  # the same visitor that day
    click(s3, utc(2026, 10, 26, 8, 30), "198.51.100.7", agent="Twitterbot/1.0")  # a preview
    click(s4, utc(2026, 10, 31, 23, 30), "198.51.100.8")  # Sun 1 Nov 00:30
    stats = process_clicks()
    assert (stats["read"], stats["recorded"], stats["events"]) == (10, 9, 7)
    db.session.expire_all()
    assert [s.counted_clicks for s in (s1, s2, s3, s4)] == [3, 2, 1, 1]

    def stage(ref_code, candidate, stage, at):
        referrals.record_stage(
            ref_code=ref_code, candidate_id=candidate, stage=stage, occurred_at=at
        )

    stage(s2.ref_code, "c1", ReferralStage.APPLIED, utc(2026, 10, 27, 9))
    stage(s2.ref_code, "c1", ReferralStage.HIRED, utc(2026, 11, 6, 9))
    stage(s3.ref_code, "c2", ReferralStage.APPLIED, utc(2026, 10, 26, 11))
    stage("no-such-code", "c3", ReferralStage.APPLIED, utc(2026, 10, 26, 11))  # unattributed
    stage(s1.ref_code, "c4", ReferralStage.APPLIED, utc(2026, 10, 26, 11))  # not a job ad
    stage(s2.ref_code, "c1", ReferralStage.APPLIED, utc(2026, 10, 28, 9))  # again: once
    db.session.commit()

    while score_pending_events(now=SCORED_AT):
        db.session.commit()
    sharing_rule = db.session.scalar(select(ScoringRule).where(ScoringRule.name == "Sharing"))
    rules_service.edit_rule(None, sharing_rule, {"points": 4}, effective_at=utc(2026, 10, 1))
    assert ledger.recalculate(None, utc(2026, 10, 1), now=SCORED_AT) == 4  # -1 a share
    admin = EmployeeFactory(role=Role.ADMIN)
    with time_machine.travel(utc(2026, 11, 10, 12), tick=False):
        ledger.adjust_points(admin, dora, 10, "Ran the booth at the fair", "fair")
        ledger.adjust_points(admin, ada, -3, "A share counted twice", "twice")
        db.session.commit()
    with time_machine.travel(utc(2026, 11, 2, 10), tick=False):
        participation.opt_out(cem)
        db.session.commit()
    return {
        "sales": sales.id,
        "tech": tech.id,
        "story": story.id,
        "job": job.id,
        **{p.name.lower(): p.id for p in (ada, ben, cem, dora, eve)},
    }
