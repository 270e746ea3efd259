"""Team rewards funded by pledges (the decisions are in ``rewards.funding``).

A member's first pledge toward a team reward opens the team's funding of it (one open
funding per reward and team: the partial unique index ``uq_team_fundings_open``
decides a race); later pledges join it. Every change to a funding or its pledges locks
the pledging member's row (their balance) and then the reward's row, in this order,
like a redemption: so the pledges of one reward are serialised, the pledge that
completes a funding sees every other, and the stock is taken once. When the held
pledges reach the target, in the same transaction, the funding becomes funded, its
pledges spent, one unit of stock is taken and an audit entry written; HR finds it in
the redemption queue under "Team rewards to fulfil". The clock's
``close_team_fundings`` refunds every open funding whose reward window has closed or
whose reward was retired. Every move is a conditional ``UPDATE ... WHERE state = ...``,
so a repeated or racing move changes nothing twice. Nothing here touches the ledger or
the boards: pledging never lowers rank.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.db import insert, lock_row
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import Employee, Pledge, Reward, TeamFunding, utcnow
from app.services import audit, ledger
from app.services.redemptions import company_today
from rewards.funding import (
    FUNDING,
    PLEDGE,
    WINDOW_REFUSALS,
    FundingState,
    Party,
    PledgeCheck,
    PledgeState,
    Refusal,
    TransitionRefused,
    check_pledge,
    closes,
    is_funded,
    remaining,
)
from rewards.redemptions import Kind
from scoring.participation import board_name


class PledgeRefused(Conflict):
    """Balance, stock, membership, a closed funding or a retired reward says no; nothing
    was changed."""

    def __init__(self, check: PledgeCheck):
        field = "points" if check.refusal is Refusal.BALANCE else "reward_id"
        super().__init__(check.message, field=field)
        self.refusal = check.refusal


def _refuse(check: PledgeCheck):
    if check.refusal is Refusal.AMOUNT:
        raise InvalidInput(check.message, field="points")
    if check.refusal in WINDOW_REFUSALS:
        raise InvalidInput(check.message, field="reward_id")
    if check.refusal in (Refusal.NOT_MEMBER, Refusal.NOT_PARTICIPATING):
        raise Forbidden(check.message, field="reward_id")
    raise PledgeRefused(check)


# Reading ---------------------------------------------------------------------------


def held_total(funding_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Pledge.points), 0)).where(
                Pledge.funding_id == funding_id, Pledge.state == PledgeState.HELD
            )
        )
    )


def open_funding(reward_id: int, team_id: int | None) -> TeamFunding | None:
    if team_id is None:
        return None
    return db.session.scalar(
        select(TeamFunding)
        .where(
            TeamFunding.reward_id == reward_id,
            TeamFunding.team_id == team_id,
            TeamFunding.state == FundingState.OPEN,
        )
        .execution_options(populate_existing=True)
    )


def latest_funding(reward_id: int, team_id: int | None) -> TeamFunding | None:
    """The team's open funding of the reward, or else its newest one."""
    if team_id is None:
        return None
    return open_funding(reward_id, team_id) or db.session.scalar(
        select(TeamFunding)
        .where(TeamFunding.reward_id == reward_id, TeamFunding.team_id == team_id)
        .order_by(TeamFunding.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Pledger:
    name: str | None  # as others see it: a pseudonym, or None for someone hidden
    points: int
    mine: bool
    pledge_id: int


@dataclass(frozen=True)
class Progress:
    reward: Reward
    funding: TeamFunding | None
    target: int  # the funding's target, or the reward's cost before one is open
    pledged: int  # held (open) or spent (funded) points
    pledgers: list[Pledger]
    my_pledge: Pledge | None  # the viewer's held pledge in the open funding

    @property
    def state(self) -> str:
        return self.funding.state.value if self.funding else "not_started"

    @property
    def remaining(self) -> int:
        return remaining(self.target, self.pledged)

    @property
    def percent(self) -> int:
        return min(100, self.pledged * 100 // self.target) if self.target > 0 else 100

    @property
    def hidden_pledgers(self) -> int:
        return sum(1 for p in self.pledgers if p.name is None)


def _shown(employee: Employee) -> str | None:
    return board_name(employee.presence, employee.name, employee.pseudonym)


def progress(reward: Reward, viewer: Employee) -> Progress:
    """The viewer's team's funding of a team reward: pledged of target and who pledged,
    each named as they chose to appear (hidden people are counted, not named; the
    viewer always sees their own pledge)."""
    funding = latest_funding(reward.id, viewer.team_id)
    if funding is None:
        return Progress(reward, None, reward.cost, 0, [], None)
    counted = PledgeState.HELD if funding.state == FundingState.OPEN else PledgeState.SPENT
    rows = db.session.execute(
        select(Pledge, Employee)
        .join(Employee, Employee.id == Pledge.employee_id)
        .where(Pledge.funding_id == funding.id, Pledge.state == counted)
        .order_by(Pledge.id)
    ).all()
    pledgers = [
        Pledger(
            "You" if employee.id == viewer.id else _shown(employee),
            pledge.points,
            employee.id == viewer.id,
            pledge.id,
        )
        for pledge, employee in rows
    ]
    mine = next((p for p, e in rows if e.id == viewer.id and p.state == PledgeState.HELD), None)
    return Progress(reward, funding, funding.target, sum(p.points for p, _ in rows), pledgers, mine)


def get_pledge(pledge_id: int, owner_id: int | None = None) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or (owner_id is not None and pledge.employee_id != owner_id):
        raise NotFound(f"No pledge with id {pledge_id}.", field="id")
    return pledge


def to_fulfil_select():
    """Funded team rewards HR has not handed over yet, oldest first."""
    return (
        select(TeamFunding)
        .where(TeamFunding.state == FundingState.FUNDED)
        .options(selectinload(TeamFunding.reward), selectinload(TeamFunding.team))
        .order_by(TeamFunding.closed_at, TeamFunding.id)
    )


def to_fulfil() -> list[TeamFunding]:
    return list(db.session.scalars(to_fulfil_select()))


# Pledging --------------------------------------------------------------------------


def _lock(employee_id: int, reward_id: int) -> Reward:
    """The member's row (their balance), then the reward's (its fundings and stock),
    until the commit; on SQLite the first lock serialises every writer."""
    lock_row(Employee, employee_id)
    reward = db.session.scalar(
        select(Reward)
        .where(Reward.id == reward_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if reward is None:
        raise NotFound(f"No reward with id {reward_id}.", field="reward_id")
    return reward


def _by_key(employee_id: int, key: str) -> Pledge | None:
    return db.session.scalar(
        select(Pledge).where(Pledge.employee_id == employee_id, Pledge.idempotency_key == key)
    )


def _open(reward: Reward, employee: Employee) -> TeamFunding:
    """Open the team's funding of the reward, or find the one a racing pledge opened:
    the partial unique index lets only one open funding per reward and team exist."""
    db.session.execute(
        insert(TeamFunding)
        .values(
            reward_id=reward.id,
            team_id=employee.team_id,
            target=reward.cost,
            state=FundingState.OPEN,
            opened_by_id=employee.id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=[TeamFunding.reward_id, TeamFunding.team_id],
            index_where=TeamFunding.state == FundingState.OPEN,
        )
    )
    return open_funding(reward.id, employee.team_id)


def pledge(employee: Employee, reward_id: int, points: int, key: str) -> tuple[Pledge, bool]:
    """Pledge ``points`` toward the employee's team's funding of a team reward, opening
    the funding when none is open; returns the pledge and whether it is new. More than
    is left to fund is capped at the remainder. The same ``key`` again answers with the
    first pledge and changes nothing. The pledge that reaches the target completes the
    funding in the same transaction."""
    key = (key or "").strip()
    if not key:
        raise InvalidInput("Send an idempotency key.", field="idempotency_key")
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidInput("Pledge a whole number of points above 0.", field="points")
    reward = _lock(employee.id, reward_id)
    existing = _by_key(employee.id, key)  # read after the locks: a twin that committed counts
    if existing is not None:
        if existing.funding.reward_id != reward_id:
            raise Conflict(
                "This idempotency key was used for another reward.", field="idempotency_key"
            )
        return existing, False
    if reward.kind != Kind.TEAM:
        raise Conflict("This reward is not a team reward: redeem it instead.", field="reward_id")
    funding = open_funding(reward.id, employee.team_id)
    held = held_total(funding.id) if funding else 0
    check = check_pledge(
        points=points,
        member_of_team=employee.team_id is not None,
        participating=employee.participating,
        active=reward.active,
        funding_open=True,
        remaining=remaining(funding.target, held) if funding else reward.cost,
        stock=reward.stock,
        spendable=ledger.balance(employee.id).spendable,
        today=company_today(),
        available_from=reward.available_from,
        available_until=reward.available_until,
    )
    if not check.allowed:
        _refuse(check)
    if funding is None:
        funding = _open(reward, employee)
    made = Pledge(
        funding_id=funding.id,
        employee_id=employee.id,
        idempotency_key=key,
        points=check.points,
        state=PledgeState.HELD,
    )
    db.session.add(made)
    db.session.flush()
    audit.record(employee, "pledge.create", made, reward=reward.name, points=made.points)
    if is_funded(funding.target, held + made.points):
        _complete(funding, reward, employee)
    db.session.refresh(made)
    return made, True


def _complete(funding: TeamFunding, reward: Reward, by: Employee) -> None:
    """Funded: the funding, its pledges and one unit of stock, in one transaction. The
    reward's row is locked by the caller, so no other pledge or close runs meanwhile."""
    try:
        FUNDING.check(funding.state, FundingState.FUNDED, Party.RULE)
    except TransitionRefused as exc:
        raise Conflict(exc.message, field="state") from exc
    if reward.stock is not None and reward.stock <= 0:
        raise PledgeRefused(PledgeCheck(Refusal.STOCK, "This reward is out of stock."))
    moved = db.session.execute(
        update(TeamFunding)
        .where(
            TeamFunding.id == funding.id,
            TeamFunding.state.in_(FUNDING.sources(FundingState.FUNDED, Party.RULE)),
        )
        .values(state=FundingState.FUNDED, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict("The funding was closed meanwhile.", field="state")
    db.session.execute(
        update(Pledge)
        .where(
            Pledge.funding_id == funding.id,
            Pledge.state.in_(PLEDGE.sources(PledgeState.SPENT, Party.RULE)),
        )
        .values(state=PledgeState.SPENT)
        .execution_options(synchronize_session=False)
    )
    if reward.stock is not None:
        reward.stock -= 1  # the reward's row is locked
    db.session.flush()
    db.session.refresh(funding)
    audit.record(
        by,
        "team_funding.funded",
        funding,
        reward=reward.name,
        team=funding.team.name,
        points=funding.target,
    )


def withdraw(employee: Employee, made: Pledge) -> Pledge:
    """The member takes back their own held pledge while the funding is open: its
    points count no more. Withdrawing again changes nothing."""
    if made.state == PledgeState.REFUNDED:
        return made
    _lock(employee.id, made.funding.reward_id)
    db.session.refresh(made)
    db.session.refresh(made.funding)
    if made.state == PledgeState.REFUNDED:
        return made
    if made.funding.state != FundingState.OPEN:
        raise Conflict(
            f"The team's funding is {made.funding.state.value}: the pledge cannot be withdrawn.",
            field="state",
        )
    try:
        PLEDGE.check(made.state, PledgeState.REFUNDED, Party.MEMBER)
    except TransitionRefused as exc:
        raise Conflict(exc.message, field="state") from exc
    moved = db.session.execute(
        update(Pledge)
        .where(
            Pledge.id == made.id,
            Pledge.state.in_(PLEDGE.sources(PledgeState.REFUNDED, Party.MEMBER)),
        )
        .values(state=PledgeState.REFUNDED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(made)
    if moved == 1:
        audit.record(employee, "pledge.withdraw", made, points=made.points)
    return made


def fulfil(actor: Employee, funding: TeamFunding) -> TeamFunding:
    """HR hands a funded team reward over. Again changes nothing."""
    if funding.state == FundingState.FULFILLED:
        return funding
    try:
        FUNDING.check(funding.state, FundingState.FULFILLED, Party.HR)
    except TransitionRefused as exc:
        raise Conflict(exc.message, field="state") from exc
    moved = db.session.execute(
        update(TeamFunding)
        .where(
            TeamFunding.id == funding.id,
            TeamFunding.state.in_(FUNDING.sources(FundingState.FULFILLED, Party.HR)),
        )
        .values(state=FundingState.FULFILLED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(funding)
    if moved == 1:
        audit.record(
            actor,
            "team_funding.fulfil",
            funding,
            reward=funding.reward.name,
            team=funding.team.name,
        )
    elif funding.state != FundingState.FULFILLED:
        raise Conflict(f"The funding became {funding.state.value} meanwhile.", field="state")
    return funding


def get_funding(funding_id: int) -> TeamFunding:
    funding = db.session.get(TeamFunding, funding_id)
    if funding is None:
        raise NotFound(f"No team funding with id {funding_id}.", field="id")
    return funding


# Closing ---------------------------------------------------------------------------


def close_due() -> int:
    """Refund every open funding whose reward was retired or whose window has closed
    (in the company's time zone); returns how many were refunded. Each is closed under
    its reward's lock, by a conditional UPDATE: run twice, or next to a pledge, the
    pledges are refunded once."""
    today = company_today()
    candidates = db.session.execute(
        select(TeamFunding.id, TeamFunding.reward_id)
        .join(Reward, Reward.id == TeamFunding.reward_id)
        .where(TeamFunding.state == FundingState.OPEN)
        .where(~Reward.active | (Reward.available_until < today))
        .order_by(TeamFunding.id)
    ).all()
    closed = 0
    for funding_id, reward_id in candidates:
        lock_row(Reward, reward_id)
        funding = db.session.get(TeamFunding, funding_id, populate_existing=True)
        reward = db.session.get(Reward, reward_id, populate_existing=True)
        if not closes(
            state=funding.state,
            active=reward.active,
            today=today,
            available_until=reward.available_until,
        ):
            continue
        closed += _refund(funding)
    return closed


def _refund(funding: TeamFunding) -> int:
    moved = db.session.execute(
        update(TeamFunding)
        .where(
            TeamFunding.id == funding.id,
            TeamFunding.state.in_(FUNDING.sources(FundingState.REFUNDED, Party.RULE)),
        )
        .values(state=FundingState.REFUNDED, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return 0
    db.session.execute(
        update(Pledge)
        .where(
            Pledge.funding_id == funding.id,
            Pledge.state.in_(PLEDGE.sources(PledgeState.REFUNDED, Party.RULE)),
        )
        .values(state=PledgeState.REFUNDED)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(funding)
    audit.record(
        None,
        "team_funding.refund",
        funding,
        reward=funding.reward.name,
        team=funding.team.name,
    )
    return 1
