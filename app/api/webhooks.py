"""Webhooks machines post to. Public by route: the signature is the authentication."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask.views import MethodView

from app.api.support import api_blueprint
from app.auth import public
from app.extensions import limiter
from app.models import Referral
from app.schemas.referrals import ReferralReceiptSchema, WebhookDeliverySchema
from app.services import referrals

TIMESTAMP_HEADER = "X-Chorus-Timestamp"
SIGNATURE_HEADER = "X-Chorus-Signature"
# Generous for an ATS (bulk syncs included), yet a cap on what one address can make us hash.
WEBHOOK_RATE_LIMIT = "1200 per minute"

bp = api_blueprint("webhooks", "/webhooks", "Signed deliveries from applicant-tracking systems.")
limiter.limit(WEBHOOK_RATE_LIMIT)(bp)

SIGNATURE_DOC = f"""
Authentication is the signature, not a token. Every delivery carries two headers:

- ``{TIMESTAMP_HEADER}``: the time of sending, in Unix seconds;
- ``{SIGNATURE_HEADER}``: ``sha256=`` and the lowercase hex HMAC-SHA256, under the
  integration's secret, of the timestamp, a full stop and the raw body bytes
  (``<timestamp>.<body>``).

A missing or wrong signature, an unknown or revoked integration, or a timestamp more
than {int(referrals.REPLAY_WINDOW.total_seconds())} seconds away from Chorus's clock
(either side) answers 401, the same answer for each.

The body is JSON: ``ref`` (the referral code the tracked link carried), ``candidate_id``
(stored only as a keyed hash), ``stage`` (``applied``, ``interviewed`` or ``hired``) and
optionally ``occurred_at`` (ISO 8601 with a zone; default now; not in the future).
Unknown fields are ignored; bad fields answer 422 naming them.

Each (candidate, stage) is recorded once: delivering it again answers 200 with the
first record. ``outcome`` says what it earned: ``awarded``, ``backwards`` (earlier than
a stage already recorded; nothing awarded) or ``unattributed``.
"""


def signed_delivery(view: Callable) -> Callable:
    """Check the signature before anything of the body is parsed or trusted."""

    @wraps(view)
    def verified(*args, **kwargs):
        g.integration = referrals.verify_delivery(
            kwargs["integration_id"],
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            request.get_data(cache=True),  # the raw bytes, kept for the JSON parser
        )
        return view(*args, **kwargs)

    return verified


_HEADERS = [
    {
        "in": "header",
        "name": TIMESTAMP_HEADER,
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "description": "Unix seconds when the delivery was signed",
    },
    {
        "in": "header",
        "name": SIGNATURE_HEADER,
        "required": True,
        "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
        "description": "sha256=<hex HMAC-SHA256 of '<timestamp>.<raw body>' under the secret>",
    },
]


@bp.route("/ats/<int:integration_id>")
class AtsWebhook(MethodView):
    @public
    @signed_delivery
    @bp.doc(description=SIGNATURE_DOC, parameters=_HEADERS)
    @bp.arguments(WebhookDeliverySchema)
    @bp.response(200, ReferralReceiptSchema)
    @bp.alt_response(401, response="UNAUTHORIZED", description="Not signed by a known integration")
    def post(self, data: dict, integration_id: int) -> Referral:
        """A candidate reached a stage (applicant-tracking system)"""
        result = referrals.record_stage(
            ref_code=data["ref"],
            candidate_id=data["candidate_id"],
            stage=data["stage"],
            occurred_at=data["occurred_at"],
            integration=g.integration,
        )
        return result.referral
