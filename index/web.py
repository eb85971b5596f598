"""Articles fetched from the web: one page per URL, polite and bounded.

Each URL is fetched with the standard library (``urllib``) rather than trafilatura's own
downloader, because a reader needs to be told *why* a page was not indexed (no answer within the
time limit, over the size limit, refused by the site's robots.txt, an HTTP error), and
trafilatura's ``fetch_url`` answers every failure with ``None``. The page is then read like an
uploaded HTML file (``index.articles``): trafilatura finds the main text, the title, the site
and the date. robots.txt is read with ``urllib.robotparser`` (fetched here, under the same time
limit, since ``RobotFileParser.read`` has none): a 401 or 403 for robots.txt forbids the site,
any other error allows it, as the parser itself does.

Feeds are read with feedparser, the library that reads feeds as they are written rather than as
the specifications say: RSS 0.9x, 1.0 (RDF) and 2.0 and Atom, a declared encoding that is wrong,
markup in titles, items without a date. It is also safe on hostile XML: it strips the entity
declarations that expand (a "billion laughs" feed keeps its entities as text) and never fetches
external entities, and the feed's size is bounded here before it is parsed (``max_bytes``).
ElementTree, used before it, read RSS 2.0 and Atom only and expanded internal entities.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, replace
from html import unescape
from urllib.parse import urljoin, urlsplit

import feedparser

from index.articles import Article, LoadFailure, load_page
from index.dates import DateError, normalize_date

__all__ = ["FETCH_TIMEOUT_S", "USER_AGENT", "FeedItem", "fetch_address", "fetch_article", "fetch_feed", "is_url"]

USER_AGENT = "citeqa/0.1 (+https://github.com/citeqa)"
FETCH_TIMEOUT_S = 15.0
"""Longest wait for a site to answer (robots.txt, then the page): a slow site costs one URL, not the run."""


PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
_TAG = re.compile(r"<[^>]+>")


def is_url(value: str) -> bool:
    return urlsplit(str(value)).scheme in ("http", "https")


@dataclass(frozen=True)
class FeedItem:
    """One entry of an RSS or Atom feed: the page it links to, and its date as the feed gives it."""

    link: str
    published: str = ""
    title: str = ""
    """The item's title as plain text (feeds put markup and entities in titles)."""
    updated: str = ""
    """When the feed says the item last changed (Atom's ``<updated>``), as the feed gives it."""

    @property
    def stamp(self) -> str:
        """What changes when the feed says the page changed: its update time, else its date."""
        return self.updated or self.published


def fetch_article(url: str, *, timeout_s: float, max_bytes: int, published: str = "") -> Article | LoadFailure:
    """The article at ``url``, or a failure naming the URL and saying what to do. ``published``
    (a feed item's date) dates a page that does not date itself."""
    fetched = _fetch_bytes(
        url, timeout_s, max_bytes, PAGE_TYPES, "not a web page or text; only HTML and plain text are indexed"
    )
    if isinstance(fetched, LoadFailure):
        return fetched
    return _page(url, *fetched, published=published)


def fetch_feed(url: str, *, timeout_s: float, max_bytes: int) -> list[FeedItem] | LoadFailure:
    """The items of the RSS or Atom feed at ``url``, in the feed's order (items without a link to a
    web page are left out)."""
    fetched = _fetch_bytes(url, timeout_s, max_bytes, FEED_TYPES, "not an RSS or Atom feed")
    if isinstance(fetched, LoadFailure):
        return fetched
    return _feed_items(url, *fetched)


def fetch_address(url: str, *, timeout_s: float, max_bytes: int) -> Article | list[FeedItem] | LoadFailure:
    """What is at ``url``, a web page or a feed, told apart by the content type the site sends:
    a reader pasting addresses need not say which is which."""
    fetched = _fetch_bytes(
        url, timeout_s, max_bytes, PAGE_TYPES + FEED_TYPES, "neither a web page, text nor an RSS or Atom feed"
    )
    if isinstance(fetched, LoadFailure):
        return fetched
    body, kind, charset = fetched
    return _feed_items(url, body, kind, charset) if kind in FEED_TYPES else _page(url, body, kind, charset)


