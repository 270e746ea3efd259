"""The scoring lock is a short lease its holder renews: a crashed holder frees it fast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from app.extensions import get_redis
from app.services.scoring import LOCK_LEASE, LOCK_NAME, Busy, scoring_lock


def test_the_lease_is_short():
    assert 5 <= LOCK_LEASE <= 15


def test_a_lease_outlives_its_period_while_the_holder_works(ctx):
    with scoring_lock(lease=0.6):
        time.sleep(1.5)  # well past the lease: only renewal keeps it
        assert 0 < get_redis().pttl(LOCK_NAME) <= 600
        with pytest.raises(Busy), scoring_lock():
            pass
    with scoring_lock():  # released at the end of the block
        pass


def test_a_holder_killed_with_sigkill_frees_the_lock_within_one_lease(ctx, redis_url, tmp_path):
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                from app import create_app
                from app.services.scoring import scoring_lock

                app = create_app({"REDIS_URL": sys.argv[1], "CHORUS_ENV": "test"})
                with app.app_context(), scoring_lock():
                    print("held", flush=True)
                    time.sleep(600)
                """
            ),
            redis_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'holder.db'}"},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Busy), scoring_lock():
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed_at = time.monotonic()
        while True:
            try:
                with scoring_lock():
                    break
            except Busy:
                assert time.monotonic() - killed_at < LOCK_LEASE + 2, "the lock outlived its lease"
                time.sleep(0.2)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()
