"""The ``citeqa`` command: a thin layer over the library."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from datetime import datetime
from pathlib import Path

import click

from index.errors import CiteqaError
from index.settings import Settings, SettingsError

STARTUP_CHECK_S = 10.0  # how long `serve` waits at start for the LLM to say a word before warning


class _Commands(click.Group):
    """Every command's errors are caught here, once: citeqa's own (``CiteqaError``) are shown as
    their message and exit 1, never as a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CiteqaError as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data folder for the index [env CITEQA_HOME; default ./.citeqa].",
)
@click.option(
    "--chroma-url", help="Use a Chroma server (http://host:port) instead of the data folder [env CITEQA_CHROMA_URL]."
)
@click.option("--collection", help="Name of the collection to use [env CITEQA_COLLECTION; default 'articles'].")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for large shared files such as the joined model [env CITEQA_CACHE; default ~/.cache/citeqa].",
)
@click.pass_context
def main(
    ctx: click.Context, home: Path | None, chroma_url: str | None, collection: str | None, cache: Path | None
) -> None:
    """citeqa: answers about your news articles, every claim cited to its passage."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise click.UsageError(str(error)) from error
    store = {"home": home, "chroma_url": chroma_url, "collection": collection}
    settings = settings.with_store(**{k: v for k, v in store.items() if v is not None})
    ctx.obj = settings.with_llm(cache=cache) if cache is not None else settings


def _parts(settings: Settings):
    """This process's parts (store, indexer, retriever, model, answerer), built once: ``qa.parts``."""
    from qa.parts import parts_for

    return parts_for(settings, progress=True)


@main.command("index")
@click.argument("paths", nargs=-1)
@click.option("--feed", "feeds", multiple=True, help="An RSS or Atom feed: index the pages it links to (repeatable).")
@click.option("--prune", is_flag=True, help="Also remove articles whose files under PATHS are gone.")
@click.option("--max-file-mb", type=float, help="Skip files larger than this [env CITEQA_MAX_FILE_MB; default 20].")
@click.option("--json", "as_json", is_flag=True, help="Print per-article results as JSON.")
@click.pass_obj
def index_command(
    settings: Settings,
    paths: tuple[str, ...],
    feeds: tuple[str, ...],
    prune: bool,
    max_file_mb: float | None,
    as_json: bool,
) -> None:
    """Index articles from files and folders (.txt .md .html .json .jsonl) and web pages (http(s)://
    addresses: fetched within 15 s, robots.txt respected, read like an HTML file), and with --feed the
    pages an RSS or Atom feed links to (a feed read again adds only its new items)."""
    from index.pipeline import Outcome
    from index.web import is_url

    if not paths and not feeds:
        raise click.UsageError("Give files, folders or web addresses to index, or --feed URL.")
    paths = tuple(p if is_url(p) else Path(p) for p in paths)  # type: ignore[misc]

    if max_file_mb is not None:
        settings = settings.with_store(max_file_mb=max_file_mb)
    report = _parts(settings).indexer.index_paths(paths, prune=prune, progress=not as_json, feeds=feeds)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in report.results], indent=2, default=str))
    else:
        if report.repaired:
            click.echo(f"Repaired {report.repaired} article(s) left half-written by an interrupted run.", err=True)
        for failure in report.failures:
            click.echo(f"failed: {failure.location}: {failure.reason}", err=True)
        for pruned in (r for r in report.results if r.outcome is Outcome.PRUNED):
            click.echo(f"pruned: {pruned.article_id} ({pruned.location})", err=True)
        click.echo(report.summary())
    if report.failures:
        sys.exit(1)


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr)?\s*", re.IGNORECASE)


def _seconds(value: str) -> float:
    """ "30s", "15m", "1h" (a bare number is minutes) as seconds; a ``click.BadParameter`` otherwise."""
    match = _DURATION.fullmatch(value or "")
    if not match or float(match.group(1)) <= 0:
        raise click.BadParameter(f"{value!r} is not a time: use seconds, minutes or hours, such as 30s, 15m or 1h")
    unit = (match.group(2) or "m").lower()[0]
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[unit]


