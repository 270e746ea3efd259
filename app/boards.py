"""Live leaderboards in Redis sorted sets: the one module that knows their key names.

A board is a scope (the company, a team, a challenge) in a window (all time, a month,
a week). Members are employee ids; a member's score folds their points and the time
they reached them into one exact number (``scoring.ranking.encode_score``), so the
sorted set lists the earlier achiever first within a tie. Ranks are standard
competition ranks: 1 + the number of members with more points.

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

from scoring.ranking import EPOCH, TIME_BITS, TIME_LIMIT, decode_points, encode_score
from scoring.windows import Window, window_key

TAG = "{chorus:boards}"
APPLIED_BUCKET = 100_000  # line ids per dedupe set
APPLIED_TTL = 30 * 24 * 3600  # a job retried within a month is still recognised
BOARD_WINDOWS = (Window.ALL_TIME, Window.MONTH, Window.WEEK)


def board_key(scope: str, window: str) -> str:
    """``scope``: "company", "team:<id>" or "challenge:<id>"; ``window``: a window key."""
    return f"{TAG}:board:{scope}:{window}"


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
class Standing:
    rank: int | None  # None: not on the board
    points: int
    size: int


@dataclass(frozen=True)
class View:
    """One read of a board: a page of it, the names Redis knows for its rows, and the
    viewer's standing."""

    page: Page
    names: dict[int, str]
    standing: Standing


@lru_cache(maxsize=4096)
def _window_keys(day: date, zone: tzinfo, week_start: int) -> tuple[str, ...]:
    """The board windows of a company-local day: they depend on nothing finer, so a
    batch of lines computes them once per day rather than once per line."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    return tuple(window_key(w, noon, zone, week_start) for w in BOARD_WINDOWS)


def boards_for(line: BoardLine, zone: tzinfo, week_start: int) -> list[str]:
    scopes = ["company"] + ([f"team:{line.team_id}"] if line.team_id is not None else [])
    windows = _window_keys(line.occurred_at.astimezone(zone).date(), zone, week_start)
    return [board_key(scope, window) for scope in scopes for window in windows]


def _lua(source: str) -> str:
    """Scripts share the score encoding's constants with scoring.ranking."""
    return source.replace("@BITS@", str(TIME_BITS)).replace("@LIMIT@", str(TIME_LIMIT))


def _seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


# KEYS: per line its applied-set, its board keys and its member-boards key, line after
# line; ARGV: ttl, then per line: line id, member, delta, seconds, number of boards.
# Several lines per call (one round trip and one script run for the lot), each applied
# only if its id is new to its applied-set. Points and time are decoded from the score,
# changed, re-encoded: a line with 0 points leaves the time the score was reached as is.
_APPLY_LINES = _lua("""
local ttl = ARGV[1]
local shift, limit = 2 ^ @BITS@, @LIMIT@
local k, applied, expire = 1, 0, {}
for a = 2, #ARGV, 5 do
  local boards = tonumber(ARGV[a + 4])
  if redis.call('SADD', KEYS[k], ARGV[a]) == 1 then
    expire[KEYS[k]] = true
    local member, delta, t = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    for i = k + 1, k + boards do
      local old = redis.call('ZSCORE', KEYS[i], member)
      local points, reached = 0, 0
      if old then
        old = tonumber(old)
        points = math.floor(old / shift)
        reached = limit - (old % shift)
      end
      if delta ~= 0 and t > reached then reached = t end
      -- an integer string, exact whatever number format this Lua build prints with
      local score = string.format('%.0f', (points + delta) * shift + (limit - reached))
      redis.call('ZADD', KEYS[i], score, member)
    end
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
# Everything a board view needs, in one round trip.
_VIEW = _lua("""
local board, shift = KEYS[1], 2 ^ @BITS@
local start, limit, viewer = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local function above(points)
  return redis.call('ZCOUNT', board, string.format('%.0f', (points + 1) * shift), '+inf')
end
local my_points, my_above = false, false
if viewer ~= '' then
  local score = redis.call('ZSCORE', board, viewer)
  if score then
    my_points = math.floor(tonumber(score) / shift)
    my_above = above(my_points)
    if ARGV[4] == 'around' then
      start = math.max(0, redis.call('ZREVRANK', board, viewer) - math.floor(limit / 2))
    end
  end
end
local out, members, last_points, last_above = {}, {}, nil, 0
if limit > 0 then
  local rows = redis.call('ZREVRANGE', board, start, start + limit - 1, 'WITHSCORES')
  for i = 1, #rows, 2 do
    local points = math.floor(tonumber(rows[i + 1]) / shift)
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
                line.employee_id,
                line.points,
                _seconds(line.occurred_at),
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
            pipe.zrem(board, member_id)
        pipe.delete(key)
        pipe.execute()

    def replace_board(self, key: str, standings: Sequence[tuple[int, int, datetime]]) -> None:
        """Swap in a board rebuilt from the ledger: (member, points, reached_at)."""
        staging = f"{key}:rebuild"
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(staging)
        for chunk_start in range(0, len(standings), 10_000):
            chunk = standings[chunk_start : chunk_start + 10_000]
            pipe.zadd(staging, {str(m): encode_score(p, t) for m, p, t in chunk})
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
                    {str(m): encode_score(p, t) for m, (p, t) in items[start : start + chunk]},
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
        pipe.zadd(key, {str(member_id): encode_score(points, reached_at)})
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
                "" if viewer_id is None else viewer_id,
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
            return View(page, known, Standing(None, 0, int(size)))
        return View(page, known, Standing(int(above) + 1, int(points), int(size)))

    def page(self, key: str, offset: int = 0, limit: int = 10) -> Page:
        """Top members by rank, from ``offset`` (0 is the top)."""
        return self.view(key, offset=offset, limit=limit).page

    def around(self, key: str, member_id: int, limit: int = 10) -> Page | None:
        """A page with the member in it, half a page above them, clipped at the top;
        None when the member is not on the board."""
        view = self.view(key, member_id, limit=limit, around=True)
        return view.page if view.standing.rank is not None else None

    def standing(self, key: str, member_id: int) -> Standing:
        return self.view(key, member_id, limit=0).standing

    # Names --------------------------------------------------------------------

    def set_name(self, member_id: int, name: str | None) -> None:
        """The name the boards show for a member, or None to forget it (hidden, gone)."""
        if name is None:
            self.redis.hdel(names_key(), member_id)
        else:
            self.redis.hset(names_key(), member_id, name)

    def remember_names(self, names: Mapping[int, str]) -> None:
        """Names read from the database by a board view, kept for the next one. HSETNX:
        a name set meanwhile by ``set_name`` (a change just committed) wins."""
        pipe = self.redis.pipeline(transaction=False)
        for member_id, name in names.items():
            pipe.hsetnx(names_key(), member_id, name)
        pipe.execute()

    def forget_names(self) -> None:
        self.redis.delete(names_key())

    def scores(self, key: str) -> dict[int, tuple[int, int]]:
        """Everything on a board, member -> (points, reached seconds): for comparisons."""
        return {
            int(member): (decode_points(score), TIME_LIMIT - int(score) % 2**TIME_BITS)
            for member, score in self.redis.zrange(key, 0, -1, withscores=True)
        }
