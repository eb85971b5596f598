"""One embedded model server per machine and cache folder: found or started by whichever process
needs it first, reused by the others, gone once its last user has gone or on `citeqa model stop`.

Real llama.cpp servers on the packaged model; each test has a cache folder of its own (the joined
weights linked in), so its server is not the one the rest of the suite shares."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from index.settings import Settings
from qa.embedded_llm import MODEL_FILE, ensure_weights
from qa.model_server import read_state, server_folder

ROOT = Path(__file__).resolve().parent.parent
CITEQA = Path(sys.executable).parent / "citeqa"

pytestmark = pytest.mark.llm  # real llama.cpp servers, each loading the model

USER = """
import json, sys, time
from pathlib import Path
from qa.model_server import SHARED
running = SHARED.ensure(Path(sys.argv[1]), threads=1, idle_s=float(sys.argv[2]), progress=False)
print(json.dumps({"pid": running.pid, "url": running.base_url}), flush=True)
time.sleep(float(sys.argv[3]))
"""


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A cache folder of its own that reuses the machine's joined weights."""
    weights = ensure_weights(Settings.from_env().llm.cache, progress=False)
    folder = tmp_path / "cache"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / MODEL_FILE).symlink_to(weights)
    return folder


def _user(cache: Path, idle_s: float, stay_s: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", USER, str(cache), str(idle_s), str(stay_s)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _ask(url: str) -> str:
    body = json.dumps({"messages": [{"role": "user", "content": "Reply with the word OK."}], "max_tokens": 3})
    request = urllib.request.Request(f"{url}/chat/completions", body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["choices"][0]["message"]["content"]


def test_processes_starting_at_once_share_one_server_that_outlives_its_starter_and_stops_after_the_last(
    cache: Path,
) -> None:
    first, second = _user(cache, idle_s=2, stay_s=1), _user(cache, idle_s=2, stay_s=8)
    seen = [json.loads(first.stdout.readline()), json.loads(second.stdout.readline())]
    assert seen[0] == seen[1], f"two servers were started: {seen}"
    pid, url = seen[0]["pid"], seen[0]["url"]
    assert pid not in (first.pid, second.pid), "the server is a process of its own"
    assert first.wait(timeout=30) == 0, first.stderr.read()
    assert second.poll() is None
    assert _ask(url), "the server answers after the process that started it has ended"
    assert second.wait(timeout=30) == 0, second.stderr.read()
    assert _wait_until(lambda: not _alive(pid), timeout_s=20), "the server outlived its last user"
    assert read_state(server_folder(cache)) is None
    assert not (server_folder(cache) / "server.json").exists()


def test_a_later_process_reuses_the_running_server_and_model_stop_stops_it(cache: Path) -> None:
    holder = _user(cache, idle_s=60, stay_s=60)
    try:
        started = json.loads(holder.stdout.readline())
        later = _user(cache, idle_s=60, stay_s=0)
        assert json.loads(later.stdout.readline()) == started
        assert later.wait(timeout=30) == 0
        env = {**os.environ, "CITEQA_CACHE": str(cache)}
        status = subprocess.run([CITEQA, "model", "status"], env=env, capture_output=True, text=True, timeout=60)
        assert f"pid {started['pid']}" in status.stdout
        stopped = subprocess.run([CITEQA, "model", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert f"Stopped the embedded model (pid {started['pid']})" in stopped.stdout
        assert not _alive(started["pid"])
        again = subprocess.run([CITEQA, "model", "status"], env=env, capture_output=True, text=True, timeout=60)
        assert "not running" in again.stdout
    finally:
        holder.kill()
        holder.wait()
