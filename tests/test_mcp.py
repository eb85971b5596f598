"""citeqa as a tool for agents: a real MCP client session (the `mcp` package's stdio client)
against the real `citeqa mcp` server, over an index of the seed article, on the embedded model."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from index.pipeline import Indexer
from tests.conftest import SEEDS

CITEQA = str(Path(sys.executable).parent / "citeqa")
SEED_ID = "000_9e985366f0c5a270.txt"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:

    from index.settings import Settings

    folder = tmp_path_factory.mktemp("mcp") / "home"
    settings = Settings.from_env().with_store(home=folder, chroma_url=None, collection="articles")
    Indexer(settings).index_paths([SEEDS])
    return folder


def session_run(home: Path, script, **settings: str) -> Any:
    """Start `citeqa mcp` as an MCP host would (``settings``: more of its environment), open a
    session, and run ``script(session)``."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "CITEQA_CHROMA_URL")} | settings
    server = StdioServerParameters(command=CITEQA, args=["--home", str(home), "mcp"], env=env)

    async def main() -> Any:
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await script(session)

    return anyio.run(main)


def structured(result: Any) -> Any:
    assert not result.isError, result.content
    data = result.structuredContent
    return data.get("result", data) if isinstance(data, dict) and set(data) == {"result"} else data


def test_the_server_lists_search_ask_and_get_article_with_their_inputs(home: Path) -> None:
    async def script(session: ClientSession) -> Any:
        return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in session_run(home, script)}
    assert set(tools) == {"search", "ask", "get_article"}
    assert set(tools["search"].inputSchema["properties"]) == {
        "query",
        "k",
        "publisher",
        "article_id",
        "since",
        "until",
        "by_story",
    }
    assert tools["search"].inputSchema["required"] == ["query"]
    assert set(tools["get_article"].inputSchema["properties"]) == {"article_id", "start", "end"}
    assert "cites" in tools["ask"].description
    assert set(tools["ask"].inputSchema["properties"]) == {"question", "as_of"}


def test_search_then_get_article_returns_the_exact_span_and_filters_apply(home: Path) -> None:
    async def script(session: ClientSession) -> Any:
        hits = structured(await session.call_tool("search", {"query": "Who will head the delegation?", "k": 2}))
        top = hits[0]
        span = structured(
            await session.call_tool(
                "get_article", {"article_id": top["article_id"], "start": top["start"], "end": top["end"]}
            )
        )
        whole = structured(await session.call_tool("get_article", {"article_id": top["article_id"]}))
        elsewhere = structured(
            await session.call_tool("search", {"query": "delegation", "publisher": ["Nobody Press"]})
        )
        return hits, span, whole, elsewhere

    hits, span, whole, elsewhere = session_run(home, script)
    assert 1 <= len(hits) <= 2
    top = hits[0]
    assert top["article_id"] == SEED_ID and top["publisher"] == "Bloomberg"
    assert "Zhao Leji" in " ".join(hit["text"] for hit in hits)
    assert span["text"] == top["text"], "a hit's span opens to exactly its text"
    seed = (SEEDS / SEED_ID).read_text(encoding="utf-8")
    assert whole["text"] == seed and whole["length"] == len(seed)
    assert elsewhere == [], "a publisher filter leaves out the other publishers' articles"


def test_bad_input_comes_back_as_a_tool_error_with_a_message(home: Path) -> None:
    async def script(session: ClientSession) -> Any:
        return (
            await session.call_tool("get_article", {"article_id": "no-such-article"}),
            await session.call_tool("get_article", {"article_id": SEED_ID, "start": 10, "end": 10**7}),
            await session.call_tool("search", {"query": "delegation", "k": 0}),
            await session.call_tool("search", {"query": "   "}),
            await session.call_tool("ask", {"question": "What happened last week?", "as_of": "4 November"}),
        )

    missing, outside, bad_k, empty, bad_day = session_run(home, script)
    messages = [result.content[0].text for result in (missing, outside, bad_k, empty, bad_day)]
    assert all(result.isError for result in (missing, outside, bad_k, empty, bad_day)), messages
    assert "as_of '4 November' is not a day" in messages[4]
    assert "no article 'no-such-article' is indexed" in messages[0]
    assert "outside article" in messages[1] and "characters" in messages[1]
    assert "k=0 is out of range" in messages[2]
    assert "Traceback" not in json.dumps(messages)
    assert "The question is empty" in messages[3]


@pytest.mark.llm
def test_ask_gives_the_checked_answer_with_citations_and_reports_progress_in_words(home: Path) -> None:
    progress: list[str] = []

    async def on_progress(step: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async def script(session: ClientSession) -> Any:
        return await session.call_tool("ask", {"question": "Who leads the delegation?"}, progress_callback=on_progress)

    answer = structured(session_run(home, script))
    assert not answer["abstained"], answer
    assert "Zhao Leji" in answer["text"] and "Shoigu" not in answer["text"]
    seed = (SEEDS / SEED_ID).read_text(encoding="utf-8")
    assert answer["citations"], answer
    for citation in answer["citations"]:
        assert seed[citation["start"] : citation["end"]] == citation["quote"]
        assert f"[{citation['number']}]" in answer["text"]
    assert progress[0] == "Searching the articles…"
    assert any(message.startswith("Reading ") and " from " in message for message in progress), progress


def test_ask_over_mcp_and_citeqa_ask_json_give_one_shape_for_the_same_answer(home: Path) -> None:
    """One machine shape for an answer (``qa.shapes.CheckedAnswer``): the same fields and values
    from MCP's ``ask`` and from ``citeqa ask --json``, for one reply of one endpoint."""
    from click.testing import CliRunner

    from tests.fake_llm import FakeLLM
    from ui.cli import main

    question = "Who leads the delegation?"

    async def script(session: ClientSession) -> Any:
        return await session.call_tool("ask", {"question": question})

    with FakeLLM("ok", reply="Zhao Leji will head the delegation [1].").running() as fake:
        endpoint = {"OPENAI_BASE_URL": fake.base_url, "CITEQA_MODEL": "fake"}
        over_mcp = structured(session_run(home, script, **endpoint))
        run = CliRunner().invoke(main, ["--home", str(home), "ask", question, "--json"], env=endpoint)
    assert run.exit_code == 0, run.output
    from_cli = json.loads(run.stdout)
    assert not from_cli["abstained"] and "Zhao Leji" in from_cli["text"]
    assert set(from_cli) == set(over_mcp)
    assert [set(c) for c in from_cli["citations"]] == [set(c) for c in over_mcp["citations"]]
    assert [set(p) for p in from_cli["passages"]] == [set(p) for p in over_mcp["passages"]]
    assert from_cli == over_mcp
