"""The live boards of share challenges in Redis: the one module that knows their keys.

A challenge board is a sorted set with the encoding of every other board
(``scoring.ranking.encode_score``): most points first, then the earlier achiever, then
the lower id; a rank is 1 + the members with more points. What the members are
depends on the mode:

- individual mode: employees (fixed-width ids, ``app.boards.member_text``), only the
  ranked ones (opted in, not hidden, not declined): Redis ranks them as they stand;
- team mode: one member per (team at the time, employee), ``"<team>:<employee>"``, with
  that person's points for that team. Teams rank by points per active member, and who
  is active is decided when the board is read, so the standings are computed from the
  pairs in Python (a challenge has a handful of teams).

Keys (this module owns the namespace ``{chorus:challenges}``):

- ``{chorus:challenges}:board:<id>:live``: the live board (final cut-off: everything
  of the period that arrived inside the lateness window);
- ``{chorus:challenges}:board:<id>:frozen``: the board at the freeze moment, a cache
  that expires (``FROZEN_TTL``) and is rebuilt from SQL when missing;
- ``...:rebuild``: the staging copy a rebuild fills before renaming it into place;
- ``{chorus:challenges}:built:<id>:<live|frozen>``: present while that board holds
  everything (written with the board; the frozen one expires with it), so that an
  empty board is told from a lost one;
- ``{chorus:challenges}:mark:<id>``: the live board's watermark: when the last update
  started (ISO time) and when the board was last rebuilt from SQL.

Everything here is derived state: SQL is the truth, and a board that is missing is
rebuilt from it (``app.services.challenge_standings``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.boards import member_text
from app.extensions import get_redis
from scoring.ranking import EPOCH, SECOND, TIME_BITS, decode_points, decode_second, encode_score

TAG = "{chorus:challenges}"
FROZEN_TTL = 300  # seconds a frozen board is cached before it is computed again
LIVE = "live"
FROZEN = "frozen"


def board_key(challenge_id: int, kind: str = LIVE) -> str:
    return f"{TAG}:board:{challenge_id}:{kind}"


def built_key(challenge_id: int, kind: str = LIVE) -> str:
    return f"{TAG}:built:{challenge_id}:{kind}"


def mark_key(challenge_id: int) -> str:
    return f"{TAG}:mark:{challenge_id}"


def pair_text(team_id: int | None, employee_id: int) -> str:
    """A team-mode member: the team at the time (0 for none) and the employee."""
    return f"{member_text(team_id or 0)}:{member_text(employee_id)}"


def parse_pair(member: bytes | str) -> tuple[int | None, int]:
    text = member.decode() if isinstance(member, bytes) else member
    team, employee = text.split(":")
    return (int(team) or None), int(employee)


def second_time(second: int) -> datetime:
    """The tie second back as an instant (what ties compare, to the second)."""
    return EPOCH + second * SECOND


@dataclass(frozen=True)
class Entry:
    member: str  # member_text(employee) or pair_text(team, employee)
    points: int
    reached_at: datetime


@dataclass(frozen=True)
class Row:
    rank: int
    member: str
    points: int
    second: int


@dataclass(frozen=True)
class Read:
    rows: list[Row]
    size: int
    mine: Row | None
    total: int | None  # the sum of all points, when asked for


# KEYS[1]: board. ARGV: offset, limit, viewer member ("" for none), "sum" or "".
# Rows with their rank (1 + members with more points), the size, the viewer's row, and
# the sum of every member's points (for a collective target): one round trip.
_READ = """
local board, shift = KEYS[1], 2 ^ @BITS@
local start, limit, viewer = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local function points_of(score) return -math.floor(tonumber(score) / shift) end
local function above(points)
  return redis.call('ZCOUNT', board, '-inf', '(' .. string.format('%.0f', -points * shift))
