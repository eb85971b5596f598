"""Every LLM call goes through the ``openai`` client: OpenAI, Ollama, vLLM, llama.cpp, or the embedded model.

With ``OPENAI_BASE_URL`` unset, the machine's embedded llama.cpp server is found, or started, on
first use (``qa.model_server``). Faults
come back as typed errors with plain messages; what a retry can fix (connection errors, 429, 5xx)
is retried with exponential backoff.

One deadline bounds everything a call does (``CITEQA_LLM_TIMEOUT``, 120 s): every try, every
backoff and every wait for the next token. The reply is read on a worker thread and the caller
waits on a queue until the deadline, so a hung endpoint or a stream that sends keep-alive comments
and never a token (which resets every per-read timeout) still fails on time. Issue 14 measured the
old per-read timeout: 196 s for a hung endpoint with a 60 s setting, and no end at all for
keep-alives.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import openai
from openai.types.chat import ChatCompletion

from index.errors import CiteqaError
from index.settings import Settings
from qa.embedded_llm import MODEL_NAME, EmbeddedModelError
from qa.model_server import SHARED

DEFAULT_REMOTE_MODEL = "gpt-4o-mini"
MAX_RETRIES = 2
CONNECT_TIMEOUT_S = 5.0
FIRST_BACKOFF_S = 0.5
LAST_TRY_S = 0.5
"""A retry is only made with at least this long left after its backoff: one squeezed into the
deadline's last moment raced the caller's wait, and an unreachable endpoint was then reported as
a timeout on a loaded machine."""
VERDICT_GRACE_S = 0.25
"""How long past the deadline the caller waits for the worker's own verdict (every try is bounded by
the deadline, so it is on its way): the specific fault beats a generic timeout."""
T = TypeVar("T")


class Deadline:
    """The moment a call (or a whole answer: the Found step and the reply) must be done by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())


class LLMError(CiteqaError):
    """The LLM could not produce an answer; the message says why in plain words."""


class LLMUnavailable(LLMError):
    pass


class LLMTimeout(LLMError):
    pass


class LLMRateLimited(LLMError):
    pass


class LLMBadResponse(LLMError):
    pass


class _NotRetried(LLMUnavailable):
    """A refusal that another try would only repeat (a bad key, an unknown model)."""


class _ServerError(LLMBadResponse):
    """HTTP 5xx: retried; after the last try it is reported as an ``LLMBadResponse``."""

    def public(self) -> LLMBadResponse:
        return LLMBadResponse(str(self))


def _not_the_api(endpoint: Endpoint, what: str) -> str:
    return (
        f"the LLM endpoint {endpoint.base_url} answered with {what}, not the OpenAI chat API; "
        "check OPENAI_BASE_URL (it usually ends in /v1)"
    )


