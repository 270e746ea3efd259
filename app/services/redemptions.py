"""The reward catalogue (HR) and redemptions: employees spend their spendable points on
non-monetary rewards, HR approves, rejects and fulfils.

A redemption is one transaction that locks the employee's row and then the reward's:
balance, stock and per-person limit are checked under the employee's lock, one unit of
stock is taken by a conditional UPDATE, which locks the reward's row from there to the
commit only (every redemption of a reward must pass that row), and the redemption is
inserted under the client's idempotency key (unique per employee). Every later move is
a conditional ``UPDATE ... WHERE state IN (...)``: of two racing moves only one finds
its state, so a refund (points and stock back) happens exactly once. Nothing here
writes to the ledger or the boards: spending never lowers rank. The employee is told
of each decision by mail, from a job that sweeps up the decisions not told yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from app.db import lock_row
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Employee, Redemption, RedemptionState, Reward, utcnow
from app.services import audit, content, ledger, notifications, outbox, webhook_endpoints
from app.services.calendar import company_calendar
from app.services.names import flush_unique, same_name_as
from app.services.notifications import Told
from app.urls import path_for
from rewards.redemptions import (
    COUNTED,
    REFUNDED,
    WINDOW_REFUSALS,
    Kind,
    Party,
    RedemptionCheck,
    Refusal,
    TransitionRefused,
    check_redemption,
    check_transition,
    reward_problems,
    sources,
)
from scoring.notifications import Kind as NotificationKind
from scoring.webhooks import Event

NOTE_MAX = 300
REWARD_FIELDS = (
    "name",
    "description",
    "cost",
    "stock",
    "per_person_limit",
    "active",
    "kind",
    "charity_name",
    "available_from",
    "available_until",
    "needs_approval",
    "tax_note",
    "image_credit",
    "image_rights_confirmed",
)
# Decisions the employee hears about by mail; their own requests and cancellations not.
NOTIFIED = frozenset(
    {RedemptionState.APPROVED, RedemptionState.REJECTED, RedemptionState.FULFILLED}
)


class RedemptionRefused(Conflict):
    """Balance, stock, the per-person limit or retirement says no; nothing was changed."""

    def __init__(self, check: RedemptionCheck):
        super().__init__(check.message, field="reward_id")
        self.refusal = check.refusal


class OutsideWindow(InvalidInput):
    """The reward is not available yet, or no longer: a 422 naming the date."""

    def __init__(self, check: RedemptionCheck):
        super().__init__(check.message, field="reward_id")
        self.refusal = check.refusal


def company_today() -> date:
    """Today in the company's time zone: the day an availability window is read on."""
    return utcnow().astimezone(company_calendar()[0]).date()


# The catalogue ---------------------------------------------------------------------


def _name_taken(name: str, other_than: int | None = None) -> bool:
    return same_name_as(Reward.name, name, other_than=other_than) is not None


def _tidy(changes: dict) -> dict:
    """Blank optional texts are stored as none, the tax note trimmed."""
    for key in ("charity_name", "image_credit"):
        if key in changes:
            changes[key] = (changes[key] or "").strip() or None
    if "tax_note" in changes:
        changes["tax_note"] = (changes["tax_note"] or "").strip()
    return changes


def _check_details(reward: Reward) -> None:
    """The kind, the window and the image's rights, as they would be saved; raises
    before anything is written."""
    problems = reward_problems(
        Kind(reward.kind or Kind.EXPERIENCE),
        reward.charity_name,
        reward.available_from,
        reward.available_until,
        reward.cost,
    )
    if reward.image_filename and not reward.image_rights_confirmed:
        problems["image_rights_confirmed"] = "Confirm that we may use this image."
    if reward.image_filename and not reward.image_credit:
        problems["image_credit"] = "Name the image's source or photographer."
    if problems:
        field, message = next(iter(problems.items()))
        raise InvalidInput(message, field=field, errors={k: [v] for k, v in problems.items()})
    if reward.kind != Kind.DONATION:
        reward.charity_name = None  # only a donation names a charity