end
local out = {}
if limit > 0 then
  local rows = redis.call('ZRANGE', board, start, start + limit - 1, 'WITHSCORES')
  local last_points, last_above = nil, 0
  for i = 1, #rows, 2 do
    local points = points_of(rows[i + 1])
    if points ~= last_points then last_above, last_points = above(points), points end
    out[#out + 1] = rows[i]
    out[#out + 1] = rows[i + 1]
    out[#out + 1] = last_above
  end
end
local mine = false
if viewer ~= '' then
  local score = redis.call('ZSCORE', board, viewer)
  if score then mine = {score, above(points_of(score))} end
end
local total = false
if ARGV[4] == 'sum' then
  local sum = 0
  local all = redis.call('ZRANGE', board, 0, -1, 'WITHSCORES')
  for i = 2, #all, 2 do sum = sum + points_of(all[i]) end
  total = string.format('%.0f', sum)
end
return {out, redis.call('ZCARD', board), mine, total}
""".replace("@BITS@", str(TIME_BITS))


def _script():
    return get_redis().register_script(_READ)


def is_built(challenge_id: int, kind: str = LIVE) -> bool:
    """Whether the board holds everything (false after Redis lost it, or once a
    frozen board's cache expired)."""
    return bool(get_redis().exists(built_key(challenge_id, kind)))


def replace(challenge_id: int, kind: str, entries: Iterable[Entry], ttl: int | None = None) -> None:
    """Swap in a board computed from SQL: filled under a staging key and renamed into
    place, so readers see the old board or the new one, never half of one. The built
    marker goes with it (an empty board is no key at all in Redis)."""
    key = board_key(challenge_id, kind)
    staging = f"{key}:rebuild"
    items = [(e.member, encode_score(e.points, e.reached_at)) for e in entries]
    pipe = get_redis().pipeline(transaction=True)
    pipe.delete(staging)
    for start in range(0, len(items), 10_000):
        pipe.zadd(staging, dict(items[start : start + 10_000]))
    if items:
        pipe.rename(staging, key)
        if ttl is not None:
            pipe.expire(key, ttl)
    else:
        pipe.delete(key)
    pipe.set(built_key(challenge_id, kind), 1, ex=ttl)
    pipe.execute()


def update(challenge_id: int, set_entries: Iterable[Entry], remove: Iterable[str]) -> None:
    """Set members' absolute totals and take others off: idempotent, so an update
    that runs twice, or overlaps the one before, changes nothing more."""
    key = board_key(challenge_id, LIVE)
    items = {e.member: encode_score(e.points, e.reached_at) for e in set_entries}
    gone = [m for m in remove if m not in items]
    pipe = get_redis().pipeline(transaction=True)
    if items:
        pipe.zadd(key, items)
    if gone:
        pipe.zrem(key, *gone)
    pipe.execute()


def read(
    challenge_id: int,
    kind: str,
    offset: int = 0,
    limit: int = 50,
    viewer: str | None = None,
    with_sum: bool = False,
) -> Read:
    rows, size, mine, total = _script()(
        keys=[board_key(challenge_id, kind)],
        args=[offset, limit, viewer or "", "sum" if with_sum else ""],
    )
    out = [
        Row(
            int(rows[i + 2]) + 1,
            rows[i].decode(),
            decode_points(float(rows[i + 1])),
            decode_second(float(rows[i + 1])),
        )
        for i in range(0, len(rows), 3)
    ]
    my_row = None
    if mine:
        score = float(mine[0])
        my_row = Row(int(mine[1]) + 1, viewer or "", decode_points(score), decode_second(score))
    return Read(out, int(size), my_row, None if total is None else int(total))


def everything(challenge_id: int, kind: str) -> dict[str, tuple[int, int]]:
    """Every member of a board: member -> (points, tie second)."""
    return {
        member.decode(): (decode_points(score), decode_second(score))
        for member, score in get_redis().zrange(
            board_key(challenge_id, kind), 0, -1, withscores=True
        )
    }


def get_mark(challenge_id: int) -> tuple[datetime | None, datetime | None]:
    """(when the last update started, when the board was last rebuilt)."""
    found = get_redis().hmget(mark_key(challenge_id), "updated", "rebuilt")
    return tuple(  # type: ignore[return-value]
        None if value is None else datetime.fromisoformat(value.decode()) for value in found
    )


def set_mark(challenge_id: int, updated: datetime, rebuilt: datetime | None = None) -> None:
    mapping = {"updated": updated.isoformat()}
    if rebuilt is not None:
        mapping["rebuilt"] = rebuilt.isoformat()
    get_redis().hset(mark_key(challenge_id), mapping=mapping)


def forget_frozen(challenge_id: int) -> None:
    """Drop the cached frozen board: the next read computes it again."""
    get_redis().delete(board_key(challenge_id, FROZEN), built_key(challenge_id, FROZEN))


def forget(challenge_id: int) -> None:
    """A final challenge needs no live board any more."""
    get_redis().delete(
        board_key(challenge_id, LIVE),
        board_key(challenge_id, FROZEN),
        built_key(challenge_id, LIVE),
        built_key(challenge_id, FROZEN),
        mark_key(challenge_id),
    )


def entries_of(points: Mapping[str, tuple[int, datetime]]) -> list[Entry]:
    return [Entry(member, p, t) for member, (p, t) in points.items()]
