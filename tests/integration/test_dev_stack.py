"""``make run``'s stack, briefly: Procfile.dev under honcho serves, its worker registers
again after Redis lost its data, it keeps addresses and tokens out of its output, and
it leaves no process behind when interrupted."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own server
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.skipif(not (BIN / "honcho").exists(), reason="honcho is installed by make install")
def test_the_development_stack_serves_privately_and_stops_whole(tmp_path):
    port = _free_port()
    socket_path = tmp_path / "instance" / "redis.sock"
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": f"unix://{socket_path}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chorus.db'}",
        "WEB_CONCURRENCY": "1",
    }
    env.pop("CHORUS_ENV", None)
    subprocess.run(  # noqa: S603
        [BIN / "flask", "--app", "app", "db", "upgrade"], env=env, cwd=ROOT, check=True
    )
    stack = subprocess.Popen(  # noqa: S603
        [BIN / "honcho", "--procfile", ROOT / "Procfile.dev", "start"],
        env=env,
        cwd=tmp_path,  # the Procfile's Redis keeps its files in ./instance
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # as a terminal's Ctrl-C reaches only the runner
    )
    output = b""
    try:
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "the stack did not come up"
            if stack.poll() is not None:
                pytest.fail("the stack stopped:\n" + stack.stdout.read().decode(errors="replace"))
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                if status == 200 and b'"workers":1' in body:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        with redis.Redis.from_url(env["REDIS_URL"]) as client:
            redis_server = client.info("server")["process_id"]
            client.flushall()  # Redis lost its data: the worker must say it is there
        deadline = time.monotonic() + 40  # an idle worker beats every 15 s
        while b'"workers":1' not in _get(f"http://127.0.0.1:{port}/healthz")[1]:
            assert time.monotonic() < deadline, "the worker did not register again"
            time.sleep(0.5)
        seen = {"X-Forwarded-For": "203.0.113.9", "User-Agent": "Mozilla/5.0 Firefox/133.0"}
        assert _get(f"http://127.0.0.1:{port}/sign-in/private-token-x7", seen)[0] == 400
        assert _get(f"http://127.0.0.1:{port}/l/private-link-q4", seen)[0] == 404
        time.sleep(1)
        os.killpg(stack.pid, signal.SIGINT)  # Ctrl-C
        output, _ = stack.communicate(timeout=30)
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()
    text = output.decode(errors="replace")
    assert f"http://127.0.0.1:{port}/sign-in/" in text  # the demo's links, on this port
    assert "route=/sign-in/<token>" in text  # the request lines are in the output
    for secret in ("private-token-x7", "private-link-q4", "203.0.113.9"):
        assert secret not in text, secret
    started = [int(pid) for pid in re.findall(r"started \(pid=(\d+)\)", text)]
    assert len(started) == 4
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in [*started, redis_server]):
        assert time.monotonic() < deadline, "a process outlived the stack"
        time.sleep(0.1)
    assert "Traceback" not in text