def create_reward(actor: Employee, data: dict) -> Reward:
    name = data["name"].strip()
    if _name_taken(name):
        raise Conflict(f"There is a reward called {name} already.", field="name")
    fields = _tidy({k: v for k, v in data.items() if k in REWARD_FIELDS})
    reward = Reward(**{**fields, "name": name})
    _check_details(reward)
    db.session.add(reward)
    flush_unique(Reward.name, f"There is a reward called {name} already.")
    audit.record(actor, "reward.create", reward, name=name, cost=reward.cost)
    return reward


def update_reward(actor: Employee, reward: Reward, changes: dict) -> Reward:
    """Change a reward. A new cost applies to redemptions from now on; those made before
    keep the points they held. Setting ``stock`` sets what is left."""
    changes = _tidy({k: v for k, v in changes.items() if k in REWARD_FIELDS})
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if _name_taken(changes["name"], other_than=reward.id):
            raise Conflict(f"There is a reward called {changes['name']} already.", field="name")
    changed = {k: v for k, v in changes.items() if getattr(reward, k) != v}
    with db.session.no_autoflush:
        before = {k: getattr(reward, k) for k in changed}
        for key, value in changed.items():
            setattr(reward, key, value)
        try:
            _check_details(reward)
        except InvalidInput:
            for key, value in before.items():  # nothing changes for a refused save
                setattr(reward, key, value)
            raise
    flush_unique(Reward.name, f"There is a reward called {reward.name} already.")
    if changed:
        audit.record(actor, "reward.update", reward, changes=sorted(changed))
    return reward


def set_image(actor: Employee, reward: Reward, image: bytes) -> Reward:
    """A new image, checked by its first bytes and size like content images and stored
    the same way, under the credit and rights confirmation set on the reward first."""
    content.check_image(image)
    if not reward.image_rights_confirmed:
        raise InvalidInput(
            "Confirm that we may use this image first.", field="image_rights_confirmed"
        )
    if not reward.image_credit:
        raise InvalidInput("Name the image's source or photographer first.", field="image_credit")
    reward.image_filename = content.store_image(image)
    db.session.flush()
    audit.record(actor, "reward.image", reward, name=reward.name)
    return reward


def remove_image(actor: Employee, reward: Reward) -> Reward:
    if reward.image_filename:
        reward.image_filename = None
        db.session.flush()
        audit.record(actor, "reward.image_remove", reward, name=reward.name)
    return reward


def retire_reward(actor: Employee, reward: Reward) -> Reward:
    """Take a reward out of the catalogue. Redemptions already made go on as they are."""
    if reward.active:
        reward.active = False
        db.session.flush()
        audit.record(actor, "reward.retire", reward, name=reward.name)
    return reward


@dataclass(frozen=True)
class CatalogueEntry:
    reward: Reward
    redeemed: int  # by this employee, rejected and cancelled ones not counted
    check: RedemptionCheck


def catalogue(employee: Employee) -> tuple[ledger.Balance, list[CatalogueEntry]]:
    """The active rewards, cheapest first, each with whether the employee may redeem it
    now and why not (the redemption itself checks again, under its locks)."""
    balance = ledger.balance(employee.id)
    counts = _redeemed(employee.id)
    today = company_today()
    rewards = db.session.scalars(
        select(Reward).where(Reward.active).order_by(Reward.cost, Reward.name)
    )
    return balance, [
        CatalogueEntry(reward, counts.get(reward.id, 0), _check(reward, balance, counts, today))
        for reward in rewards
    ]


def _redeemed(employee_id: int, reward_id: int | None = None) -> dict[int, int]:
    """The employee's redemptions per reward that count against limits (rejected and
    cancelled ones do not)."""
    query = (
        select(Redemption.reward_id, func.count())
        .where(Redemption.employee_id == employee_id, Redemption.state.in_(COUNTED))
        .group_by(Redemption.reward_id)
    )
    if reward_id is not None:
        query = query.where(Redemption.reward_id == reward_id)
    return dict(db.session.execute(query).all())


