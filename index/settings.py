"""Every setting citeqa reads, read in this one place.

It lives on the ground floor (``index/``) so that every stage above can import it without an
upward arrow. Values come from the environment; command-line flags override them by building a
new ``Settings`` (``with_store``, ``with_llm``, ``with_web``). Three groups, so a setting says
what it is for: ``store`` (where articles are kept), ``llm`` (which chat model answers and how it
runs), ``web`` (the chat's logins).

    CITEQA_HOME CITEQA_CHROMA_URL CITEQA_COLLECTION CITEQA_MAX_FILE_MB        -> settings.store
    OPENAI_BASE_URL OPENAI_API_KEY CITEQA_MODEL CITEQA_CACHE CITEQA_LLM_*     -> settings.llm
    CITEQA_AUTH                                                               -> settings.web
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.errors import CiteqaError

DEFAULT_HOME = Path(".citeqa")
DEFAULT_MAX_FILE_MB = 20.0
DEFAULT_COLLECTION = "articles"


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citeqa"


class SettingsError(CiteqaError, ValueError):
    """A setting's value cannot be used; the message names the setting and a valid value."""


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise SettingsError(f"{name}={raw!r} is not a number; set it to a number such as {default}") from error


def _env_logins(name: str) -> tuple[tuple[str, str], ...]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ()
    pairs = [pair.split(":", 1) for pair in raw.split(",")]
    if any(len(pair) != 2 or not pair[0].strip() or not pair[1] for pair in pairs):
        raise SettingsError(f'{name} must look like "user:password" (several pairs separated by commas)')
    return tuple((user.strip(), password) for user, password in pairs)


def _env_int(name: str, default: int) -> int:
    return int(_env_float(name, default))


@dataclass(frozen=True)
class StoreSettings:
    """Where the articles are kept: the Chroma store and the folder of derived indexes."""

    home: Path = DEFAULT_HOME
    """Data folder: the embedded Chroma database and derived indexes (BM25)."""
    chroma_url: str | None = None
    """A Chroma server (``http://host:port``); when set, ``HttpClient`` replaces the embedded store."""
    collection: str = DEFAULT_COLLECTION
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    """Files larger than this are skipped when indexing, with a message."""

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


@dataclass(frozen=True)
class LLMSettings:
    """Which chat model writes the answers, and how citeqa runs or reaches it. (The embedding
    model is fixed: MiniLM, ``index.embeddings``.)"""

    base_url: str | None = None
    """Any OpenAI-compatible endpoint (``OPENAI_BASE_URL``); unset means the embedded llama.cpp server."""
    api_key: str | None = None
    chat_model: str | None = None
    """The chat model's name at the endpoint (``CITEQA_MODEL``); unset: the embedded Qwen, or
    ``gpt-4o-mini`` at another endpoint."""
    cache: Path = field(default_factory=_default_cache)
    """Large shared files (the joined model weights, the shared server's state), kept apart from
    the data folder so a new data folder reuses them."""
    threads: int = 2
    """CPU threads of the embedded model server."""
    timeout_s: float = 120.0
    """One deadline per answer. A summary on the embedded model takes 45-50 s on a 2-core machine
    (the e2e summary test timed out at 60 s once), so 120 s; it still stops a hung endpoint."""
    idle_s: float = 120.0
    """How long the machine's embedded model server outlives its last user (``qa.model_server``)."""


@dataclass(frozen=True)
class WebSettings:
    """The web chat's own settings."""

    auth: tuple[tuple[str, str], ...] = ()
    """Logins the web chat requires (``CITEQA_AUTH="user:password,user2:password2"``); none: open."""


@dataclass(frozen=True)
class Settings:
    """Every setting, in three groups: ``store``, ``llm`` and ``web``.

    Change a few with ``settings.with_store(home=...)``, ``settings.with_llm(chat_model=...)`` or
    ``settings.with_web(auth=...)``: each gives a new ``Settings``.
    """

    store: StoreSettings = field(default_factory=StoreSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    web: WebSettings = field(default_factory=WebSettings)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            store=StoreSettings(
                home=Path(env.get("CITEQA_HOME") or DEFAULT_HOME),
                chroma_url=env.get("CITEQA_CHROMA_URL") or None,
                collection=env.get("CITEQA_COLLECTION") or DEFAULT_COLLECTION,
                max_file_mb=_env_float("CITEQA_MAX_FILE_MB", DEFAULT_MAX_FILE_MB),
            ),
            llm=LLMSettings(
                base_url=env.get("OPENAI_BASE_URL") or None,
                api_key=env.get("OPENAI_API_KEY") or None,
                chat_model=env.get("CITEQA_MODEL") or None,
                cache=Path(env["CITEQA_CACHE"]) if env.get("CITEQA_CACHE") else _default_cache(),
                threads=_env_int("CITEQA_LLM_THREADS", 2),
                timeout_s=_env_float("CITEQA_LLM_TIMEOUT", 120.0),
                idle_s=_env_float("CITEQA_LLM_IDLE_S", 120.0),
            ),
            web=WebSettings(auth=_env_logins("CITEQA_AUTH")),
        )

    def with_store(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, store=dataclasses.replace(self.store, **changes))

    def with_llm(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, llm=dataclasses.replace(self.llm, **changes))

    def with_web(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, web=dataclasses.replace(self.web, **changes))
