"""Live leaderboards in Redis sorted sets: the one module that knows their key names.

A board is a scope (the company, a team, a challenge) in a window (all time, a month,
a week). A member's score folds their points and the second they reached them into one
exact number (``scoring.ranking.encode_score``) that lists in ascending order: most
points first, then the earlier achiever. Members are employee ids written with a fixed
width (``member_text``), so that Redis, which lists equal scores by their bytes, lists
them by id. Ranks are standard competition ranks: 1 + the number of members with more
points. Totals may be negative; the scripts refuse a total beyond the exactly
representable range rather than store a rounded score.

Keys (this module owns the namespace ``{chorus:boards}``):

- ``{chorus:boards}:board:<scope>:<window>``: a board; scope "company", "team:<id>" or
  "challenge:<id>", window "all", "2026-11" or "w2026-11-16" (``BoardStore.key``);
  ``...:rebuild`` is the staging copy a rebuild fills before renaming it into place;
- ``{chorus:boards}:member:<id>``: the boards a member is on (to take them off);
- ``{chorus:boards}:names``: member -> the name the boards show;
- ``{chorus:boards}:applied:<bucket>``: ids of ledger lines already applied;
- ``{chorus:boards}:built``: present while the boards hold the whole applied ledger.
  A rebuild writes it, or a settle run that finds no line applied yet; a Redis that
  lost its data lacks it, and the settle job then has the boards rebuilt
  (``app.services.scoring.ensure_boards_built``). A Redis holding boards of the earlier
  encoding (members not of fixed width, scores listed descending) lacks it too: the
  first settle after the upgrade rebuilds them.

Every key carries the hash tag ``{chorus:boards}``: the Lua scripts below touch several
boards at once, and on Redis Cluster all keys of one script must share a slot.

Applying ledger lines is exactly-once: each line id is remembered in a bucketed set in
the same script that applies it, so a job that dies half-way can simply run again. The
SQL ledger stays the truth; ``replace_board`` rebuilds a board from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache

import redis

from scoring.ranking import (
    MAX_POINTS,
    TIME_BITS,
    decode_points,
    decode_second,
    encode_score,
    tie_second,
)
from scoring.windows import Window, window_key

TAG = "{chorus:boards}"
APPLIED_BUCKET = 100_000  # line ids per dedupe set
APPLIED_TTL = 30 * 24 * 3600  # a job retried within a month is still recognised
BOARD_WINDOWS = (Window.ALL_TIME, Window.MONTH, Window.WEEK)
MEMBER_DIGITS = 10  # employee ids are 32-bit integers: at most 10 digits
BUILT_KEY = f"{TAG}:built"


def member_text(member_id: int) -> str:
    """A member as the boards store it: fixed width, so byte order is id order."""
    if not 0 <= member_id < 10**MEMBER_DIGITS:
        raise ValueError(f"member id {member_id} out of range")
    return f"{member_id:0{MEMBER_DIGITS}d}"


def board_key(scope: str, window: str) -> str:
    """``scope``: "company", "team:<id>" or "challenge:<id>"; ``window``: a window key."""
    return f"{TAG}:board:{scope}:{window}"


def scope_key(window: str, team_id: int | None = None) -> str:
    """The company's board of a window, or a team's."""
    return board_key("company" if team_id is None else f"team:{team_id}", window)


def member_boards_key(member_id: int) -> str:
    return f"{TAG}:member:{member_id}"


def names_key() -> str:
    """Member -> the name the boards show for them (absent: not known yet)."""
    return f"{TAG}:names"


def applied_key(line_id: int) -> str:
    return f"{TAG}:applied:{line_id // APPLIED_BUCKET}"


@dataclass(frozen=True)
class BoardLine:
    """A ledger line as far as boards care."""

    line_id: int
    employee_id: int
    team_id: int | None
    points: int
    occurred_at: datetime


@dataclass(frozen=True)
class Row:
    rank: int
    member_id: int
    points: int


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    size: int  # members on the board
    offset: int  # position of the first row (0 is the top)


@dataclass(frozen=True)
class Place:
    """Where one member stands on one board (``scoring.ranking.Standing`` is a member's
    total and when they reached it, before ranking)."""

    rank: int | None  # None: not on the board
    points: int
    size: int


@dataclass(frozen=True)
class View:
    """One read of a board: a page of it, the names Redis knows for its rows, and the
    viewer's standing."""

    page: Page
    names: dict[int, str]
    standing: Place


