"""The domain's vocabulary (scoring.vocabulary): stored by value, so the values are
part of the data, and referral stages in the order a candidate reaches them."""

from __future__ import annotations

import pytest

from scoring.vocabulary import CHANNEL_LABELS, Channel, EventKind, ReferralStage


@pytest.mark.parametrize(
    ("stage", "order", "kind"),
    [
        (ReferralStage.APPLIED, 0, EventKind.REFERRAL_APPLIED),
        (ReferralStage.INTERVIEWED, 1, EventKind.REFERRAL_INTERVIEWED),
        (ReferralStage.HIRED, 2, EventKind.REFERRAL_HIRED),
    ],
)
def test_referral_stages(stage: ReferralStage, order: int, kind: EventKind):
    assert (stage.order, stage.event_kind) == (order, kind)


@pytest.mark.parametrize(
    ("channel", "value", "label"),
    [
        (Channel.LINKEDIN, "linkedin", "LinkedIn"),
        (Channel.X, "x", "X"),
        (Channel.FACEBOOK, "facebook", "Facebook"),
        (Channel.XING, "xing", "XING"),
        (Channel.INSTAGRAM, "instagram", "Instagram"),
        (Channel.EMAIL, "email", "E-mail"),
    ],
)
def test_channels_are_stored_by_value_and_spelled_as_they_spell_themselves(
    channel: Channel, value: str, label: str
):
    assert (channel.value, channel.label) == (value, label)


def test_every_channel_has_a_label_and_every_kind_a_stored_value():
    assert set(CHANNEL_LABELS) == set(Channel)
    assert [kind.value for kind in EventKind] == [
        "share",
        "click",
        "referral_applied",
        "referral_interviewed",
        "referral_hired",
    ]
