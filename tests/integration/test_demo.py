"""The demo holds together: rules in force before the history, guidelines and opt-ins
before the first share, timestamps spread and in order, a picture for every story."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEntry,
    ContentItem,
    Employee,
    GuidelineVersion,
    Redemption,
    RuleVersion,
    Share,
    utcnow,
)
from app.web.rules import needs_recalculation
from tests.conftest import sign_in


@pytest.fixture
def demo(app, runner, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))
    result = runner.invoke(args=["seed-demo", "--no-links"])
    assert result.exit_code == 0, result.output
    return app


def test_no_rule_needs_a_recalculation_and_all_are_in_force_before_the_first_share(demo):
    with demo.app_context():
        first_share = db.session.scalar(select(func.min(Share.created_at)))
        versions = db.session.scalars(select(RuleVersion)).all()
        assert versions
        assert [v.id for v in versions if needs_recalculation(v)] == []
        assert all(v.valid_from <= first_share for v in versions)


def test_guidelines_and_opt_ins_come_before_each_share(demo):
    with demo.app_context():
        guidelines = db.session.scalar(select(GuidelineVersion))
        first_share = db.session.scalar(select(func.min(Share.created_at)))
        opted = db.session.scalars(
            select(Employee.opted_in_at).where(Employee.opted_in_at.is_not(None))
        ).all()
        assert guidelines.created_at < min(opted)
        assert max(opted) < first_share
        assert len({t.replace(second=0, microsecond=0) for t in opted}) > len(opted) // 2
        late = db.session.scalar(
            select(func.count())
            .select_from(Share)
            .join(Employee, Employee.id == Share.employee_id)
            .where(Share.created_at < Employee.opted_in_at)
        )
        assert late == 0
        items = db.session.scalars(select(ContentItem)).all()
        assert all(item.published_at <= first_share for item in items)


def test_audit_entries_and_redemptions_are_spread_and_in_order(demo):
    now = utcnow()
    with demo.app_context():
        times = db.session.scalars(select(AuditEntry.created_at).order_by(AuditEntry.id)).all()
        assert times == sorted(times)
        assert times[-1] <= now
        minutes = {t.replace(second=0, microsecond=0) for t in times}
        assert len(minutes) >= 30
        assert times[-1] - times[0] > timedelta(days=30)
        redemptions = db.session.scalars(select(Redemption).order_by(Redemption.id)).all()
        assert len(redemptions) >= 3
        asked = [r.created_at for r in redemptions]
        assert asked == sorted(asked)
        assert len({t.replace(second=0, microsecond=0) for t in asked}) == len(asked)
        for redemption in redemptions:
            if redemption.decided_at is not None:
                assert redemption.created_at < redemption.decided_at <= now


def test_every_demo_story_has_a_picture_that_is_served(demo, client):
    with demo.app_context():
        items = db.session.scalars(select(ContentItem)).all()
        assert len(items) >= 4
        assert all(item.image_filename and item.image_credit for item in items)
        assert all(item.image_rights_confirmed for item in items)
        files = [item.image_filename for item in items]
        reader = db.session.scalar(select(Employee).where(Employee.opted_in_at.is_not(None)))
        sign_in(client, reader)
    assert len(set(files)) == len(files)
    for name in files:
        with client.get(f"/media/{name}") as response:
            assert response.status_code == 200
            assert response.mimetype == "image/png"
            assert response.data.startswith(b"\x89PNG")
