"""Every setting citeqa reads, read in this one place.

It lives on the ground floor (``index/``) so that every stage above can import it without an
upward arrow. Values come from the environment; command-line flags override them by building a
new ``Settings`` with ``dataclasses.replace``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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
class Settings:
    """Where data lives and which services citeqa talks to."""

    home: Path = DEFAULT_HOME
    """Data folder: the embedded Chroma database and derived indexes (BM25)."""
    cache: Path = field(default_factory=_default_cache)
    """Large shared files (joined model weights), kept apart so a new data folder reuses them."""
    chroma_url: str | None = None
    """A Chroma server (``http://host:port``); when set, ``HttpClient`` replaces the embedded store."""
    collection: str = DEFAULT_COLLECTION
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    openai_base_url: str | None = None
    """Any OpenAI-compatible endpoint; unset means the embedded llama.cpp server."""
    openai_api_key: str | None = None
    model: str | None = None
    llm_threads: int = 2
    llm_timeout_s: float = 120.0
    """One deadline per answer. A summary on the embedded model takes 45-50 s on a 2-core machine
    (the e2e summary test timed out at 60 s once), so 120 s; it still stops a hung endpoint."""
    llm_idle_s: float = 120.0
    """How long the machine's embedded model server outlives its last user (``qa.model_server``)."""
    web_auth: tuple[tuple[str, str], ...] = ()
    """Logins the web chat requires (``CITEQA_AUTH="user:password,user2:password2"``); none: open."""

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            home=Path(env.get("CITEQA_HOME") or DEFAULT_HOME),
            cache=Path(env["CITEQA_CACHE"]) if env.get("CITEQA_CACHE") else _default_cache(),
            chroma_url=env.get("CITEQA_CHROMA_URL") or None,
            collection=env.get("CITEQA_COLLECTION") or DEFAULT_COLLECTION,
            max_file_mb=_env_float("CITEQA_MAX_FILE_MB", DEFAULT_MAX_FILE_MB),
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            model=env.get("CITEQA_MODEL") or None,
            llm_threads=_env_int("CITEQA_LLM_THREADS", 2),
            llm_timeout_s=_env_float("CITEQA_LLM_TIMEOUT", 120.0),
            llm_idle_s=_env_float("CITEQA_LLM_IDLE_S", 120.0),
            web_auth=_env_logins("CITEQA_AUTH"),
        )

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)
