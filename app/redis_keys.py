"""Every Redis key namespace Chorus uses, and the one module that owns each.

Only the owner writes the names of its keys; everyone else calls the owner. The owner's
docstring lists its keys and what they hold. ``tests/unit/test_redis_keys.py`` reads
the source and fails on a key name written anywhere else, or on a namespace missing
here.

- ``{chorus:boards}:``: boards, each member's boards, board names, applied line ids,
  the "boards are whole" marker; owner ``app.boards``;
- ``{chorus:tokens}:``: API tokens' owners kept for a minute; ``app.services.tokens``;
- ``chorus:link:``: the destination cache of tracked links;
  ``app.services.click_capture``;
- ``chorus:clicks``: the stream of raw clicks; ``app.services.click_capture`` (the
  redirect appends to it; the worker's consumer group ``click-workers`` is
  ``app.services.clicks``'s, which reads it through the stream name the owner exports);
- ``chorus:click-seen:``: the visitor dedupe of clicks (SET NX EX);
  ``app.services.clicks``;
- ``chorus:lock:``: the scoring lease; ``app.services.scoring``;
- ``chorus:jobs:``: jobs abandoned by a dead worker, per queue; ``app.worker_status``;
- ``chorus:home-ranks:``: each board's ranks as the company week began, for the home
  page's "since last week" (derived from the ledger, rebuilt when lost);
  ``app.services.home_ranks``;
- ``{chorus:challenges}:``: each share challenge's live and frozen boards, their
  built markers and the live board's watermark; ``app.services.challenge_boards``;
- ``chorus:feed-seen``: when each person last opened their feed; ``app.services.feed``;
- ``chorus:outbox:``: the outbox's rate limit per destination; ``app.services.outbox``;
- ``chorus:intranet:``: when each intranet link was last read (a convenience for the
  list of links, lost with Redis); ``app.services.intranet``;
- ``chorus:rl``: rate limits, the key prefix handed to flask-limiter; ``app.config``;
- ``rq:``: RQ's queues, jobs, workers and registries, named by the ``rq`` library
  (the queues Chorus uses are listed in ``app.queue``).

The hash tags (``{...}``) keep the keys one Lua script or MULTI touches in one slot of
a Redis Cluster.
"""

from __future__ import annotations

# prefix -> owning module; a key name starting with the prefix belongs to the owner.
NAMESPACES: dict[str, str] = {
    "{chorus:boards}": "app.boards",
    "{chorus:tokens}": "app.services.tokens",
    "chorus:link:": "app.services.click_capture",
    "chorus:clicks": "app.services.click_capture",
    "chorus:click-seen:": "app.services.clicks",
    "chorus:lock:": "app.services.scoring",
    "chorus:jobs:": "app.worker_status",
    "chorus:home-ranks:": "app.services.home_ranks",
    "{chorus:challenges}": "app.services.challenge_boards",
    "chorus:feed-seen": "app.services.feed",
    "chorus:outbox:": "app.services.outbox",
    "chorus:intranet:": "app.services.intranet",
    "chorus:rl": "app.config",
}