@main.command("watch")
@click.argument("feeds", nargs=-1, required=True)
@click.option("--every", default="15m", show_default=True, help="How often to read the feeds: 30s, 15m, 1h.")
@click.option("--polls", type=click.IntRange(min=1), help="Stop after this many polls [default: run until Ctrl-C].")
@click.pass_obj
def watch_command(settings: Settings, feeds: tuple[str, ...], every: str, polls: int | None) -> None:
    """Keep RSS or Atom FEEDS fresh: read them now and every --every, indexing the pages that are
    new and those the feed says were updated (the rest are not fetched). One line per poll; Ctrl-C
    stops after the poll under way (twice: at once)."""
    import signal
    import time

    from index.pipeline import Outcome

    interval = _seconds(every)
    indexer = _parts(settings).indexer
    stopping = False

    def stop(_signal: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            raise KeyboardInterrupt
        stopping = True
        click.echo("Stopping after this poll (Ctrl-C again to stop at once)…", err=True)

    previous = signal.signal(signal.SIGINT, stop)
    done = 0
    try:
        click.echo(f"Watching {len(feeds)} feed(s) every {every.strip()}; Ctrl-C stops.", err=True)
        while not stopping:
            report = indexer.index_paths([], feeds=feeds, progress=False)
            done += 1
            counts = ", ".join(
                f"{report.count(outcome)} {word}"
                for outcome, word in (
                    (Outcome.ADDED, "new"),
                    (Outcome.UPDATED, "updated"),
                    (Outcome.UNCHANGED, "unchanged"),
                    (Outcome.FAILED, "failed"),
                )
            )
            click.echo(f"{datetime.now():%H:%M:%S} poll {done}: {counts}")
            for failure in report.failures:
                click.echo(f"  failed: {failure.location}: {failure.reason}", err=True)
            if polls is not None and done >= polls:
                break
            waited_until = time.monotonic() + interval
            while not stopping and time.monotonic() < waited_until:
                time.sleep(min(0.2, max(0.0, waited_until - time.monotonic())))
    except KeyboardInterrupt:
        click.echo("Stopped at once; the next indexing run finishes anything left half-written.", err=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    click.echo(f"Stopped watching after {done} poll(s).")


@main.command("delete")
@click.argument("article_ids", nargs=-1, required=True)
@click.pass_obj
def delete_command(settings: Settings, article_ids: tuple[str, ...]) -> None:
    """Remove articles from the index by id (see `citeqa articles`)."""
    from index.pipeline import Outcome

    results = _parts(settings).indexer.delete(article_ids)
    for result in results:
        if result.outcome is Outcome.FAILED:
            click.echo(f"not found: {result.location}: {result.reason}", err=True)
        else:
            click.echo(f"deleted: {result.article_id}")
    if any(r.outcome is Outcome.FAILED for r in results):
        sys.exit(1)


@main.command("articles")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def articles_command(settings: Settings, as_json: bool) -> None:
    """List the indexed articles."""
    from ui.render import reader_meta

    store = _parts(settings).store
    articles = sorted(store.articles().values(), key=lambda a: a.id)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(a) for a in articles], indent=2))
        return
    if not articles:
        click.echo("The index is empty. Add articles with `citeqa index PATH...`.")
        return
    for article in articles:
        meta = reader_meta(article.publisher, article.published)
        click.echo(
            f"{article.id}  [{article.chunk_count} chunks]  {article.title[:80]}" + (f"  ({meta})" if meta else "")
        )
    click.echo(f"{len(articles)} articles, {store.chunk_count()} chunks")


def _filter_options(function):
    """--publisher, --article, --since and --until: the same narrowing for `search` and `ask`."""
    for option in reversed(
        (
            click.option(
                "--publisher",
                "--source",
                "publishers",
                multiple=True,
                help="Only this publisher (repeatable; --source is its old name).",
            ),
            click.option("--article", "article_ids", multiple=True, help="Only this article id (repeatable)."),
            click.option("--since", "published_from", help="Published on or after (YYYY, YYYY-MM or YYYY-MM-DD)."),
            click.option("--until", "published_to", help="Published on or before (YYYY, YYYY-MM or YYYY-MM-DD)."),
        )
    ):
        function = option(function)
    return function


def _as_of_option(help_text: str):
    """``--as-of YYYY-MM-DD``, the day a question is asked (a ``datetime``, or None for today)."""
    return click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help=help_text)


@main.command("search")
@click.argument("query")
@click.option("-k", "--top", "k", default=5, show_default=True, help="How many passages.")
@_filter_options
@_as_of_option(
    "Search as on this day (YYYY-MM-DD; default today): 'last week' in QUERY is read from it, later articles are left out."
)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True)
@click.option(
    "--by-story/--every-copy",
    default=True,
    show_default=True,
    help="One passage per story (a syndicated copy or an earlier version gives its place to the newest, "
    "which names the other outlets), or every copy in its own place.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the passages as JSON.")
