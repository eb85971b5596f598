"""Faults of the LLM endpoint, against real HTTP servers that misbehave on purpose: a clear error,
after retries where they help, and never a crash or a hang."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from index.settings import Settings
from qa.llm import LLM, LLMBadResponse, LLMRateLimited, LLMTimeout, LLMUnavailable
from tests.fake_llm import FakeLLM

MESSAGES = [{"role": "user", "content": "Who heads the delegation?"}]


def llm_for(base_url: str, timeout: float = 1.0) -> LLM:
    settings = Settings().with_llm(base_url=base_url, chat_model="fake", timeout_s=timeout)
    return LLM(settings)


def test_a_healthy_endpoint_streams_the_reply() -> None:
    with FakeLLM("ok", reply="Zhao Leji heads it [1].").running() as fake:
        # A deadline that no healthy reply misses on a loaded machine (1 s failed under make check's workers).
        pieces = list(llm_for(fake.base_url, timeout=10.0).stream(MESSAGES))
    assert len(pieces) > 1
    assert "".join(pieces).strip() == "Zhao Leji heads it [1]."
    assert fake.requests[0]["stream"] is True
    assert fake.requests[0]["model"] == "fake"


def test_an_endpoint_that_is_down_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="cannot reach the LLM"):
        list(llm_for(f"http://127.0.0.1:{port}/v1").stream(MESSAGES))
    assert time.monotonic() - started < 30


@contextlib.contextmanager
def dropping_server(after_s: float) -> Iterator[str]:
    """An endpoint that takes each connection and drops it ``after_s`` later, without a reply."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            time.sleep(after_s)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize("deadline_s", [1.75, 1.8, 1.85])
def test_an_endpoint_that_drops_connections_is_named_unreachable_not_slow_near_the_deadline(deadline_s: float) -> None:
    """Tries about 0.75 s apart (a 0.1 s drop, backoff 0.5 then 1 s) used to squeeze the last one
    into the deadline's final moment, which ran out before the endpoint's verdict (LLMTimeout at
    1.8 s here): `make check` reported an unreachable endpoint as a timeout on a loaded machine."""
    with dropping_server(after_s=0.1) as base_url:
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match="cannot reach the LLM"):
            list(llm_for(base_url, timeout=deadline_s).stream(MESSAGES))
    assert time.monotonic() - started < deadline_s


def test_a_slow_endpoint_times_out_within_the_one_deadline() -> None:
    with FakeLLM("slow", delay=5).running() as fake:
        started = time.monotonic()
        with pytest.raises(LLMTimeout, match="did not answer within 1 s"):
            list(llm_for(fake.base_url, timeout=1).stream(MESSAGES))
        assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("step", ["found", "reply"])
def test_a_hung_endpoint_fails_when_the_deadline_says_retries_included(step: str) -> None:
    """Issue 14: three tries of 60 s took 196 s while the message said 60 s."""
    with FakeLLM("hang", delay=30).running() as fake:
        llm = llm_for(fake.base_url, timeout=2)
        started = time.monotonic()
        with pytest.raises(LLMTimeout, match="did not answer within 2 s"):
            if step == "found":
                llm.yes_probability(MESSAGES)
            else:
                list(llm.stream(MESSAGES))
        assert 1.9 < time.monotonic() - started < 3


def test_a_stream_of_keep_alive_comments_without_tokens_times_out() -> None:
    """Issue 14: keep-alive comments reset every per-read timeout; `citeqa ask` still waited at 420 s."""
    with FakeLLM("keepalive", delay=30).running() as fake:
        started = time.monotonic()
        with pytest.raises(LLMTimeout):
            list(llm_for(fake.base_url, timeout=2).stream(MESSAGES))
        assert time.monotonic() - started < 3


@pytest.mark.parametrize("step", ["found", "reply"])
def test_an_endpoint_that_answers_with_a_web_page_is_named_as_not_the_api(step: str) -> None:
    """Issue 14: a 200 HTML page read as an empty reply, and so as "The articles don't say."."""
    with FakeLLM("html").running() as fake:
        llm = llm_for(fake.base_url)
        with pytest.raises(LLMBadResponse, match="not the OpenAI chat API; check OPENAI_BASE_URL"):
            if step == "found":
                llm.yes_probability(MESSAGES)
            else:
                list(llm.stream(MESSAGES))


def test_a_stream_that_stalls_midway_times_out() -> None:
    with FakeLLM("stall", delay=6).running() as fake:
        started = time.monotonic()
        with pytest.raises(LLMTimeout):
            list(llm_for(fake.base_url, timeout=1).stream(MESSAGES))
        assert time.monotonic() - started < 10


def test_a_rate_limit_is_retried_with_backoff() -> None:
    with FakeLLM("rate_limited_once", reply="Zhao Leji [1].").running() as fake:
        started = time.monotonic()
        assert "".join(llm_for(fake.base_url, timeout=5).stream(MESSAGES)).strip() == "Zhao Leji [1]."
        assert len(fake.requests) == 2
        assert time.monotonic() - started >= 0.5  # the first backoff was waited out


def test_a_persistent_rate_limit_is_a_clear_error() -> None:
    with FakeLLM("rate_limited").running() as fake:
        with pytest.raises(LLMRateLimited, match="429"):
            list(llm_for(fake.base_url, timeout=5).stream(MESSAGES))
        assert len(fake.requests) == 3  # the first try and two retries, 0.5 s and 1 s apart


def test_a_server_error_is_a_clear_error() -> None:
    with FakeLLM("error").running() as fake, pytest.raises(LLMBadResponse, match="HTTP 500"):
        list(llm_for(fake.base_url).stream(MESSAGES))


def test_malformed_output_is_a_clear_error() -> None:
    with FakeLLM("garbage").running() as fake, pytest.raises(LLMBadResponse, match="malformed"):
        list(llm_for(fake.base_url).stream(MESSAGES))


def test_doctor_check_reports_instead_of_raising() -> None:
    with FakeLLM("error").running() as fake:
        ok, detail, _seconds = llm_for(fake.base_url).check()
    assert not ok
    assert "HTTP 500" in detail