def _check(
    reward: Reward, balance: ledger.Balance, counts: dict[int, int], today: date
) -> RedemptionCheck:
    return check_redemption(
        spendable=balance.spendable,
        cost=reward.cost,
        active=reward.active,
        stock=reward.stock,
        per_person_limit=reward.per_person_limit,
        already_redeemed=counts.get(reward.id, 0),
        today=today,
        available_from=reward.available_from,
        available_until=reward.available_until,
        kind=Kind(reward.kind),
    )


# Redeeming -------------------------------------------------------------------------


def _redeeming_statements():
    """What a redemption reads and writes, built once (building a statement cost more
    client time than running it), on the tables' columns rather than the mapped classes:
    no objects are loaded or flushed on the way.

    - ``read``: after the employee's lock, in one round trip, the reward's details, the
      redemption already made under this key, the employee's redemptions of this reward
      that count against its limit, and the employee's balance. No row when there is no
      such reward.
    - ``write``: the new redemption, returning its id.
    - ``take``: one unit of stock, by ``UPDATE ... SET stock = stock - 1 WHERE stock >
      0``: of redemptions racing for the last unit only one finds it, and the row stays
      locked until the commit."""
    rewards, redemptions = Reward.__table__, Redemption.__table__
    employee_id, reward_id = bindparam("employee_id"), bindparam("reward_id")
    mine = redemptions.c.employee_id == employee_id
    by_key = select(redemptions.c.id).where(mine, redemptions.c.idempotency_key == bindparam("key"))
    counted = select(func.count()).where(
        mine, redemptions.c.reward_id == reward_id, redemptions.c.state.in_(COUNTED)
    )
    read = select(
        rewards.c.cost,
        rewards.c.active,
        rewards.c.stock,
        rewards.c.per_person_limit,
        rewards.c.available_from,
        rewards.c.available_until,
        rewards.c.kind,
        rewards.c.needs_approval,
        by_key.scalar_subquery().label("existing_id"),
        counted.scalar_subquery().label("counted"),
        *ledger.BALANCE_SUMS,
    ).where(rewards.c.id == reward_id)
    write = insert(redemptions).returning(redemptions.c.id)
    take = (
        update(rewards)
        .where(rewards.c.id == reward_id, rewards.c.stock > 0)
        .values(stock=rewards.c.stock - 1)
    )
    return read, write, take


_READ, _WRITE, _TAKE = _redeeming_statements()
_BALANCE_AT = -len(ledger.BALANCE_SUMS)  # where the balance's sums start in a read row


