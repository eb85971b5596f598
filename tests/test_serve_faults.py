"""`citeqa serve` against a misbehaving LLM endpoint (issue 14, defects 7 and 10): a warning at
start when the endpoint is dead, and simultaneous asks that queue, show their place, and succeed.

Real parts: `citeqa serve` in its own process, a real HTTP endpoint that speaks the OpenAI API
(tests/fake_llm.py) and Gradio's own Python client over HTTP.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import Status

from tests.fake_llm import FakeLLM
from tests.serving import free_port, serving

ROOT = Path(__file__).resolve().parent.parent


def test_serve_warns_at_start_when_the_endpoint_is_dead_and_its_api_answers_errors_with_messages(
    tmp_path: Path,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with serving(tmp_path / "home", {"OPENAI_BASE_URL": dead, "CITEQA_LLM_TIMEOUT": "5"}) as (url, log):
        client = Client(url, verbose=False)
        failures = {}
        for name, call in {
            "empty question": lambda: client.predict("   ", api_name="/ask"),
            "dead model": lambda: client.predict("Who leads the delegation?", api_name="/ask"),
            "k out of range": lambda: client.predict("delegation", 0, api_name="/search"),
        }.items():
            with pytest.raises(AppError) as raised:
                call()
            failures[name] = str(raised.value)
        api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        text = log.read_text()
    assert "warning: the LLM does not answer: cannot reach the LLM at " + dead in text
    assert "The question is empty" in failures["empty question"]
    assert "cannot reach the LLM at " + dead in failures["dead model"]
    assert "k=0 is out of range" in failures["k out of range"]
    assert "Traceback" not in text, "citeqa's own errors are messages to the caller, not tracebacks in the log"
    # The API says what it returns (the shapes of ui/shapes.py), not "Any".
    ask_returns = str(api["/ask"]["returns"])
    assert "citations" in ask_returns and "abstained" in ask_returns and "quote" in ask_returns
    assert "score" in str(api["/search"]["returns"]) and "Any" not in str(api["/search"]["returns"])


def test_simultaneous_asks_queue_show_their_place_and_all_succeed(tmp_path: Path) -> None:
    with (
        FakeLLM("slow", delay=0.8, found=0.95, reply="Zhao Leji will lead the delegation [1].").running() as fake,
        serving(
            tmp_path / "home", {"OPENAI_BASE_URL": fake.base_url, "CITEQA_LLM_TIMEOUT": "5", "CITEQA_MODEL": "fake"}
        ) as (
            url,
            _log,
        ),
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
