"""Helpers for the live-server tests: `assistant serve` in a subprocess on a free 127.0.0.1 port, or an
app in a uvicorn thread (for stand-in assistants), waiting for /api/health; and art. 29 by hand."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

START_TIMEOUT_S = 240  # a cold start may build the document index


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assistant_command() -> list[str]:
    script = Path(sys.executable).parent / "assistant"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from assistant.cli import cli; cli()"]


def wait_for_health(url: str, alive=lambda: True, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("server exited before it was healthy")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url}/api/health did not answer within {timeout} s")


@contextmanager
def serve_subprocess(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`assistant serve --port <free>`; yields the base URL; stops the process afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*assistant_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_health(url, alive=lambda: proc.poll() is None)
        except (RuntimeError, TimeoutError) as e:
            raise RuntimeError(f"{e}; server log:\n{log_path.read_text(errors='replace')[-4000:]}") from None
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """An ASGI app under a real uvicorn server in this process (for stand-in assistants)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, alive=thread.is_alive, timeout=60)
        yield url
    finally:
        server.should_exit = server.force_exit = True  # do not wait for open event streams
        thread.join(timeout=15)


def art29(sql, gemeente: str, period: str) -> int:
    """The taakstelling by art. 29 Huisvestingswet (ceil(vg × iG / iN)), computed here from the figures
    database, so that no test hard-codes what the app must compute."""
    import math

    vg = sql.query("SELECT value FROM taakstelling_landelijk WHERE period = :p", {"p": period}).rows[0][0]
    ig = sql.query("SELECT inwoners FROM gemeenten WHERE naam = :n", {"n": gemeente}).rows[0][0]
    total = sql.query("SELECT SUM(inwoners) FROM gemeenten").rows[0][0]
    return math.ceil(vg * ig / total)
