"""`citeqa serve` against a misbehaving LLM endpoint (issue 14, defects 7 and 10): a warning at
start when the endpoint is dead, and simultaneous asks that queue, show their place, and succeed.

Real parts: `citeqa serve` in its own process, a real HTTP endpoint that speaks the OpenAI API
(tests/fake_llm.py) and Gradio's own Python client over HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gradio_client import Client
from gradio_client.utils import Status

from tests.conftest import SEEDS
from tests.fake_llm import FakeLLM
from tests.test_web_ui import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def serving(home: Path, base_url: str, timeout_s: float) -> Iterator[tuple[str, Path]]:
    port = free_port()
    env = {**os.environ, "CITEQA_HOME": str(home), "OPENAI_BASE_URL": base_url, "CITEQA_LLM_TIMEOUT": str(timeout_s)}
    log_path = home.parent / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "serve", "--port", str(port), "--seeds", str(SEEDS), "--model", "fake"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 180
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


def test_serve_warns_at_start_when_the_endpoint_is_dead(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with serving(tmp_path / "home", dead, timeout_s=5) as (_url, log):
        text = log.read_text()
    assert "warning: the LLM does not answer: cannot reach the LLM at " + dead in text


def test_simultaneous_asks_queue_show_their_place_and_all_succeed(tmp_path: Path) -> None:
    with (
        FakeLLM("slow", delay=1.5, found=0.95, reply="Zhao Leji will lead the delegation [1].").running() as fake,
        serving(tmp_path / "home", fake.base_url, timeout_s=5) as (url, _log),
    ):
        client = Client(url, verbose=False)
        jobs = [client.submit("Who will lead the delegation?", api_name="/ask") for _ in range(3)]
        waited_in_line = set()
        while not all(job.done() for job in jobs):
            for number, job in enumerate(jobs):
                status = job.status()
                if status.code is Status.IN_QUEUE and (status.rank or 0) >= 1:
                    waited_in_line.add(number)
            time.sleep(0.1)
        answers = [job.result() for job in jobs]
    assert all("Zhao Leji" in answer["text"] for answer in answers), answers
    assert waited_in_line, "no ask was ever shown its place in the queue"