@lru_cache(maxsize=4096)
def _window_keys(day: date, zone: tzinfo, week_start: int) -> tuple[str, ...]:
    """The board windows of a company-local day: they depend on nothing finer, so a
    batch of lines computes them once per day rather than once per line."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    return tuple(window_key(w, noon, zone, week_start) for w in BOARD_WINDOWS)


def boards_for(line: BoardLine, zone: tzinfo, week_start: int) -> list[str]:
    windows = _window_keys(line.occurred_at.astimezone(zone).date(), zone, week_start)
    teams = [None] if line.team_id is None else [None, line.team_id]
    return [scope_key(window, team) for team in teams for window in windows]


def _lua(source: str) -> str:
    """Scripts share the score encoding's constants with scoring.ranking."""
    return source.replace("@BITS@", str(TIME_BITS)).replace("@MAX@", str(MAX_POINTS))


# KEYS: per line its applied-set, its board keys and its member-boards key, line after
# line; ARGV: ttl, then per line: line id, member, delta, tie second, number of boards.
# Several lines per call (one round trip and one script run for the lot), each applied
# only if its id is new to its applied-set. Points and time are decoded from the score,
# changed, re-encoded: a line with 0 points leaves the time the score was reached as is.
# A line that would take a total beyond the exact range is refused before any of its
# writes (the lines before it in the call stay applied, and remembered as such).
_APPLY_LINES = _lua("""
local ttl = ARGV[1]
local shift, max = 2 ^ @BITS@, @MAX@
local k, applied, expire = 1, 0, {}
for a = 2, #ARGV, 5 do
  local boards = tonumber(ARGV[a + 4])
  if redis.call('SISMEMBER', KEYS[k], ARGV[a]) == 0 then
    local member, delta, t = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    local scores = {}
    for i = k + 1, k + boards do
      local old = redis.call('ZSCORE', KEYS[i], member)
      local points, reached = 0, 0
      if old then
        old = tonumber(old)
        points = -math.floor(old / shift)
        reached = old % shift
      end
      if delta ~= 0 and t > reached then reached = t end
      points = points + delta
      if points > max or points < -max then
        return redis.error_reply('points out of the encodable range: line ' .. ARGV[a])
      end
      -- an integer string, exact whatever number format this Lua build prints with
      scores[i] = string.format('%.0f', reached - points * shift)
    end
    redis.call('SADD', KEYS[k], ARGV[a])
    expire[KEYS[k]] = true
    for i = k + 1, k + boards do redis.call('ZADD', KEYS[i], scores[i], member) end
    redis.call('SADD', KEYS[k + boards + 1], unpack(KEYS, k + 1, k + boards))
    applied = applied + 1
  end
  k = k + boards + 2
end
for key in pairs(expire) do redis.call('EXPIRE', key, ttl) end
return applied
""")
LINES_PER_CALL = 100  # lines per script call: one call of 100 runs ~1 ms in Redis

# KEYS[1]: board, KEYS[2]: the names of board members. ARGV: offset, page size, viewer
# ("" for none), "around" (the page starts half a page above the viewer, clipped at the
# top, when they are on the board), "names" (look the page's names up too).
# Returns the rows (member, points, members with more points: rank = that + 1), the
# names of the rows (false where unknown), the board size, the first row's position,
# the viewer's points and the members above them (false when not on the board).
# Everything a board view needs, in one round trip. Lowest score first (board order).
_VIEW = _lua("""
local board, shift = KEYS[1], 2 ^ @BITS@
local start, limit, viewer = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local function above(points)
  return redis.call('ZCOUNT', board, '-inf', '(' .. string.format('%.0f', -points * shift))
end
local function points_of(score)
  return -math.floor(tonumber(score) / shift)
end
local my_points, my_above = false, false
if viewer ~= '' then
  local score = redis.call('ZSCORE', board, viewer)
  if score then
    my_points = points_of(score)
    my_above = above(my_points)
    if ARGV[4] == 'around' then
      start = math.max(0, redis.call('ZRANK', board, viewer) - math.floor(limit / 2))
    end
  end
end
local out, members, last_points, last_above = {}, {}, nil, 0
if limit > 0 then
  local rows = redis.call('ZRANGE', board, start, start + limit - 1, 'WITHSCORES')
  for i = 1, #rows, 2 do
    local points = points_of(rows[i + 1])
    if points ~= last_points then
      last_above, last_points = above(points), points
    end
    out[#out + 1] = rows[i]
    out[#out + 1] = points
    out[#out + 1] = last_above
    members[#members + 1] = rows[i]
  end
end
local names = {}
if ARGV[5] == 'names' and #members > 0 then
  names = redis.call('HMGET', KEYS[2], unpack(members))
end
return {out, names, redis.call('ZCARD', board), start, my_points, my_above}
""")


