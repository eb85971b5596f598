"""Web pages indexed by address, from a real HTTP server on 127.0.0.1: read like an HTML file,
indexed once however often they are fetched, and every page that cannot be had reported by its
address with the reason (too slow, too large, forbidden by robots.txt, missing) while the rest
are indexed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from index.pipeline import Indexer, Outcome
from index.settings import Settings
from tests.local_site import serving_pages

PARAGRAPH = (
    "Tram drivers in Maasport will strike for 48 hours from Thursday after pay talks broke down, the union said. "
)
ARTICLE = (
    "<html><head><title>Maasport tram drivers call strike</title>"
    '<meta property="article:published_time" content="2026-03-02T08:00:00Z"></head>'
    f"<body><nav>Home | News</nav><article><h1>Maasport tram drivers call strike</h1><p>{PARAGRAPH * 3}</p>"
    "</article></body></html>"
)
BUS = (  # no date of its own: the feed's pubDate dates it
    "<html><head><title>Eastbrook bus drivers vote to strike</title></head><body><article>"
    "<h1>Eastbrook bus drivers vote to strike</h1><p>"
    + "Bus drivers in Eastbrook voted to strike next week. " * 4
    + "</p></article></body></html>"
)
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Harbour Post</title>
<item><title>Tram strike</title><link>/news/tram-strike</link><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate></item>
<item><title>Bus strike</title><link>/news/bus</link><pubDate>Thu, 05 Mar 2026 07:00:00 GMT</pubDate></item>
<item><title>Gone</title><link>/news/gone</link></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Valley Courier</title>
<entry><title>Bus strike</title><link rel="alternate" href="/news/bus"/><updated>2026-03-05T07:00:00Z</updated></entry>
</feed>"""
# Feeds as they are written (issue 26 part 5): each links to the tram page or the bus page.
RSS_091 = (  # Latin-1, as declared; markup escaped inside the title; no dates at all
    '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="0.91"><channel><title>Courrier</title>'
    "<item><title>Gr\xe8ve des trams &lt;b&gt;Maasport&lt;/b&gt;</title><link>/news/tram-strike</link></item>"
    "</channel></rss>"
).encode("latin-1")
RSS_10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="/"><title>Eastbrook Echo</title><link>/</link></channel>
<item rdf:about="/news/bus"><title>Bus strike</title><link>/news/bus</link><dc:date>2026-03-05T07:00:00Z</dc:date></item>
</rdf:RDF>"""
MISLABELLED = (  # says UTF-8, is Windows-1252 (a curly quote and an e acute)
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Post</title>'
    "<item><title>\u201cCaf\xe9\u201d drivers strike</title><link>/news/bus</link>"
    "<pubDate>Thu, 05 Mar 2026 07:00:00 GMT</pubDate></item></channel></rss>"
).encode("cp1252")
LAUGHS = (  # a billion laughs: ten levels of ten, about 3 GB if expanded
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    + ']><rss version="2.0"><channel><title>&lol9;</title>'
    "<item><title>&lol9;</title><link>/news/bus</link></item></channel></rss>"
).encode()
PAGES = {
    "/robots.txt": (200, "text/plain", "User-agent: *\nDisallow: /private/\n"),
    "/news/tram-strike": (200, "text/html; charset=utf-8", ARTICLE),
    "/private/memo": (200, "text/html", ARTICLE.replace("Maasport", "Eastbrook")),
    "/big": (200, "text/html", "<html><body><p>" + "word " * 400_000 + "</p></body></html>"),
    "/image": (200, "image/png", "\x89PNG"),
    "/news/bus": (200, "text/html", BUS),
    "/feed.xml": (200, "application/rss+xml", RSS),
    "/atom.xml": (200, "application/atom+xml", ATOM),
    "/sitemap.xml": (200, "application/xml", "<urlset><url><loc>/news/bus</loc></url></urlset>"),
    "/rss091.xml": (200, "application/rss+xml", RSS_091),
    "/rss10.rdf": (200, "application/rdf+xml", RSS_10),
    "/mislabelled.xml": (200, "application/rss+xml; charset=utf-8", MISLABELLED),
    "/laughs.xml": (200, "application/rss+xml", LAUGHS),
}
REQUESTS: list[str] = []


@pytest.fixture
def site() -> Iterator[str]:
    with serving_pages(PAGES, REQUESTS) as address:
        yield address


def test_a_page_is_indexed_with_its_address_and_date_and_fetching_it_again_adds_nothing(
    settings: Settings, site: str
) -> None:
    url = f"{site}/news/tram-strike"
    first = Indexer(settings).index_paths([url])
    [result] = first.results
    assert result.outcome is Outcome.ADDED, result
    [article] = Indexer(settings).store.articles().values()
    assert (article.title, article.published, article.url) == ("Maasport tram drivers call strike", "2026-03-02", url)
    assert article.locations == (url,)
    again = Indexer(settings).index_paths([url])
    assert [r.outcome for r in again.results] == [Outcome.UNCHANGED]


def test_pages_that_cannot_be_had_are_reported_by_address_and_the_rest_are_indexed(
    settings: Settings, site: str
) -> None:
    settings = settings.with_store(max_file_mb=1)
    addresses = ["/slow", "/big", "/private/memo", "/missing", "/image", "/news/tram-strike"]
    report = Indexer(settings).index_paths([site + a for a in addresses], fetch_timeout_s=1)
    reasons = {r.location.removeprefix(site): (r.outcome, r.reason) for r in report.results}
    assert reasons["/news/tram-strike"][0] is Outcome.ADDED
    assert reasons["/slow"] == (Outcome.FAILED, "no answer within 1 s; try again later")
    assert reasons["/big"][0] is Outcome.FAILED and "over the size limit of 1 MB" in reasons["/big"][1]
    assert reasons["/private/memo"][0] is Outcome.FAILED and "robots.txt does not allow" in reasons["/private/memo"][1]
    assert reasons["/missing"][0] is Outcome.FAILED and "HTTP 404" in reasons["/missing"][1]
    assert reasons["/image"][0] is Outcome.FAILED and "is image/png, neither a web page" in reasons["/image"][1]
    assert len(Indexer(settings).store.articles()) == 1


def test_a_feed_indexes_its_pages_once_dates_them_and_reports_a_missing_one(settings: Settings, site: str) -> None:
    first = Indexer(settings).index_paths([], feeds=[f"{site}/feed.xml"])
    outcomes = {r.location.removeprefix(site): r.outcome for r in first.results}
    assert outcomes == {"/news/tram-strike": Outcome.ADDED, "/news/bus": Outcome.ADDED, "/news/gone": Outcome.FAILED}
    dates = {a.title: a.published for a in Indexer(settings).store.articles().values()}
    assert dates == {
        "Maasport tram drivers call strike": "2026-03-02",
        "Eastbrook bus drivers vote to strike": "2026-03-05",
    }
    REQUESTS.clear()
    again = Indexer(settings).index_paths([], feeds=[f"{site}/feed.xml"])
    assert [r.outcome for r in again.results].count(Outcome.ADDED) == 0
    assert "/news/tram-strike" not in REQUESTS and "/news/bus" not in REQUESTS  # indexed pages are not fetched again
    assert len(Indexer(settings).store.articles()) == 2


def test_an_atom_feed_is_read_and_a_document_that_is_no_feed_is_named(site: str) -> None:
    from index.web import FeedItem, fetch_feed

    assert fetch_feed(f"{site}/atom.xml", timeout_s=5, max_bytes=1_000_000) == [
        FeedItem(f"{site}/news/bus", "2026-03-05T07:00:00Z", "Bus strike", "2026-03-05T07:00:00Z")
    ]
    not_a_feed = fetch_feed(f"{site}/sitemap.xml", timeout_s=5, max_bytes=1_000_000)
    assert "is XML but not an RSS or Atom feed (its root is <urlset>)" in not_a_feed.reason
    page = fetch_feed(f"{site}/news/bus", timeout_s=5, max_bytes=1_000_000)
    assert "is text/html, not an RSS or Atom feed" in page.reason


def feed(site: str, path: str) -> list:
    from index.web import fetch_feed

    items = fetch_feed(site + path, timeout_s=5, max_bytes=1_000_000)
    assert isinstance(items, list), items
    return items


def test_an_rss_091_feed_in_latin_1_with_markup_in_its_title_and_no_dates_is_read(site: str) -> None:
    [item] = feed(site, "/rss091.xml")
    assert (item.link, item.title, item.published) == (f"{site}/news/tram-strike", "Grève des trams Maasport", "")


def test_an_rss_10_rdf_feed_gives_its_links_and_dublin_core_dates(site: str) -> None:
    [item] = feed(site, "/rss10.rdf")
    assert (item.link, item.published) == (f"{site}/news/bus", "2026-03-05T07:00:00Z")


def test_a_feed_whose_declared_encoding_is_wrong_is_still_read(site: str) -> None:
    [item] = feed(site, "/mislabelled.xml")
    assert item.title == "\u201cCaf\xe9\u201d drivers strike"
    assert item.published == "Thu, 05 Mar 2026 07:00:00 GMT"


def test_a_feed_that_expands_entities_is_read_without_expanding_them(site: str) -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [item] = feed(site, "/laughs.xml")
    assert item.link == f"{site}/news/bus"
    assert len(item.title) < 100  # "&lol9;" left as it is, not three billion characters
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: under 100 MB more


def test_a_feed_of_each_kind_indexes_the_page_it_links_to(settings: Settings, site: str) -> None:
    feeds = [f"{site}{path}" for path in ("/rss091.xml", "/rss10.rdf", "/mislabelled.xml", "/laughs.xml")]
    report = Indexer(settings).index_paths([], feeds=feeds)
    assert not [r for r in report.results if r.outcome is Outcome.FAILED], report.results
    titles = {a.title for a in Indexer(settings).store.articles().values()}
    assert titles == {"Maasport tram drivers call strike", "Eastbrook bus drivers vote to strike"}


def ferry_page(headline: str, body: str) -> str:
    return (
        f"<html><head><title>{headline}</title></head><body><article><h1>{headline}</h1>"
        f"<p>{body * 3}</p></article></body></html>"
    )


def updating_feed(updated: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title>'
        f'<entry><title>Ferry talks</title><link href="/news/ferry"/><published>2026-10-14T08:00:00Z</published>'
        f"<updated>{updated}</updated></entry></feed>"
    )


def test_a_story_updated_at_the_same_address_replaces_its_article_when_its_feed_says_so(
    settings: Settings, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    morning = ferry_page("Ferry talks resume", "Talks between Islink and the crews resumed on Wednesday. ")
    evening = ferry_page("UPDATE 1-Ferry strike ends with a deal", "Islink and the crews agreed a deal on Wednesday. ")
    monkeypatch.setitem(PAGES, "/news/ferry", (200, "text/html", morning))
    monkeypatch.setitem(PAGES, "/updating.xml", (200, "application/atom+xml", updating_feed("2026-10-14T08:00:00Z")))
    feed_url, page_url = f"{site}/updating.xml", f"{site}/news/ferry"

    def index() -> dict[str, Outcome]:
        REQUESTS.clear()
        report = Indexer(settings).index_paths([], feeds=[feed_url])
        return {r.location: r.outcome for r in report.results}

    assert index() == {page_url: Outcome.ADDED}
    # The page changes but its feed item does not say so: it is not fetched again.
    monkeypatch.setitem(PAGES, "/news/ferry", (200, "text/html", evening))
    assert index() == {page_url: Outcome.UNCHANGED} and "/news/ferry" not in REQUESTS
    # The feed says the item was updated: fetched again, and the new text replaces the old.
    monkeypatch.setitem(PAGES, "/updating.xml", (200, "application/atom+xml", updating_feed("2026-10-14T19:30:00Z")))
    assert index() == {page_url: Outcome.UPDATED} and "/news/ferry" in REQUESTS
    [article] = Indexer(settings).store.articles().values()
    assert (article.title, article.locations) == ("UPDATE 1-Ferry strike ends with a deal", (page_url,))
    # Read again unchanged: nothing fetched.
    assert index() == {page_url: Outcome.UNCHANGED} and "/news/ferry" not in REQUESTS


def test_an_address_is_read_as_a_page_or_a_feed_by_what_the_site_sends(settings: Settings, site: str) -> None:
    report = Indexer(settings).index_paths([f"{site}/news/tram-strike", f"{site}/atom.xml", f"{site}/sitemap.xml"])
    outcomes = {r.location.removeprefix(site): (r.outcome, r.reason) for r in report.results}
    assert outcomes["/news/tram-strike"][0] is Outcome.ADDED
    assert outcomes["/news/bus"][0] is Outcome.ADDED  # the Atom feed's one page
    assert outcomes["/sitemap.xml"][0] is Outcome.FAILED and "not an RSS or Atom feed" in outcomes["/sitemap.xml"][1]
    assert "/atom.xml" not in outcomes  # a feed read well is its pages' results, as with --feed


def test_citeqa_watch_reads_a_feed_every_interval_with_a_line_per_poll(settings: Settings, site: str) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    home = ["--home", str(settings.store.home)]
    REQUESTS.clear()
    result = CliRunner().invoke(main, [*home, "watch", f"{site}/feed.xml", "--every", "1s", "--polls", "2"])
    assert result.exit_code == 0, result.output
    polls = [line.split(" ", 1)[1] for line in result.stdout.splitlines() if " poll " in line]
    assert polls == [
        "poll 1: 2 new, 0 updated, 0 unchanged, 1 failed",
        "poll 2: 0 new, 0 updated, 2 unchanged, 1 failed",  # the indexed pages are not fetched again
    ]
    assert REQUESTS.count("/feed.xml") == 2 and REQUESTS.count("/news/tram-strike") == 1
    assert f"failed: {site}/news/gone: the site answered HTTP 404" in result.stderr
    assert "Stopped watching after 2 poll(s)." in result.stdout
    bad = CliRunner().invoke(main, [*home, "watch", f"{site}/feed.xml", "--every", "often"])
    assert bad.exit_code == 2 and "'often' is not a time" in bad.output


def test_citeqa_watch_stops_cleanly_on_ctrl_c(settings: Settings, site: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    command = [sys.executable, "-m", "ui.cli", "--home", str(settings.store.home), "watch", f"{site}/atom.xml"]
    watcher = subprocess.Popen(
        [*command, "--every", "1h"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        first = watcher.stdout.readline()  # the first poll's line, then an hour's wait
        assert " poll 1: 1 new" in first, first
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert "Stopped watching after 1 poll(s)." in out and "Traceback" not in err


def test_the_four_weeks_fixture_served_as_pages_and_a_feed_is_indexed_with_its_dates_and_outlets(
    settings: Settings,
) -> None:
    """The news fixture (evals/data/news-weeks) as a site would serve it: each article a page
    (the outlet in og:site_name where the fixture names one; no date in the page's metadata),
    all of them in one RSS feed (an item date where the fixture has one). Every article is read
    with the fixture's date and outlet, the two undated wire stories from their datelines."""
    import json
    from html import escape

    from evals.suite import NEWS_WEEKS_DATASET

    articles = [json.loads(line) for line in (NEWS_WEEKS_DATASET / "articles.jsonl").read_text("utf-8").splitlines()]
    pages: dict = {}
    items = []
    for article in articles:
        headline, _, body = article["text"].partition("\n\n")
        path = "/news/" + article["id"].removeprefix("weeks:")
        site_name = (
            f'<meta property="og:site_name" content="{escape(article["publisher"])}">'
            if article.get("publisher")
            else ""
        )
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
        pages[path] = (
            200,
            "text/html; charset=utf-8",
            f"<html><head><title>{escape(headline)}</title>{site_name}</head>"
            f"<body><article><h1>{escape(headline)}</h1>{paragraphs}</article></body></html>",
        )
        when = ""
        if article.get("published"):
            day = date.fromisoformat(article["published"])
            when = f"<pubDate>{day:%a, %d %b %Y} 09:00:00 GMT</pubDate>"
        items.append(f"<item><title>{escape(headline)}</title><link>{path}</link>{when}</item>")
    pages["/rss.xml"] = (
        200,
        "application/rss+xml",
        f'<rss version="2.0"><channel><title>News</title>{"".join(items)}</channel></rss>',
    )

    with serving_pages(pages) as site:
        report = Indexer(settings).index_paths([], feeds=[f"{site}/rss.xml"])
    assert report.failures == [] and report.count(Outcome.ADDED) == len(articles)
    stored = {a.url.removeprefix(site): a for a in Indexer(settings).store.articles().values()}
    expected = {"/news/" + a["id"].removeprefix("weeks:"): (a.get("published"), a.get("publisher")) for a in articles}
    read = {path: (a.published, a.publisher) for path, a in stored.items()}
    # Undated in the fixture: "LARKHAVEN, Oct. 5 (Northern Wire) -" and "©2026 Northern Wire".
    expected["/news/nw-ferry-strike-called"] = ("2026-10-05", "Northern Wire")
    expected["/news/nw-ferry-talks"] = ("2026-10-14", "Northern Wire")
    # No outlet in the fixture: the credit line names it.
    for path in ("/news/nw-ferry-deal",):
        expected[path] = (expected[path][0], "Northern Wire")
    for path in ("/news/lm-rates-hold", "/news/lm-rates-cut"):
        expected[path] = (expected[path][0], "Ledger Markets")
    assert read == expected
