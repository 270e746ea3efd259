"""My shares: each with its tracked link, counted and filtered clicks, and referrals."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.auth import requires_role
from app.extensions import db
from app.models import Role
from app.services import sharing
from app.web.feed import CHANNEL_LABELS
from app.web.pages import me, page_number

bp = Blueprint("share_pages", __name__, url_prefix="/me/shares")


@bp.get("")
@requires_role(Role.EMPLOYEE)
def index():
    page = db.paginate(
        sharing.my_shares_select(me()), page=page_number(), per_page=20, error_out=False
    )
    return render_template(
        "shares/index.html",
        page=page,
        stats=sharing.share_stats([share.id for share in page.items]),
        CHANNEL_LABELS=CHANNEL_LABELS,
    )


@bp.get("/<int:share_id>")
@requires_role(Role.EMPLOYEE)
def detail(share_id: int):
    share = sharing.own_share(me(), share_id)
    return render_template(
        "shares/detail.html",
        share=share,
        package=sharing.package(share),
        stats=sharing.share_stats([share.id])[share.id],
        CHANNEL_LABELS=CHANNEL_LABELS,
    )
