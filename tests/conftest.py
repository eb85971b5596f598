"""Shared fixtures: a fresh data folder per test, and a few small real articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "000_9e985366f0c5a270.txt"
SQUAD = ROOT.parent / "shared" / "datasets" / "squad2-dev"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env().with_store(home=tmp_path / "home", chroma_url=None, collection="articles")


@pytest.fixture
def seed_text() -> str:
    return SEED_FILE.read_text(encoding="utf-8")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The seed article and three short articles of our own on other subjects."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "seed.txt").write_text(SEED_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "bridge.md").write_text(
        "# Council approves river bridge\n\n"
        "LYON (Reuters) - The city council voted on Tuesday to approve a new bridge over the Rhone, "
        "which will cost 40 million euros. Construction starts in May 2025, the mayor said.\n\n"
        "Opponents said the money should go to schools instead. The vote was 31 to 12.\n",
        encoding="utf-8",
    )
    (folder / "wheat.txt").write_text(
        "Wheat prices fall as harvest beats forecasts\n\n"
        "Wheat futures in Chicago fell 3% on Monday after farm agencies raised their estimates for the "
        "harvest in Australia and Argentina. Traders said export demand from Egypt remained weak.\n\n"
        "©2023 Example Wire Ltd.\n",
        encoding="utf-8",
    )
    (folder / "space.html").write_text(
        "<html><head><title>Probe reaches Jupiter orbit</title><script>track()</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/science'>Science</a></nav>"
        "<article><h1>Probe reaches Jupiter orbit</h1>"
        "<p>The European probe Juice entered orbit around Jupiter on Friday after an eight-year journey, "
        "the space agency said.</p><p>It will study the icy moons Ganymede, Callisto and Europa.</p></article>"
        "<footer>Subscribe to our newsletter</footer></body></html>",
        encoding="utf-8",
    )
    return folder


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item, so fixtures can tell a failed test (screenshots)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
