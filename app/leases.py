"""Short Redis leases that their holder renews while it works.

A lock with a long timeout outlives a holder that crashed (a worker killed with -9) by
that whole timeout, and everyone waiting for it stands still. A lease instead expires
after a few seconds unless renewed; a thread renews it, through redis-py's
compare-and-extend script, for as long as the holder's block runs. A dead holder stops
renewing, and the lease is free again within one lease period.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from redis.exceptions import LockError, LockNotOwnedError

log = logging.getLogger("chorus.leases")


class LeaseTaken(RuntimeError):
    """Someone else holds the lease."""


class Lease:
    """A held lease; ``lost`` tells whether a renewal failed (the holder was too slow
    to renew, or Redis lost the key), so that long work can stop early."""

    def __init__(self, lock: redis.lock.Lock, lease: float):
        self._lock = lock
        self._stop = threading.Event()
        self.lost = False
        self._renewer = threading.Thread(
            target=self._renew, args=(lease / 3,), name=f"lease {lock.name}", daemon=True
        )

    def _renew(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                # Resets the expiry to a full lease, only if the token is still ours.
                self._lock.reacquire()
            except LockNotOwnedError:
                self.lost = True
                log.error("lease %s was lost before its work finished", self._lock.name)
                return
            except redis.RedisError:  # a hiccup: try again before the lease runs out
                log.warning("could not renew lease %s", self._lock.name, exc_info=True)

    def _start(self) -> None:
        self._renewer.start()

    def _end(self) -> None:
        self._stop.set()
        self._renewer.join()
        with suppress(LockError):  # expired or taken over meanwhile: nothing of ours to free
            self._lock.release()


@contextmanager
def leased(
    connection: redis.Redis, name: str, lease: float, blocking_timeout: float = 0
) -> Iterator[Lease]:
    """Hold ``name`` for the block, renewed every third of ``lease`` seconds; raises
    LeaseTaken when it cannot be had within ``blocking_timeout`` seconds."""
    # Not thread-local: the renewing thread must present the holder's token.
    lock = connection.lock(
        name, timeout=lease, blocking_timeout=blocking_timeout or None, thread_local=False
    )
    if not lock.acquire(blocking=blocking_timeout > 0):
        raise LeaseTaken(name)
    held = Lease(lock, lease)
    held._start()
    try:
        yield held
    finally:
        held._end()
