"""`citeqa serve` in its own process on a free port, for the tests that talk to it over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT, SEEDS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(home: Path, env: dict[str, str], *, wait_s: float = 300) -> Iterator[tuple[str, Path]]:
    """Start `citeqa serve` over the seeds with ``env`` added; yields its URL and its log file."""
    port = free_port()
    env = {**os.environ, "CITEQA_HOME": str(home), **env}
    if not env.get("OPENAI_BASE_URL"):
        env.pop("OPENAI_BASE_URL", None)
    home.parent.mkdir(parents=True, exist_ok=True)
    log_path = home.parent / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "serve", "--port", str(port), "--seeds", str(SEEDS)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    urllib.request.urlopen(url, timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text()) from None
                    time.sleep(0.5)
            yield url, log_path
        finally:
            process.terminate()
            process.wait(timeout=30)