def redeem(employee: Employee, reward_id: int, key: str) -> tuple[Redemption, bool]:
    """Redeem a reward; returns the redemption and whether it is new. The same ``key``
    again answers with the first redemption and changes nothing.

    The employee's row is locked first (their balance: spending is serialised per
    person) until the commit; everything else is read after the lock, in a statement
    of its own, so that it sees what a twin request committed meanwhile (a statement
    that locks and reads at once would read the rest as it was before the lock was
    granted). The reward's row is not locked for the read; its stock is taken after
    the checks and before the redemption is written. That order matters on
    PostgreSQL: the insert's foreign-key check takes a shared lock on the reward's
    row, and shared locks held by many transactions at once become a MultiXact that
    the stock update and every later reader must expand (under 50-way concurrency
    that tripled the server's CPU per redemption). Taken after the update, by the
    transaction already holding the row, it adds nothing. On SQLite the first lock
    serialises everything."""
    key = key.strip()
    if not key:
        raise InvalidInput("Send an idempotency key.", field="idempotency_key")
    lock_row(Employee, employee.id)
    now = utcnow()
    row = db.session.execute(
        _READ, {"employee_id": employee.id, "reward_id": reward_id, "key": key, "now": now}
    ).first()
    if row is None:
        raise NotFound(f"No reward with id {reward_id}.", field="reward_id")
    if row.existing_id is not None:
        existing = db.session.get(Redemption, row.existing_id)
        if existing.reward_id != reward_id:
            raise Conflict(
                "This idempotency key was used for another reward.", field="idempotency_key"
            )
        return existing, False
    check = check_redemption(
        spendable=ledger.balance_from(row[_BALANCE_AT:]).spendable,
        cost=row.cost,
        active=row.active,
        stock=row.stock,
        per_person_limit=row.per_person_limit,
        already_redeemed=row.counted,
        today=now.astimezone(company_calendar()[0]).date(),
        available_from=row.available_from,
        available_until=row.available_until,
        kind=Kind(row.kind),
    )
    if check.refusal in WINDOW_REFUSALS:
        raise OutsideWindow(check)
    if not check.allowed:
        raise RedemptionRefused(check)
    values = {
        "employee_id": employee.id,
        "reward_id": reward_id,
        "idempotency_key": key,
        "points": row.cost,
        "state": RedemptionState.PENDING,
        "created_at": now,
        "decided_at": None,
        "decided_by_id": None,
        "decision_note": None,
        "notified_state": RedemptionState.PENDING,  # they asked: nothing to tell them
    }
    if not row.needs_approval:
        # Approved at once, as the state machine allows the reward's rule: the row is
        # new and nobody else can see it yet, so it is written approved rather than
        # written pending and then moved. The employee hears by mail (``untold``).
        check_transition(RedemptionState.PENDING, RedemptionState.APPROVED, Party.RULE)
        values.update(state=RedemptionState.APPROVED, decided_at=now, notified_state=None)
    if row.stock is not None:  # the row is held from here to the commit
        if db.session.execute(_TAKE, {"reward_id": reward_id}).rowcount != 1:
            raise RedemptionRefused(RedemptionCheck(Refusal.STOCK, "This reward is out of stock."))
        _forget_stock(reward_id)
    made_id = db.session.execute(_WRITE, values).scalar_one()
    # The row as written, known to the session without reading it back.
    redemption = Redemption(id=made_id, **values)
    make_transient_to_detached(redemption)
    db.session.add(redemption)
    return redemption, True


def _forget_stock(reward_id: int) -> None:
    """A Reward this session holds reads its stock anew."""
    reward = db.session.identity_map.get(identity_key(Reward, reward_id))
    if reward is not None:
        db.session.expire(reward, ["stock"])


# Moving on: approve, fulfil, reject, cancel ----------------------------------------


def get_redemption(redemption_id: int, owner_id: int | None = None) -> Redemption:
    """A redemption by id; with ``owner_id``, only that employee's (others' are 404)."""
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None or (owner_id is not None and redemption.employee_id != owner_id):
        raise NotFound(f"No redemption with id {redemption_id}.", field="id")
    return redemption


