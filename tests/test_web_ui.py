"""The web chat in headless Chromium (Debian's), driven by Playwright, against `citeqa serve`
on 127.0.0.1 with the real embedded model. A failing test leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import serving

pytestmark = [pytest.mark.browser, pytest.mark.llm]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("web") / "home", {"OPENAI_BASE_URL": ""}) as (url, _log):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server: str, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(server)
    page.wait_for_selector("#cq-question textarea")
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def ask(page, question: str) -> None:
    box = page.locator("#cq-question textarea")
    box.fill(question)
    box.press("Enter")  # submitting with the keyboard


def last_reply(page):
    return page.locator("#cq-chat .message-row, #cq-chat [data-testid='bot']").last


def wait_for_final_reply(page) -> str:
    page.wait_for_function(
        """() => {
            const chat = document.querySelector('#cq-chat');
            if (!chat) return false;
            const text = chat.innerText;
            return !text.includes('▌') && !text.includes('Searching the articles') && !text.includes('Reading the sources')
                && (text.includes('[1]') || text.includes("don't say") || text.includes('⚠'));
        }"""
    )
    return page.locator("#cq-chat").inner_text()


def test_a_question_streams_an_answer_with_a_citation(page) -> None:
    ask(page, "Who will head the Chinese delegation to North Korea?")
    page.wait_for_selector("#cq-sources .cq-source")  # sources appear while the model reads
    text = wait_for_final_reply(page)
    assert "Zhao Leji" in text
    assert "[1]" in text
    assert "Zhao Leji" in page.locator("#cq-sources mark").first.inner_text()


def test_opening_a_source_shows_the_highlighted_span(page) -> None:
    ask(page, "How long will the delegation be in North Korea?")
    wait_for_final_reply(page)
    page.locator("#cq-open-citation input").click()
    page.locator("[role='option']").first.click()
    cited = page.locator("#cq-article mark#cq-cited")
    cited.wait_for()
    assert "Saturday" in cited.inner_text()
    page.wait_for_function(
        "() => { const m = document.getElementById('cq-cited'); if (!m) return false; const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )


def test_an_unanswerable_question_shows_the_abstention(page) -> None:
    ask(page, "How many tourists visited Pyongyang in 2023?")
    text = wait_for_final_reply(page)
    assert "The articles don't say." in text
    assert "Closest passages" in page.locator("#cq-sources").inner_text()


def test_uploading_a_good_and_a_bad_file_reports_both(page, tmp_path: Path) -> None:
    good = tmp_path / "harbour.txt"
    good.write_text("Harbour reopens\n\nThe old harbour of Norrvik reopened on Monday after repairs, the port said.\n")
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"caf\xe9 \xff\xfe")
    page.get_by_role("tab", name="Articles").click()
    page.locator("#cq-upload input[type='file']").set_input_files([str(good), str(bad)])
    page.locator("#cq-index").click()
    page.wait_for_function(
        "() => { const t = document.querySelector('#cq-upload-results')?.innerText || ''; return t.includes('added') && t.includes('failed'); }"
    )
    results = page.locator("#cq-upload-results").inner_text()
    assert "harbour.txt" in results and "broken.txt" in results
    assert "not UTF-8" in results
    page.wait_for_function("() => (document.querySelector('#cq-articles')?.innerText || '').includes('harbour')")