@click.pass_obj
def search_command(
    settings: Settings,
    query: str,
    k: int,
    publishers: tuple[str, ...],
    article_ids: tuple[str, ...],
    published_from: str | None,
    published_to: str | None,
    as_of: datetime | None,
    mode: str,
    by_story: bool,
    as_json: bool,
) -> None:
    """Find the passages that best match QUERY (no LLM involved). Time in QUERY ("last week",
    "on Friday", "the latest") narrows the search as it does for `ask`; copies of one story
    take one place."""
    from qa.question_time import search_in_time
    from qa.retriever import Filters
    from ui.render import reader_meta

    filters = Filters(publishers, article_ids, published_from, published_to)
    retriever = _parts(settings).retriever
    day = as_of.date() if as_of else None
    passages, when = search_in_time(retriever, query, k, filters, day, mode, by_story)  # type: ignore[arg-type]
    if when.window is not None:
        click.secho(f"Searched articles published {when.describe()}.", err=True, dim=True)
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in passages], indent=2, ensure_ascii=False))
        return
    if not passages:
        click.echo("No passage matches (check the filters).")
    for p in passages:
        meta = reader_meta(p.publisher, p.published)
        click.secho(f"[{p.rank}] {p.title}" + (f" ({meta})" if meta else ""), bold=True)
        click.echo(
            f"    {p.article_id}, characters {p.start}-{p.end}; "
            f"match {max(0.0, p.fused_score):.2f} (0 unrelated, 1 the best a passage can score)"
        )
        click.echo("    " + " ".join(p.text.split())[:400])
        if p.copies:
            click.echo(f"    also: {', '.join(p.copies)}")


def _llm_options(function):
    function = click.option("--model", help="Model name at the endpoint [env CITEQA_MODEL].")(function)
    return click.option(
        "--base-url", help="OpenAI-compatible endpoint [env OPENAI_BASE_URL; default: the embedded model]."
    )(function)


def _with_llm(settings: Settings, model: str | None, base_url: str | None) -> Settings:
    overrides = {"chat_model": model, "base_url": base_url}
    return settings.with_llm(**{k: v for k, v in overrides.items() if v is not None})


