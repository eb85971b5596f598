"""Every LLM call goes through the ``openai`` client: OpenAI, Ollama, vLLM, llama.cpp, or the embedded model.

With ``OPENAI_BASE_URL`` unset, the embedded llama.cpp server is started on first use. Faults
come back as typed errors with plain messages; the client retries what a retry can fix
(connection errors, 429, 5xx) with exponential backoff, and a stalled stream times out.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from index.settings import Settings
from qa.embedded_llm import EMBEDDED, MODEL_NAME, EmbeddedModelError

DEFAULT_REMOTE_MODEL = "gpt-4o-mini"
MAX_RETRIES = 2
CONNECT_TIMEOUT_S = 5.0


class LLMError(RuntimeError):
    """The LLM could not produce an answer; the message says why in plain words."""


class LLMUnavailable(LLMError):
    pass


class LLMTimeout(LLMError):
    pass


class LLMRateLimited(LLMError):
    pass


class LLMBadResponse(LLMError):
    pass


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    embedded: bool

    def start(self) -> Endpoint:
        """Resolve the endpoint now (joining and starting the embedded model if it is the one)."""
        return self.endpoint

    def describe(self) -> str:
        kind = "embedded llama.cpp" if self.embedded else "configured endpoint"
        return f"{self.model} at {self.base_url} ({kind})"


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: list[tuple[str, float]] = field(default_factory=list)
    """(token, log probability) of the reply, when the endpoint reports them."""


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
            if settings.openai_base_url:
                self._endpoint = Endpoint(settings.openai_base_url, settings.model or DEFAULT_REMOTE_MODEL, False)
            else:
                try:
                    running = EMBEDDED.ensure(settings.cache, settings.llm_threads, progress=self.progress)
                except EmbeddedModelError as error:
                    raise LLMUnavailable(str(error)) from error
                self._endpoint = Endpoint(running.base_url, settings.model or running.model, True)
        return self._endpoint

    def start(self) -> Endpoint:
        """Resolve the endpoint now (joining and starting the embedded model if it is the one)."""
        return self.endpoint

    def describe(self) -> str:
        settings = self.settings
        if settings.openai_base_url:
            return f"{settings.model or DEFAULT_REMOTE_MODEL} at {settings.openai_base_url}"
        return f"{settings.model or MODEL_NAME} (embedded llama.cpp on 127.0.0.1)"

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            endpoint = self.endpoint
            timeout = httpx.Timeout(self.settings.llm_timeout_s, connect=CONNECT_TIMEOUT_S)
            self._client = openai.OpenAI(
                base_url=endpoint.base_url,
                api_key=self.settings.openai_api_key or "not-needed",
                timeout=timeout,
                max_retries=MAX_RETRIES,
            )
        return self._client

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 160,
        usage: Usage | None = None,
        logprobs: bool = False,
        **extra: Any,
    ) -> Iterator[str]:
        """Yield the reply's text as it arrives. Raises an ``LLMError`` subclass on any fault.

        With ``logprobs`` the tokens' log probabilities are collected into ``usage.tokens``
        (endpoints that do not report them simply leave it empty).
        """
        endpoint = self.endpoint
        if logprobs:
            extra["logprobs"] = True
        with self._faults(endpoint):
            stream = self.client.chat.completions.create(
                model=endpoint.model,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                temperature=0,
                max_tokens=max_tokens,
                stream_options={"include_usage": True},
                **extra,
            )
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

    @contextlib.contextmanager
    def _faults(self, endpoint: Endpoint) -> Iterator[None]:
        """Turn the client's exceptions into ``LLMError`` subclasses with plain messages."""
        try:
            yield
        except openai.RateLimitError as error:
            raise LLMRateLimited(
                f"the LLM endpoint {endpoint.base_url} is rate-limiting requests (429) even after "
                f"{MAX_RETRIES} retries; wait a moment and ask again"
            ) from error
        except openai.APITimeoutError as error:
            raise LLMTimeout(
                f"the LLM at {endpoint.base_url} did not answer within {self.settings.llm_timeout_s:g} s; "
                "it may be overloaded (raise CITEQA_LLM_TIMEOUT to wait longer)"
            ) from error
        except openai.APIConnectionError as error:
            raise LLMUnavailable(
                f"cannot reach the LLM at {endpoint.base_url}; check that it is running "
                "(or unset OPENAI_BASE_URL to use the embedded model)"
            ) from error
        except openai.AuthenticationError as error:
            raise LLMUnavailable(
                f"the LLM endpoint {endpoint.base_url} refused the API key (OPENAI_API_KEY)"
            ) from error
        except openai.NotFoundError as error:
            raise LLMUnavailable(
                f"the LLM endpoint {endpoint.base_url} does not know the model {endpoint.model!r} (set CITEQA_MODEL)"
            ) from error
        except openai.APIStatusError as error:
            raise LLMBadResponse(
                f"the LLM endpoint {endpoint.base_url} failed with HTTP {error.status_code}; try again later"
            ) from error
        except (openai.APIError, ValueError, KeyError, AttributeError, TypeError) as error:
            raise LLMBadResponse(f"the LLM endpoint {endpoint.base_url} sent a malformed reply ({error})") from error
        except httpx.HTTPError as error:
            raise LLMUnavailable(f"the connection to the LLM at {endpoint.base_url} failed ({error})") from error

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 80) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens))

    def yes_probability(self, messages: list[dict[str, str]], *, max_tokens: int = 3) -> float | None:
        """P(Yes) / (P(Yes) + P(No)) for the first yes-or-no word of the reply, from the top 10 log
        probabilities; None when the endpoint reports no log probabilities or writes neither word.

        " Yes", "Yes" and " yes" are added up (a dict keyed by the stripped token would let a
        0.001 "Yes" overwrite a 0.9 " Yes", as the notes on the offline models warn)."""
        endpoint = self.endpoint
        with self._faults(endpoint):
            reply = self.client.chat.completions.create(
                model=endpoint.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=0,
                max_tokens=max_tokens,
                logprobs=True,
                top_logprobs=10,
            )
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

    def check(self) -> tuple[bool, str, float]:
        """A tiny request: does the endpoint answer? (for ``citeqa doctor``)."""
        started = time.perf_counter()
        try:
            reply = self.complete([{"role": "user", "content": "Reply with the word OK."}], max_tokens=4)
        except LLMError as error:
            return False, str(error), time.perf_counter() - started
        return True, reply.strip(), time.perf_counter() - started