def _move(
    redemption: Redemption,
    target: RedemptionState,
    party: Party,
    actor: Employee | None,
    note: str | None,
    now: datetime | None = None,
) -> bool:
    """Move ``redemption`` to ``target``; False when it is there already (a repeated
    request changes nothing). Refunds give the unit of stock back in the same
    transaction; the points come back by themselves, since the balance no longer
    counts a rejected or cancelled redemption."""
    if redemption.state == target:
        return False
    try:
        check_transition(redemption.state, target, party)
    except TransitionRefused as exc:
        raise Conflict(exc.message, field="state") from exc
    moved = db.session.execute(
        update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.state.in_(sources(target, party)))
        .values(
            state=target,
            decided_at=now or utcnow(),
            decided_by_id=actor.id if actor else None,
            decision_note=note,
            # A decision waits to be told; the employee's own cancelling needs no mail.
            **({"notified_state": None} if target in NOTIFIED else {}),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(redemption)
    if moved != 1:
        if redemption.state == target:  # a racing twin of this request got there first
            return False
        raise Conflict(f"The redemption became {redemption.state.value} meanwhile.", field="state")
    if target in REFUNDED:
        db.session.execute(
            update(Reward)
            .where(Reward.id == redemption.reward_id, Reward.stock.is_not(None))
            .values(stock=Reward.stock + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(redemption.reward)
    return True


def _note(note: str | None) -> str | None:
    return (note or "").strip()[:NOTE_MAX] or None


def approve(actor: Employee, redemption: Redemption, note: str | None = None) -> Redemption:
    if _move(redemption, RedemptionState.APPROVED, Party.HR, actor, _note(note)):
        audit.record(actor, "redemption.approve", redemption, reward=redemption.reward.name)
    return redemption


def fulfil(actor: Employee, redemption: Redemption, note: str | None = None) -> Redemption:
    if _move(redemption, RedemptionState.FULFILLED, Party.HR, actor, _note(note)):
        audit.record(actor, "redemption.fulfil", redemption, reward=redemption.reward.name)
    return redemption


def reject(actor: Employee, redemption: Redemption, reason: str | None) -> Redemption:
    """Say no, with a reason the employee reads; their points and the stock come back."""
    reason = _note(reason)
    if reason is None and redemption.state != RedemptionState.REJECTED:
        raise InvalidInput("Say why; the employee will read it.", field="reason")
    if _move(redemption, RedemptionState.REJECTED, Party.HR, actor, reason):
        audit.record(
            actor, "redemption.reject", redemption, reward=redemption.reward.name, reason=reason
        )
    return redemption


def cancel(employee: Employee, redemption: Redemption) -> Redemption:
    """The employee withdraws their own pending redemption: points and stock come back."""
    _move(redemption, RedemptionState.CANCELLED, Party.OWNER, employee, None)
    return redemption


# Telling the employee --------------------------------------------------------------


# A decision waits to be told in its own row (``notified_state`` None), so a mail is
# never lost to a queue that was down at the commit: the mail job sweeps them up.
SWEEP = 200  # decisions told per run of the job at most; the next run takes the rest


def untold(limit: int = SWEEP) -> list[int]:
    """Ids of redemptions whose employee was not told of a decision yet, oldest first
    (a partial index holds exactly these)."""
    query = select(Redemption.id).where(Redemption.notified_state.is_(None))
    return list(db.session.scalars(query.order_by(Redemption.id).limit(limit)))


DECISION_WORDS = {
    RedemptionState.APPROVED: "was approved; HR will hand it over",
    RedemptionState.REJECTED: "was not approved, and your points are back",
    RedemptionState.FULFILLED: "is fulfilled: enjoy it",
}


def notify_decision(redemption_id: int) -> bool:
    """Tell the employee the decision on their redemption that they were not told of:
    in their inbox, and by mail when they want it (the outbox sends it); True when a
    mail was queued. The conditional UPDATE marks it told first (and on PostgreSQL
    holds the row until the commit), so a second run finds nothing to say. A row that
    waits with nothing to tell (not a decision) is marked and left."""
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None:
        return False
    marked = db.session.execute(
        update(Redemption)
        .where(
            Redemption.id == redemption_id,
            Redemption.state == redemption.state,
            Redemption.notified_state.is_(None),
        )
        .values(notified_state=redemption.state)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != 1 or redemption.state not in NOTIFIED:
        return False
    told = decision_told(redemption)
    notifications.tell([told])
    state = redemption.state.value
    data = {
        "redemption_id": redemption.id,
        "reward_id": redemption.reward_id,
        "reward": redemption.reward.name,
        "employee_id": redemption.employee_id,
        "points": redemption.points,
        "state": state,
        "decided_at": redemption.decided_at.isoformat() if redemption.decided_at else None,
    }
    webhook_endpoints.emit(Event.REDEMPTION_DECIDED, [(f"{redemption.id}:{state}", data)])
    return outbox.queue_mail([outbox.mail_of(told)]) == 1


def _decision_words(redemption: Redemption) -> str:
    state = DECISION_WORDS[redemption.state]
    return f"{redemption.reward.name} ({redemption.points} points) {state}."


def decision_told(redemption: Redemption, at: datetime | None = None) -> Told:
    """The inbox's words for the decision ``redemption`` is in."""
    note = redemption.decision_note
    return Told(
        redemption.employee_id,
        NotificationKind.REDEMPTION_DECIDED,
        key=f"redemption:{redemption.id}:{redemption.state.value}",
        title=f"Your reward: {redemption.reward.name}",
        body=f"Your redemption of {_decision_words(redemption)}" + (f" {note}" if note else ""),
        link=path_for("reward_pages.my_redemptions"),
        at=at,
    )