@main.command("ask")
@click.argument("question")
@_filter_options
@_as_of_option(
    "Ask as on this day (YYYY-MM-DD; default today): 'last week' is read from it, later articles are not used."
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@_llm_options
@click.pass_obj
def ask_command(
    settings: Settings,
    question: str,
    publishers: tuple[str, ...],
    article_ids: tuple[str, ...],
    published_from: str | None,
    published_to: str | None,
    as_of: datetime | None,
    as_json: bool,
    model: str | None,
    base_url: str | None,
) -> None:
    """Answer QUESTION from the indexed articles, citing the passages."""
    from qa.answers import Done, Status
    from qa.retriever import Filters

    filters = Filters(publishers, article_ids, published_from, published_to)
    answerer = _parts(_with_llm(settings, model, base_url)).answerer
    answer = None
    for event in answerer.stream(question, filters=filters, as_of=as_of.date() if as_of else None):
        if isinstance(event, Status) and not as_json:
            click.secho(event.text, err=True, dim=True)  # progress on stderr; only the checked answer on stdout
        elif isinstance(event, Done):
            answer = event.answer
    assert answer is not None
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    _print_answer(answer)


def _print_answer(answer) -> None:
    from ui.render import reader_meta

    if answer.time_scope:
        click.echo(f"Searched articles published {answer.time_scope}.")
    if answer.abstained:
        click.secho(f"{answer.text} ({answer.reason})", bold=True)
        if answer.passages:
            click.echo("Closest passages:")
            for p in answer.passages[:3]:
                click.echo(f"  - {p.title[:70]} ({p.article_id}): " + " ".join(p.text.split())[:160])
        return
    click.secho(answer.text, bold=True)
    if answer.disagreement:
        sides = "; ".join(f"{d.publisher or 'another report'}: {d.words} [{d.number}]" for d in answer.disagreement)
        click.secho(f"The sources disagree: {sides}", fg="yellow")
    unverified = [s for s in answer.sentences if s.state != "verified"]
    for sentence in unverified:
        click.echo(f"  note: citation {sentence.state} for: {sentence.text}")
    for dropped in answer.dropped:
        click.echo(f"  removed (no source supports it): {dropped}")
    click.echo("Sources:")
    for c in answer.citations:
        meta = reader_meta(c.publisher, c.published)
        click.echo(f"  [{c.number}] {c.title[:70]}" + (f" ({meta})" if meta else ""))
        if c.passage.copies:
            click.echo(f"      also: {', '.join(c.passage.copies)}")
        click.echo(f'      {c.article_id} chars {c.start}-{c.end}: "{" ".join(c.quote.split())}"')
    click.echo(
        f"({answer.timings.get('first_token_s', 0):.1f} s to first token, {answer.timings.get('total_s', 0):.1f} s in all)"
    )


@main.command("doctor")
@_llm_options
@click.pass_obj
def doctor_command(settings: Settings, model: str | None, base_url: str | None) -> None:
    """Say which LLM, embedding model and index are in use, and whether they work."""
    from index.embeddings import MODEL_NAME, shared_embedder

    settings = _with_llm(settings, model, base_url)
    healthy = True
    try:
        shared_embedder().embed(["check"])
        click.echo(f"embeddings: {MODEL_NAME}: ok")
    except CiteqaError as error:
        healthy = False
        click.echo(f"embeddings: {MODEL_NAME}: FAILED: {error}")
    where = settings.store.chroma_url or str(Path(settings.store.home) / "chroma")
    try:
        store = _parts(settings).store
        click.echo(
            f"index: {where} (collection {settings.store.collection!r}): {store.article_count()} articles, {store.chunk_count()} chunks"
        )
    except CiteqaError as error:
        healthy = False
        click.echo(f"index: {where}: FAILED: {error}")
    llm = _parts(settings).llm
    click.echo(f"llm: {llm.describe()} ...", nl=False)
    ok, detail, seconds = llm.check()
    healthy &= ok
    click.echo(f" {'ok' if ok else 'FAILED'} ({detail}; {seconds:.1f} s)")
    if ok:
        from qa.endpoint import abstention_rule

        found = llm.yes_probability([{"role": "user", "content": "Is water wet? Answer Yes or No."}])
        click.echo(f"abstention: {abstention_rule(found)}")
    if not healthy:
        sys.exit(1)


@main.command("mcp")
@_llm_options
@click.pass_obj
def mcp_command(settings: Settings, model: str | None, base_url: str | None) -> None:
    """Serve citeqa to an AI agent over MCP (stdio): the tools search, ask and get_article.

    An MCP host starts it itself; for example, in its configuration:
    {"mcpServers": {"citeqa": {"command": "citeqa", "args": ["--home", "/path/to/.citeqa", "mcp"]}}}
    """
    from ui.mcp_server import serve_stdio

    serve_stdio(_with_llm(settings, model, base_url))


@main.group("model")
def model_group() -> None:
    """The embedded model server, shared by every citeqa process on this machine."""


@model_group.command("status")
@click.pass_obj
def model_status_command(settings: Settings) -> None:
    """Say whether the shared embedded model server is running, and where."""
    from qa.model_server import read_state, server_folder

    running = read_state(server_folder(settings.llm.cache))
    if running is None:
        click.echo("The embedded model is not running; the first command that needs it starts it.")
        return
    click.echo(f"The embedded model {running.model} is running at {running.base_url} (pid {running.pid}).")


@model_group.command("stop")
@click.pass_obj
def model_stop_command(settings: Settings) -> None:
    """Stop the shared embedded model server now (it also stops by itself when unused)."""
    from qa.model_server import stop

    stopped = stop(settings.llm.cache)
    if stopped is None:
        click.echo("The embedded model was not running.")
    else:
        click.echo(f"Stopped the embedded model (pid {stopped.pid}).")


@main.command("eval")
@click.argument("dataset", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--limit", type=int, help="Ask N questions (a fixed sample, half unanswerable where possible).")
@click.option("--retrieval-only", is_flag=True, help="Measure retrieval only (no LLM).")
@_as_of_option("Ask the questions that carry no `as_of` of their own as on this day (YYYY-MM-DD; default today).")
@click.option(
    "--titles",
    help="Only questions on articles with these titles, comma-separated (e.g. 'Warsaw,Force'): tune on some, report on others.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder [default evals/runs/NAME].")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming the run folder.")
@click.option(
    "--compare",
    "compare_to",
    type=click.Path(file_okay=False, path_type=Path),
    help="An earlier run folder to compare with.",
)
@click.option(
    "--fail-under",
    multiple=True,
    metavar="METRIC=VALUE",
    help="A floor: exit 1 when METRIC (e.g. answer_contains_gold, abstention_recall) is under VALUE, or has no value in the run.",
)
@click.option(
    "--fail-over",
    multiple=True,
    metavar="METRIC=VALUE",
    help="A ceiling: exit 1 when METRIC (e.g. false_abstention, answered_but_wrong, ttft_p50) is over VALUE, or has no value in the run.",
)
@_llm_options
@click.pass_obj
def eval_command(
    settings: Settings,
    dataset: Path | None,
    limit: int | None,
    retrieval_only: bool,
    as_of: datetime | None,
    titles: str | None,
    out: Path | None,
    fresh: bool,
    compare_to: Path | None,
    fail_under: tuple[str, ...],
    fail_over: tuple[str, ...],
    model: str | None,
    base_url: str | None,
) -> None:
    """Run known Q&A pairs (the seed set by default, or a folder with articles.jsonl and
    questions.jsonl, such as the SQuAD 2.0 sample) and report answer, citation, abstention,
    retrieval and latency metrics. Interrupted runs resume where they stopped."""
    import shutil

    from evals.gate import Threshold, failures
    from evals.metrics import rates, summarize
    from evals.report import before_after, compare, reasons_table, table, write_report
    from evals.runner import load_rows
    from evals.suite import SEED_DATASET, run_suite

    try:
        rules = [Threshold.parse(r) for r in fail_under] + [Threshold.parse(r, ceiling=True) for r in fail_over]
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    settings = _with_llm(settings, model, base_url)
    dataset = dataset or SEED_DATASET
    wanted = tuple(t.strip() for t in (titles or "").split(",") if t.strip())
    name = (
        dataset.name
        + ("-" + "-".join(t.replace(" ", "_") for t in wanted) if wanted else "")
        + (f"-n{limit}" if limit else "")
        + ("-retrieval" if retrieval_only else "")
    )
    out = out or Path("evals") / "runs" / name
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    result = run_suite(
        dataset,
        settings,
        out,
        limit=limit,
        retrieval_only=retrieval_only,
        titles=wanted,
        as_of=as_of.date() if as_of else None,
    )
    click.echo(f"{result.dataset.name}: {len(result.rows)} questions, results in {out}/results.jsonl")
    scored = [r for r in result.rows if "scores" in r]
    intervals = rates(scored) if scored else {}
    click.echo(table(result.summary, intervals))
    if scored:
        click.echo("\n".join(reasons_table(scored)))
    earlier = load_rows(compare_to) if compare_to else None
    baseline = summarize([r for r in earlier if "scores" in r]) if earlier else None
    if not retrieval_only:
        report = write_report(
            result.rows,
            result.summary,
            result.dataset.name,
            result.dataset.folder,
            out,
            baseline=baseline,
            intervals=intervals,
        )
        click.echo(f"report: {report}")
    if earlier is not None:
        if baseline is not None:
            click.echo("\n".join(before_after(baseline, result.summary)))
        click.echo(compare(earlier, result.rows))
    try:
        broken = failures(result.summary, rules)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    for failure in broken:
        click.echo(f"FAILED threshold: {failure}", err=True)
    if broken:
        sys.exit(1)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (only this one).")
@click.option("--port", default=7860, show_default=True, type=int)
@click.option(
    "--seeds",
    type=click.Path(path_type=Path),
    default=Path("seeds"),
    show_default=True,
    help="Articles to index first when the index is empty.",
)
@_llm_options
@click.pass_obj
def serve_command(
    settings: Settings, host: str, port: int, seeds: Path, model: str | None, base_url: str | None
) -> None:
    """Open the web chat (indexing SEEDS first if the index is empty).

    Set CITEQA_AUTH="user:password" (several pairs separated by commas) to require a login.
    """
    from qa.llm import LLMError
    from ui.app import ChatApp, build_app
    from ui.render import CSS, HEAD

    settings = _with_llm(settings, model, base_url)
    parts = _parts(settings)
    indexer = parts.indexer
    if indexer.store.article_count() == 0 and seeds.exists():
        click.echo(f"The index is empty: indexing {seeds} first.", err=True)
        click.echo(indexer.index_paths([seeds], progress=True).summary(), err=True)
    llm = parts.llm
    click.echo(f"Starting the LLM: {llm.describe()}", err=True)
    try:
        llm.start()  # joins and starts the embedded model now, with progress, rather than on the first question
        answers, detail, _seconds = llm.check(within_s=min(STARTUP_CHECK_S, settings.llm.timeout_s))
        if not answers:
            raise LLMError(detail)
    except LLMError as error:
        click.echo(f"warning: the LLM does not answer: {error}; the chat will say so until it is fixed", err=True)
    app = build_app(ChatApp(parts.answerer, indexer))
    app.queue(default_concurrency_limit=1, max_size=64)
    click.echo(f"citeqa is ready on http://{host}:{port}", err=True)
    app.launch(
        server_name=host,
        server_port=port,
        auth=list(settings.web.auth) or None,
        css=CSS,
        head=HEAD,
        max_file_size=settings.store.max_file_bytes,
        show_error=True,
        quiet=True,
    )


if __name__ == "__main__":
    main()