def _expect_event_stream(response: httpx.Response, endpoint: Endpoint) -> None:
    """A 200 with a web page must not read as an empty reply (that looked like an abstention)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if kind != "text/event-stream":
        raise LLMBadResponse(_not_the_api(endpoint, f"{kind or 'no content type'} instead of a stream"))


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    embedded: bool

    def describe(self) -> str:
        kind = "embedded llama.cpp" if self.embedded else "configured endpoint"
        return f"{self.model} at {self.base_url} ({kind})"


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: list[tuple[str, float]] = field(default_factory=list)
    """(token, log probability) of the reply, when the endpoint reports them."""


_TIMED_OUT = (
    "the LLM at {url} did not answer within {seconds:g} s; it may be overloaded or stuck "
    "(raise CITEQA_LLM_TIMEOUT to wait longer)"
)
_FAULTS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], type[LLMError], str], ...] = (
    # (what the client raised, what citeqa raises, the message); the first match wins, so a
    # subclass comes before its base (APITimeoutError is an APIConnectionError).
    (
        openai.RateLimitError,
        LLMRateLimited,
        "the LLM endpoint {url} is rate-limiting requests (429) even after {retries} retries; wait a moment and ask again",
    ),
    (openai.APITimeoutError, LLMTimeout, _TIMED_OUT),
    (
        openai.APIConnectionError,
        LLMUnavailable,
        "cannot reach the LLM at {url}; check that it is running (or unset OPENAI_BASE_URL to use the embedded model)",
    ),
    (openai.AuthenticationError, _NotRetried, "the LLM endpoint {url} refused the API key (OPENAI_API_KEY)"),
    (openai.NotFoundError, _NotRetried, "the LLM endpoint {url} does not know the model {model!r} (set CITEQA_MODEL)"),
    (openai.InternalServerError, _ServerError, "the LLM endpoint {url} failed with HTTP {status}; try again later"),
    (openai.APIStatusError, LLMBadResponse, "the LLM endpoint {url} failed with HTTP {status}; try again later"),
    (
        (openai.APIError, ValueError, KeyError, AttributeError, TypeError),
        LLMBadResponse,
        "the LLM endpoint {url} sent a malformed reply ({error})",
    ),
    (httpx.HTTPError, LLMUnavailable, "the connection to the LLM at {url} failed ({error})"),
)


class LLM:
    """A chat model behind an OpenAI-compatible endpoint, streamed."""

    def __init__(self, settings: Settings | None = None, *, progress: bool = False) -> None:
        self.settings = settings or Settings.from_env()
        self.progress = progress
        self._endpoint: Endpoint | None = None
        self._client: openai.OpenAI | None = None

    @property
    def endpoint(self) -> Endpoint:
        """Resolve (and for the embedded model, start) the endpoint on first use."""
        if self._endpoint is None:
            settings = self.settings
            if settings.llm.base_url:
                self._endpoint = Endpoint(settings.llm.base_url, settings.llm.chat_model or DEFAULT_REMOTE_MODEL, False)
            else:
                try:
                    running = SHARED.ensure(
                        settings.llm.cache, settings.llm.threads, settings.llm.idle_s, progress=self.progress
                    )
                except EmbeddedModelError as error:
                    raise LLMUnavailable(str(error)) from error
                self._endpoint = Endpoint(running.base_url, settings.llm.chat_model or running.model, True)
        return self._endpoint

    def start(self) -> Endpoint:
        """Resolve the endpoint now (joining and starting the embedded model if it is the one)."""
        return self.endpoint

    def describe(self) -> str:
        settings = self.settings
        if settings.llm.base_url:
            return f"{settings.llm.chat_model or DEFAULT_REMOTE_MODEL} at {settings.llm.base_url}"
        return f"{settings.llm.chat_model or MODEL_NAME} (embedded llama.cpp on 127.0.0.1)"

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            endpoint = self.endpoint
            timeout = httpx.Timeout(self.settings.llm.timeout_s, connect=CONNECT_TIMEOUT_S)
            self._client = openai.OpenAI(
                base_url=endpoint.base_url,
                api_key=self.settings.llm.api_key or "not-needed",
                timeout=timeout,
                max_retries=0,  # retried here, within the deadline
            )
        return self._client

    def _find_the_model_again(self) -> None:
        SHARED.forget(self.settings.llm.cache)
        self._endpoint, self._client = None, None

    def deadline(self) -> Deadline:
        """A fresh deadline of ``CITEQA_LLM_TIMEOUT`` seconds."""
        return Deadline(self.settings.llm.timeout_s)

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 160,
        usage: Usage | None = None,
        logprobs: bool = False,
        deadline: Deadline | None = None,
        **extra: Any,
    ) -> Iterator[str]:
        """Yield the reply's text as it arrives. Raises an ``LLMError`` subclass on any fault, and
        ``LLMTimeout`` when the whole reply is not in by the deadline (a fresh one if none is given).

        With ``logprobs`` the tokens' log probabilities are collected into ``usage.tokens``
        (endpoints that do not report them simply leave it empty).
        """
        endpoint = self.endpoint
        deadline = deadline or self.deadline()
        if logprobs:
            extra["logprobs"] = True
        request = {
            "model": endpoint.model,
            "messages": messages,
            "stream": True,
            "temperature": 0,
            "max_tokens": max_tokens,
            "stream_options": {"include_usage": True},
            **extra,
        }

        def produce() -> Iterator[str]:
            stream = self._create(endpoint, deadline, request)
            _expect_event_stream(stream.response, endpoint)
            with contextlib.closing(stream):
                for chunk in stream:
                    if getattr(chunk, "usage", None) and usage is not None:
                        usage.prompt_tokens = chunk.usage.prompt_tokens or 0
                        usage.completion_tokens = chunk.usage.completion_tokens or 0
                    choices = getattr(chunk, "choices", None)
                    if choices is None:
                        raise LLMBadResponse(
                            f"the LLM endpoint {endpoint.base_url} sent a reply that is not a chat completion"
                        )
                    if choices and usage is not None and logprobs:
                        content = getattr(getattr(choices[0], "logprobs", None), "content", None) or []
                        usage.tokens.extend((item.token, float(item.logprob)) for item in content)
                    if choices and choices[0].delta and choices[0].delta.content:
                        yield choices[0].delta.content

        yield from self._within(deadline, endpoint, produce)

    def _create(self, endpoint: Endpoint, deadline: Deadline, request: dict[str, Any]) -> Any:
        """One request, tried again after what a retry can fix, each try bounded by what is left."""
        backoff = FIRST_BACKOFF_S
        for attempt in range(MAX_RETRIES + 1):
            remaining = deadline.remaining()
            if remaining <= 0:
                break
            client = self.client.with_options(
                timeout=httpx.Timeout(remaining, connect=min(CONNECT_TIMEOUT_S, remaining))
            )
            try:
                with self._faults(endpoint, deadline):
                    return client.chat.completions.create(**request)
            except (LLMUnavailable, LLMRateLimited, LLMTimeout, _ServerError) as error:
                if endpoint.embedded and isinstance(error, LLMUnavailable):
                    self._find_the_model_again()  # the shared server was stopped: the next try finds or starts one
                out_of_time = deadline.remaining() <= backoff + LAST_TRY_S  # no time left to wait and try again
                if attempt == MAX_RETRIES or isinstance(error, _NotRetried) or out_of_time:
                    if isinstance(error, _ServerError):
                        raise error.public() from error.__cause__
                    raise
                time.sleep(backoff)
                backoff *= 2
        raise self._timeout(endpoint, deadline)

    def _within(self, deadline: Deadline, endpoint: Endpoint, produce: Callable[[], Iterator[T]]) -> Iterator[T]:
        """Run ``produce`` on a worker thread and pass on what it yields until the deadline."""
        items: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancelled = threading.Event()

        def work() -> None:
            try:
                with self._faults(endpoint, deadline):
                    for item in produce():
                        if cancelled.is_set():
                            return
                        items.put(("item", item))
                items.put(("done", None))
            except BaseException as error:  # handed to the caller's thread, raised there
                items.put(("error", error))

        threading.Thread(target=work, daemon=True, name="llm-reply").start()
        while True:
            try:
                kind, value = items.get(timeout=deadline.remaining())
            except queue.Empty:
                kind, value = self._verdict(items)
                if kind != "error":
                    cancelled.set()
                    raise self._timeout(endpoint, deadline) from None
            if kind == "item":
                yield value
            elif kind == "done":
                return
            else:
                raise value

    @staticmethod
    def _verdict(items: queue.Queue[tuple[str, Any]]) -> tuple[str, Any]:
        """The worker's report if it comes within ``VERDICT_GRACE_S`` of the deadline."""
        try:
            return items.get(timeout=VERDICT_GRACE_S)
        except queue.Empty:
            return ("none", None)

    def _timeout(self, endpoint: Endpoint, deadline: Deadline) -> LLMTimeout:
        return LLMTimeout(_TIMED_OUT.format(url=endpoint.base_url, seconds=deadline.seconds))

    @contextlib.contextmanager
    def _faults(self, endpoint: Endpoint, deadline: Deadline) -> Iterator[None]:
        """Turn the client's exceptions into ``LLMError`` subclasses with plain messages (``_FAULTS``)."""
        try:
            yield
        except LLMError:
            raise
        except Exception as error:
            for kinds, kind, message in _FAULTS:
                if isinstance(error, kinds):
                    raise kind(
                        message.format(
                            url=endpoint.base_url,
                            model=endpoint.model,
                            retries=MAX_RETRIES,
                            seconds=deadline.seconds,
                            status=getattr(error, "status_code", "?"),
                            error=error,
                        )
                    ) from error
            raise

    def complete(
        self, messages: list[dict[str, str]], *, max_tokens: int = 80, deadline: Deadline | None = None
    ) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, deadline=deadline))

    def yes_probability(
        self, messages: list[dict[str, str]], *, max_tokens: int = 3, deadline: Deadline | None = None
    ) -> float | None:
        """P(Yes) / (P(Yes) + P(No)) for the first yes-or-no word of the reply, from the top 10 log
        probabilities; None when the endpoint reports no log probabilities or writes neither word.

        " Yes", "Yes" and " yes" are added up (a dict keyed by the stripped token would let a
        0.001 "Yes" overwrite a 0.9 " Yes", as the notes on the offline models warn)."""
        endpoint = self.endpoint
        deadline = deadline or self.deadline()
        request = {
            "model": endpoint.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
            "logprobs": True,
            "top_logprobs": 10,
        }

        def produce() -> Iterator[Any]:
            raw = self._create(endpoint, deadline, request)
            if not isinstance(raw, ChatCompletion):
                raise LLMBadResponse(_not_the_api(endpoint, "a reply that is not a chat completion"))
            yield raw

        [reply] = list(self._within(deadline, endpoint, produce))
        content = getattr(getattr(reply.choices[0], "logprobs", None), "content", None) if reply.choices else None
        for step in content or []:
            mass = {"yes": 0.0, "no": 0.0}
            for alternative in step.top_logprobs or []:
                word = alternative.token.strip().lower()
                if word in mass:
                    mass[word] += math.exp(float(alternative.logprob))
            if mass["yes"] + mass["no"] > 0:
                return mass["yes"] / (mass["yes"] + mass["no"])
        return None

    def check(self, within_s: float | None = None) -> tuple[bool, str, float]:
        """A tiny request: does the endpoint answer, within ``within_s`` seconds (default: the
        configured timeout)? For ``citeqa doctor`` and the warning ``serve`` gives at start."""
        started = time.perf_counter()
        deadline = Deadline(within_s if within_s is not None else self.settings.llm.timeout_s)
        try:
            reply = self.complete(
                [{"role": "user", "content": "Reply with the word OK."}], max_tokens=4, deadline=deadline
            )
        except LLMError as error:
            return False, str(error), time.perf_counter() - started
        return True, reply.strip(), time.perf_counter() - started
