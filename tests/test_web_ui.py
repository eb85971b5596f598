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


AXE = Path(__file__).resolve().parent.parent / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ARTIFACTS / "screens"
"""Where the tests leave screenshots of the desktop and phone views after an answer."""

RECORD_ANSWERS = """() => {
    // Every state of the answers' text while the page changes: what a reader could have seen.
    window.cqStates = [];
    const chat = document.querySelector('#cq-chat');
    const record = () => {
        const answers = [...chat.querySelectorAll('.cq-answer')].map((e) => e.innerText);
        window.cqStates.push(answers);
    };
    new MutationObserver(record).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


def ask(page, question: str) -> None:
    box = page.locator("#cq-question textarea")
    box.fill(question)
    box.press("Enter")  # submitting with the keyboard


def answers(page) -> int:
    return page.locator("#cq-chat .cq-answer").count()


def wait_for_answer(page, count: int) -> str:
    """Wait until the chat holds ``count`` checked answers; the text of the last one."""
    page.wait_for_function(f"() => document.querySelectorAll('#cq-chat .cq-answer').length >= {count}")
    return page.locator("#cq-chat .cq-answer").nth(count - 1).inner_text()


def test_an_answer_shows_progress_in_words_then_the_checked_answer_and_never_takes_text_back(page) -> None:
    page.evaluate(RECORD_ANSWERS)
    ask(page, "Who will head the Chinese delegation to North Korea?")
    box = page.locator("#cq-question textarea")
    box.press_sequentially("And until")  # typed at once: the box used to empty late and wipe this
    page.wait_for_function("() => (document.querySelector('#cq-chat')?.innerText || '').includes('Reading 4 sources')")
    # The page empties the box a moment after Enter: a key pressed within that moment can go with
    # it (CI once kept "nd until"); what is typed after it stays. The old box kept nothing ("").
    assert box.input_value().endswith("nd until")
    # Typing while the answer is written: the text stays, and sending it is refused with a message.
    box.fill("And until when will he stay?")
    box.press("Enter")
    page.get_by_text("An answer is still being written").wait_for()
    final = wait_for_answer(page, 1)
    assert "Zhao Leji" in final and "[1]" in final
    assert box.input_value() == "And until when will he stay?"
    states = page.evaluate("() => window.cqStates")
    shown = {text for state in states for text in state if text.strip()}
    assert shown == {final}, f"text shown during streaming that the answer does not hold: {shown - {final}}"
    card = page.locator("#cq-chat .cq-source").first
    assert "Zhao Leji" in card.locator("mark").inner_text()
    assert "Bloomberg" in card.inner_text()
    reader_view = page.locator("#cq-chat").inner_text()
    assert "chars" not in reader_view and "seed.txt" not in reader_view and "000_" not in reader_view


def test_a_citation_in_an_earlier_answer_opens_its_article_a_follow_up_says_so_and_clearing_forgets_all(page) -> None:
    ask(page, "Who will head the Chinese delegation to North Korea?")
    wait_for_answer(page, 1)
    ask(page, "What did Russia veto at the UN Security Council?")
    wait_for_answer(page, 2)
    page.locator("#cq-chat .cq-answer").first.locator("a.cq-cite").first.click()
    cited = page.locator("#cq-article mark#cq-cited")
    cited.wait_for()
    assert "Zhao Leji" in cited.inner_text()
    assert page.locator("#cq-chat .cq-source.cq-shown").count() == 1
    page.wait_for_function(
        "() => { const m = document.getElementById('cq-cited'); if (!m) return false; const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    # A follow-up says, in words, that it is being rewritten from the conversation.
    ask(page, "And how long will he stay?")
    page.get_by_text("Rewriting the follow-up as a full question").first.wait_for()
    wait_for_answer(page, 3)
    page.locator("#cq-clear").click()
    page.wait_for_function("() => document.querySelectorAll('#cq-chat .cq-answer').length === 0")
    page.wait_for_function("() => !document.querySelector('#cq-article mark')")
    # A follow-up now has no conversation to lean on: it is not rewritten from the cleared one.
    ask(page, "How long will he stay?")
    page.wait_for_function(
        "() => (document.querySelector('#cq-chat')?.innerText || '').includes('Searching the articles')"
    )
    assert "Rewriting the follow-up" not in page.locator("#cq-chat").inner_text()
    wait_for_answer(page, 1)


def test_markup_in_an_article_or_a_reply_is_shown_as_text_and_wire_datelines_are_read(page, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = tmp_path / "tram.txt"
    hostile.write_text(
        "Tram line <script>alert(1)</script> alert\n\n"
        "OSLO, March 12 (Reuters) - The sign at the Vika tram stop showed <img src=x onerror=alert(2)> "
        "instead of the timetable, the operator Ruter said.\n\n(c) 2024 Reuters\n",
        encoding="utf-8",
    )
    wire = tmp_path / "senate.txt"
    wire.write_text(
        "Senate passes rail bill\n\nWASHINGTON (AP) — The Senate passed the rail bill on Tuesday.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Articles").click()
    page.locator("#cq-upload input[type='file']").set_input_files([str(hostile), str(wire)])
    page.locator("#cq-index").click()
    page.wait_for_function("() => (document.querySelector('#cq-articles')?.innerText || '').includes('Senate passes')")
    table = page.locator("#cq-articles").inner_text()
    assert "Reuters" in table and "12 March 2024" in table and "AP" in table
    page.get_by_role("tab", name="Chat").click()
    ask(page, "What did the sign at the Vika tram stop show instead of the timetable?")
    wait_for_answer(page, 1)
    page.locator("#cq-chat a.cq-cite, #cq-chat .cq-open").first.click()
    page.locator("#cq-article mark#cq-cited").wait_for()
    for region in ("#cq-chat", "#cq-article"):
        assert page.locator(f"{region} img, {region} script").count() == 0, region
    assert "<img src=x onerror=alert(2)>" in page.locator("#cq-article").inner_text()
    assert "<img src=x onerror=alert(2)>" in page.locator("#cq-chat .cq-source").first.inner_text()
    assert dialogs == []


def test_the_phone_layout_puts_the_sources_under_the_answer_and_the_page_passes_an_accessibility_scan(
    page,
) -> None:
    ask(page, "How long will the delegation stay in North Korea?")
    wait_for_answer(page, 1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop-answer.png"), full_page=True)
    violations = {"desktop": _serious_violations(page)}
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    answer = page.locator("#cq-chat .cq-answer").first.bounding_box()
    card = page.locator("#cq-chat .cq-source").first.bounding_box()
    box = page.locator("#cq-question textarea").bounding_box()
    assert answer["y"] < card["y"] < box["y"], (answer, card, box)
    assert card["x"] >= 0 and card["x"] + card["width"] <= 390
    page.screenshot(path=str(SCREENSHOTS / "phone-answer.png"), full_page=True)
    violations["phone"] = _serious_violations(page)
    assert violations == {"desktop": [], "phone": []}


def _serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: `make test` installs it (npm install axe-core into .venv/axe)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter((v) => ['serious', 'critical'].includes(v.impact))"
        ".map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '))"
    )
    return list(found)


def test_an_unanswerable_question_shows_the_abstention_and_the_closest_passages(page) -> None:
    ask(page, "How many tourists visited Pyongyang in 2023?")
    text = wait_for_answer(page, 1)
    assert "The articles don't say." in text
    assert "Closest passages" in page.locator("#cq-chat").inner_text()


def test_a_question_can_be_narrowed_to_publishers_dates_and_the_day_asked_and_a_bad_date_is_named(page) -> None:
    question = "Who will head the Chinese delegation to North Korea?"
    page.get_by_text("Narrow the question to publishers or dates").click()
    published_from = page.locator("#cq-from").get_by_role("textbox")
    published_from.fill("March")
    ask(page, question)
    page.locator("#cq-chat .cq-notice").get_by_text("'March' is not a date").wait_for()
    published_from.fill("2030")  # nothing was published then: no passage, no answer
    ask(page, question)
    assert "The articles don't say." in wait_for_answer(page, 1)
    published_from.fill("")
    # The day a question is asked: said wrongly, it is named; before the article (of 2024) was
    # published, the article is not there to be read.
    as_of = page.locator("#cq-as-of").get_by_role("textbox")
    as_of.fill("4 November")
    ask(page, question)
    page.locator("#cq-chat .cq-notice").get_by_text("as_of '4 November' is not a day").wait_for()
    as_of.fill("2020-01-01")
    ask(page, question)
    assert "The articles don't say." in wait_for_answer(page, 2)
    as_of.fill("")
    page.locator("#cq-publishers input").click()
    page.get_by_role("option", name="Bloomberg").click()
    ask(page, question)
    assert "Zhao Leji" in wait_for_answer(page, 3)


def test_uploading_a_good_and_a_bad_file_reports_both(page, tmp_path: Path) -> None:
    good = tmp_path / "harbour.txt"
    good.write_text("Harbour reopens\n\nThe old harbour of Norrvik reopened on Monday after repairs, the port said.\n")
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"caf\xe9 \xff\xfe")
    page.get_by_role("tab", name="Articles").click()
    page.locator("#cq-index").click()
    page.get_by_text("Choose one or more files").wait_for()  # nothing selected: said, not silent
    page.locator("#cq-upload input[type='file']").set_input_files([str(good), str(bad)])
    page.locator("#cq-index").click()
    page.wait_for_function(
        "() => { const t = document.querySelector('#cq-upload-results')?.innerText || ''; return t.includes('added') && t.includes('failed'); }"
    )
    results = page.locator("#cq-upload-results").inner_text()
    assert "harbour.txt" in results and "broken.txt" in results
    assert "not UTF-8" in results
    page.wait_for_function("() => (document.querySelector('#cq-articles')?.innerText || '').includes('Harbour')")


def test_a_pasted_page_address_and_feed_address_are_fetched_and_indexed_with_a_result_each(page) -> None:
    from tests.local_site import serving_pages

    story = (
        "<html><head><title>Norrvik ferry returns</title></head><body><article><h1>Norrvik ferry returns</h1>"
        + "<p>The Norrvik ferry returned to service on Friday after a month of repairs, the operator said.</p>" * 3
        + "</article></body></html>"
    )
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Norrvik News</title>'
        "<item><title>Ferry</title><link>/ferry</link><pubDate>Fri, 06 Mar 2026 08:00:00 GMT</pubDate></item>"
        "<item><title>Gone</title><link>/gone</link></item></channel></rss>"
    )
    pier = story.replace("Norrvik ferry returns", "Norrvik pier reopens").replace(
        "The Norrvik ferry returned to service on Friday after a month of repairs",
        "The Norrvik pier reopened on Saturday",
    )
    pages = {
        "/ferry": (200, "text/html", story),
        "/pier": (200, "text/html", pier),
        "/rss.xml": (200, "application/rss+xml", feed),
    }
    with serving_pages(pages) as site:
        page.get_by_role("tab", name="Articles").click()
        page.locator("#cq-fetch").click()
        page.get_by_text("Paste one or more web page or feed addresses").wait_for()  # nothing pasted: said
        page.locator("#cq-addresses textarea").fill(f"{site}/pier\n{site}/rss.xml\nnorrvik ferry")
        page.locator("#cq-fetch").click()
        page.wait_for_function(
            "() => { const t = document.querySelector('#cq-upload-results')?.innerText || '';"
            " return t.includes('/pier') && t.includes('/ferry') && t.includes('/gone') && t.includes('norrvik ferry'); }"
        )
    results = page.locator("#cq-upload-results").inner_text()
    assert "not a web address" in results and "HTTP 404" in results and "added" in results
    page.wait_for_function(
        "() => { const t = document.querySelector('#cq-articles')?.innerText || '';"
        " return t.includes('Norrvik ferry') && t.includes('Norrvik pier'); }"
    )