def _page(url: str, body: bytes, kind: str, charset: str, published: str = "") -> Article | LoadFailure:
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    parts = urlsplit(url)
    name = (parts.netloc + parts.path).rstrip("/")  # "example.com/news/tram-strike": readable, unique
    loaded = load_page(text, url, name, html=kind != "text/plain", published=_date_or_nothing(published))
    if isinstance(loaded, LoadFailure):
        return loaded
    return replace(loaded, url=loaded.url or url)


def _feed_items(url: str, body: bytes, kind: str, charset: str) -> list[FeedItem] | LoadFailure:
    headers = {"content-type": f"{kind}; charset={charset}" if charset else kind, "content-location": url}
    feed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    if not feed.version:
        if not feed.entries and feed.bozo:
            error = feed.get("bozo_exception")
            return LoadFailure(url, f"is not a readable RSS or Atom feed ({error}); check the address")
        root = re.search(r"<\s*([A-Za-z][\w:.-]*)", body[:2000].decode("utf-8", errors="replace"))
        return LoadFailure(url, f"is XML but not an RSS or Atom feed (its root is <{root.group(1) if root else '?'}>)")
    items = []
    for entry in feed.entries:
        link = urljoin(url, (entry.get("link") or "").strip())
        when = entry.get("published") or entry.get("updated") or entry.get("created") or ""
        title = " ".join(unescape(_TAG.sub(" ", entry.get("title") or "")).split())
        # dict.get: feedparser's own get() answers "updated" with the date when there is none.
        items.append(FeedItem(link, when.strip(), title, (dict.get(entry, "updated") or "").strip()))
    return [item for item in items if is_url(item.link)]


def _fetch_bytes(
    url: str, timeout_s: float, max_bytes: int, kinds: tuple[str, ...], wrong_kind: str
) -> tuple[bytes, str, str] | LoadFailure:
    """(body, content type, declared charset or "") of ``url``, or why not."""
    if not _robots_allow(url, timeout_s):
        return LoadFailure(url, "the site's robots.txt does not allow fetching this page; save it by hand if you may")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": ", ".join(kinds)})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                return _too_large(url, max_bytes)
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                return _too_large(url, max_bytes)
            kind = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or ""
    except urllib.error.HTTPError as error:
        return LoadFailure(url, f"the site answered HTTP {error.code} ({error.reason}); check the address")
    except TimeoutError:
        return LoadFailure(url, f"no answer within {timeout_s:g} s; try again later")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            return LoadFailure(url, f"no answer within {timeout_s:g} s; try again later")
        return LoadFailure(url, f"could not be fetched ({reason}); check the address and the network")
    if kind not in kinds:
        return LoadFailure(url, f"is {kind}, {wrong_kind}")
    return body, kind, charset


def _date_or_nothing(raw: str) -> str:
    try:
        return normalize_date(raw)
    except DateError:
        return ""


def _too_large(url: str, max_bytes: int) -> LoadFailure:
    return LoadFailure(
        url,
        f"page is over the size limit of {max_bytes / 1_048_576:g} MB; raise --max-file-mb / CITEQA_MAX_FILE_MB if it is an article",
    )


def _robots_allow(url: str, timeout_s: float) -> bool:
    parts = urlsplit(url)
    robots_url = urljoin(f"{parts.scheme}://{parts.netloc}", "/robots.txt")
    parser = urllib.robotparser.RobotFileParser(robots_url)
    request = urllib.request.Request(robots_url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            parser.parse(response.read(512_000).decode("utf-8", errors="replace").splitlines())
    except urllib.error.HTTPError as error:
        return error.code not in (401, 403)
    except (urllib.error.URLError, OSError):
        return True  # no robots.txt to read: the page itself will say whether it can be fetched
    return parser.can_fetch(USER_AGENT, url)
