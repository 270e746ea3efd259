"""The embedded Redis: a real server started in a directory, found again, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from app.redis_server import ensure_embedded_redis, redis_server_binary, stop_embedded_redis


@pytest.fixture
def server_dir(tmp_path_factory) -> Path:
    # Short: unix socket paths are limited to about 100 characters.
    directory = tmp_path_factory.mktemp("rs")
    yield directory
    stop_embedded_redis(directory)


def server_pid(directory: Path) -> int:
    return int((directory / "redis.pid").read_text().strip())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_binary_is_found():
    assert Path(redis_server_binary()).is_file()


def test_start_reuse_and_stop(server_dir):
    url = ensure_embedded_redis(server_dir)
    assert url == f"unix://{server_dir.resolve() / 'redis.sock'}"
    with redis.Redis.from_url(url) as client:
        assert client.ping()
        client.set("kept", "yes")
        run_id = client.info("server")["run_id"]
    pid = server_pid(server_dir)
    assert alive(pid)
    # Only our user may connect.
    assert oct((server_dir / "redis.sock").stat().st_mode & 0o777) == "0o700"

    assert ensure_embedded_redis(server_dir) == url  # a second call finds it
    assert server_pid(server_dir) == pid
    with redis.Redis.from_url(url) as client:
        assert client.info("server")["run_id"] == run_id
        assert client.get("kept") == b"yes"

    stop_embedded_redis(server_dir)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)
    with pytest.raises(redis.ConnectionError), redis.Redis.from_url(url) as client:
        client.ping()
    stop_embedded_redis(server_dir)  # stopping a stopped server is harmless


def test_a_relative_directory_is_made_absolute(server_dir, monkeypatch):
    monkeypatch.chdir(server_dir.parent)
    url = ensure_embedded_redis(server_dir.name)
    assert url == f"unix://{server_dir.resolve() / 'redis.sock'}"
    with redis.Redis.from_url(url) as client:
        assert client.ping()


def test_data_survives_a_crash_of_the_server(server_dir):
    url = ensure_embedded_redis(server_dir)
    with redis.Redis.from_url(url) as client:
        client.set("board", "kept")
    time.sleep(1.5)  # the append-only file is synced every second
    pid = server_pid(server_dir)
    os.kill(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.05)
    ensure_embedded_redis(server_dir)
    assert server_pid(server_dir) != pid
    with redis.Redis.from_url(url) as client:
        assert client.get("board") == b"kept"


def _answering(url: str) -> bool:
    try:
        with redis.Redis.from_url(url) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_the_foreground_server_takes_over_and_stops_last(server_dir):
    url = ensure_embedded_redis(server_dir)  # one left in the background by a command
    with redis.Redis.from_url(url) as client:
        client.set("kept", "yes")
    background = server_pid(server_dir)
    foreground = subprocess.Popen(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "app.redis_server", str(server_dir)]
    )
    try:
        deadline = time.monotonic() + 10
        while alive(background) or not _answering(url):
            assert time.monotonic() < deadline, "the foreground server did not take over"
            time.sleep(0.05)
        worker = redis.Redis.from_url(url)  # another process of the stack, still at work
        assert worker.get("kept") == b"yes"
        server = worker.info("server")["process_id"]
        foreground.send_signal(signal.SIGTERM)  # what honcho sends everyone on Ctrl-C
        time.sleep(0.7)
        assert worker.ping()  # it waits for the others to hang up...
        worker.close()
        assert foreground.wait(5) == 0  # ...then stops, and takes the server with it
        assert not alive(server)
        assert not _answering(url)
    finally:
        if foreground.poll() is None:
            foreground.kill()
            foreground.wait()


def test_the_server_stops_when_its_foreground_process_is_killed(server_dir):
    url = f"unix://{server_dir.resolve() / 'redis.sock'}"
    foreground = subprocess.Popen(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "app.redis_server", str(server_dir)]
    )
    deadline = time.monotonic() + 10
    while not _answering(url):
        assert time.monotonic() < deadline, "the foreground server did not start"
        time.sleep(0.05)
    with redis.Redis.from_url(url) as client:
        server = client.info("server")["process_id"]
    foreground.kill()
    foreground.wait()
    deadline = time.monotonic() + 10
    while alive(server):
        assert time.monotonic() < deadline, "the server outlived its foreground process"
        time.sleep(0.05)


def test_a_folder_with_only_a_snapshot_keeps_its_data_when_append_only_starts(server_dir):
    """Servers before the append-only file left a snapshot alone; it must be read."""
    socket_path = server_dir.resolve() / "old.sock"
    subprocess.run(  # noqa: S603 - the binary the project uses, fixed arguments
        [
            redis_server_binary(),
            *("--port", "0", "--unixsocket", str(socket_path), "--dir", str(server_dir)),
            *("--dbfilename", "redis.rdb", "--appendonly", "no", "--daemonize", "yes"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _answering(f"unix://{socket_path}"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with redis.Redis.from_url(f"unix://{socket_path}") as old:
        old.set("board", "from before")
        old.shutdown(save=True)
    url = ensure_embedded_redis(server_dir)
    with redis.Redis.from_url(url) as client:
        assert client.get("board") == b"from before"
        assert client.config_get("appendonly")["appendonly"] in ("yes", b"yes")