class BoardStore:
    def __init__(self, connection: redis.Redis):
        self.redis = connection
        self._apply = connection.register_script(_APPLY_LINES)
        self._view = connection.register_script(_VIEW)

    key = staticmethod(scope_key)

    # Whether the boards are whole ---------------------------------------------

    def is_built(self) -> bool:
        """Whether the boards hold every applied line: false after Redis lost its data."""
        return bool(self.redis.exists(BUILT_KEY))

    def mark_built(self) -> None:
        self.redis.set(BUILT_KEY, 1)

    # Writing ------------------------------------------------------------------

    def apply_lines(self, lines: Iterable[BoardLine], zone: tzinfo, week_start: int = 0) -> int:
        """Add each line to its boards once; returns how many were new."""
        pipe = self.redis.pipeline(transaction=False)
        keys: list[str] = []
        args: list[int | str] = [APPLIED_TTL]
        calls = 0
        for line in lines:
            boards = boards_for(line, zone, week_start)
            keys.append(applied_key(line.line_id))
            keys.extend(boards)
            keys.append(member_boards_key(line.employee_id))
            args += [
                line.line_id,
                member_text(line.employee_id),
                line.points,
                tie_second(line.occurred_at),
                len(boards),
            ]
            if len(args) > 5 * LINES_PER_CALL:
                self._apply(keys=keys, args=args, client=pipe)
                keys, args, calls = [], [APPLIED_TTL], calls + 1
        if len(args) > 1:
            self._apply(keys=keys, args=args, client=pipe)
            calls += 1
        return sum(pipe.execute()) if calls else 0

    def remove_member(self, member_id: int) -> None:
        """Take someone off every board (opted out, or hidden)."""
        key = member_boards_key(member_id)
        boards = self.redis.smembers(key)
        pipe = self.redis.pipeline(transaction=True)
        for board in boards:
            pipe.zrem(board, member_text(member_id))
        pipe.delete(key)
        pipe.execute()

    def replace_board(self, key: str, standings: Sequence[tuple[int, int, datetime]]) -> None:
        """Swap in a board rebuilt from the ledger: (member, points, reached_at)."""
        staging = f"{key}:rebuild"
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(staging)
        for chunk_start in range(0, len(standings), 10_000):
            chunk = standings[chunk_start : chunk_start + 10_000]
            pipe.zadd(staging, {member_text(m): encode_score(p, t) for m, p, t in chunk})
        for member, _points, _reached in standings:
            pipe.sadd(member_boards_key(member), key)
        if standings:
            pipe.rename(staging, key)
        else:
            pipe.delete(key)
        pipe.execute()

    def replace_boards(
        self, boards: Mapping[str, Mapping[int, tuple[int, datetime]]], chunk: int = 10_000
    ) -> None:
        """``replace_board`` for many boards at once (a full rebuild): board -> member ->
        (points, reached_at). Each board is filled under a staging key and renamed into
        place, so readers see the old board or the new one, never a half-built one; the
        commands stream in pipelines of about ``chunk`` members, and each member's set of
        boards gets one SADD for all of them instead of one per board."""
        pipe = self.redis.pipeline(transaction=False)
        queued = 0
        member_boards: dict[int, list[str]] = {}
        for key, members in boards.items():
            staging = f"{key}:rebuild"
            pipe.delete(staging)
            items = list(members.items())
            for start in range(0, len(items), chunk):
                pipe.zadd(
                    staging,
                    {
                        member_text(m): encode_score(p, t)
                        for m, (p, t) in items[start : start + chunk]
                    },
                )
            for member in members:
                member_boards.setdefault(member, []).append(key)
            if items:
                pipe.rename(staging, key)
            else:
                pipe.delete(key)
            queued += len(items) + 1
            if queued >= chunk * 10:
                pipe.execute()
                queued = 0
        for member, keys in member_boards.items():
            pipe.sadd(member_boards_key(member), *keys)
            queued += len(keys)
            if queued >= chunk * 10:
                pipe.execute()
                queued = 0
        pipe.execute()

    def set_member(self, key: str, member_id: int, points: int, reached_at: datetime) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(key, {member_text(member_id): encode_score(points, reached_at)})
        pipe.sadd(member_boards_key(member_id), key)
        pipe.execute()

    def board_keys(self) -> set[str]:
        return {
            k.decode()
            for k in self.redis.scan_iter(match=f"{TAG}:board:*", count=1000)
            if not k.endswith(b":rebuild")
        }

    def forget_boards_except(self, keep: set[str]) -> None:
        """After a rebuild: boards the ledger no longer fills are dropped."""
        stale = self.board_keys() - keep
        if stale:
            self.redis.delete(*stale)

    def forget_applied_lines(self) -> None:
        """After a rebuild the boards hold exactly the applied lines; the memory of
        which lines were applied starts afresh for the ones still to come."""
        stale = list(self.redis.scan_iter(match=f"{TAG}:applied:*", count=1000))
        if stale:
            self.redis.delete(*stale)

    # Reading ------------------------------------------------------------------

    def view(
        self,
        key: str,
        viewer_id: int | None = None,
        offset: int = 0,
        limit: int = 10,
        *,
        around: bool = False,
        names: bool = False,
    ) -> View:
        """A page from ``offset`` (0 is the top), or around the viewer when ``around``
        and they are on the board; their standing; with ``names``, the names Redis
        knows for the page's members. One round trip."""
        rows, found, size, start, points, above = self._view(
            keys=[key, names_key()],
            args=[
                offset,
                limit,
                "" if viewer_id is None else member_text(viewer_id),
                "around" if around else "",
                "names" if names else "",
            ],
        )
        page = Page(
            [
                Row(int(rows[i + 2]) + 1, int(rows[i]), int(rows[i + 1]))
                for i in range(0, len(rows), 3)
            ],
            int(size),
            int(start),
        )
        known = {
            row.member_id: name.decode()
            for row, name in zip(page.rows, found, strict=False)
            if name is not None
        }
        if points is None:
            return View(page, known, Place(None, 0, int(size)))
        return View(page, known, Place(int(above) + 1, int(points), int(size)))

    def page(self, key: str, offset: int = 0, limit: int = 10) -> Page:
        """Top members by rank, from ``offset`` (0 is the top)."""
        return self.view(key, offset=offset, limit=limit).page

    def around(self, key: str, member_id: int, limit: int = 10) -> Page | None:
        """A page with the member in it, half a page above them, clipped at the top;
        None when the member is not on the board."""
        view = self.view(key, member_id, limit=limit, around=True)
        return view.page if view.standing.rank is not None else None

    def standing(self, key: str, member_id: int) -> Place:
        return self.view(key, member_id, limit=0).standing

    # Names --------------------------------------------------------------------

    def set_name(self, member_id: int, name: str | None) -> None:
        """The name the boards show for a member, or None to forget it (hidden, gone)."""
        if name is None:
            self.redis.hdel(names_key(), member_text(member_id))
        else:
            self.redis.hset(names_key(), member_text(member_id), name)

    def remember_names(self, names: Mapping[int, str]) -> None:
        """Names read from the database by a board view, kept for the next one. HSETNX:
        a name set meanwhile by ``set_name`` (a change just committed) wins."""
        pipe = self.redis.pipeline(transaction=False)
        for member_id, name in names.items():
            pipe.hsetnx(names_key(), member_text(member_id), name)
        pipe.execute()

    def forget_names(self) -> None:
        self.redis.delete(names_key())

    def scores(self, key: str) -> dict[int, tuple[int, int]]:
        """Everything on a board, member -> (points, tie second): for comparisons."""
        return {
            int(member): (decode_points(score), decode_second(score))
            for member, score in self.redis.zrange(key, 0, -1, withscores=True)
        }

    def order(self, key: str) -> list[int]:
        """A board's members in board order: for comparisons."""
        return [int(member) for member in self.redis.zrange(key, 0, -1)]
