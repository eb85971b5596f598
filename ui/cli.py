"""The ``citeqa`` command: a thin layer over the library."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from index.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data folder for the index [env CITEQA_HOME; default ./.citeqa].",
)
@click.option(
    "--chroma-url", help="Use a Chroma server (http://host:port) instead of the data folder [env CITEQA_CHROMA_URL]."
)
@click.option("--collection", help="Name of the collection to use [env CITEQA_COLLECTION; default 'articles'].")
@click.pass_context
def main(ctx: click.Context, home: Path | None, chroma_url: str | None, collection: str | None) -> None:
    """citeqa: answers about your news articles, every claim cited to its passage."""
    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    overrides = {"home": home, "chroma_url": chroma_url, "collection": collection}
    ctx.obj = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _indexer(settings: Settings):
    from index.pipeline import Indexer
    from index.store import StoreUnavailable

    try:
        return Indexer(settings)
    except StoreUnavailable as error:
        raise click.ClickException(str(error)) from error


@main.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Also remove articles whose files under PATHS are gone.")
@click.option("--max-file-mb", type=float, help="Skip files larger than this [env CITEQA_MAX_FILE_MB; default 20].")
@click.option("--json", "as_json", is_flag=True, help="Print per-article results as JSON.")
@click.pass_obj
def index_command(
    settings: Settings, paths: tuple[Path, ...], prune: bool, max_file_mb: float | None, as_json: bool
) -> None:
    """Index articles from files and folders (.txt .md .html .json .jsonl)."""
    from index.pipeline import Outcome

    if max_file_mb is not None:
        settings = dataclasses.replace(settings, max_file_mb=max_file_mb)
    report = _indexer(settings).index_paths(paths, prune=prune, progress=not as_json)
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


@main.command("delete")
@click.argument("article_ids", nargs=-1, required=True)
@click.pass_obj
def delete_command(settings: Settings, article_ids: tuple[str, ...]) -> None:
    """Remove articles from the index by id (see `citeqa articles`)."""
    from index.pipeline import Outcome

    results = _indexer(settings).delete(article_ids)
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
    store = _indexer(settings).store
    articles = sorted(store.articles().values(), key=lambda a: a.id)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(a) for a in articles], indent=2))
        return
    if not articles:
        click.echo("The index is empty. Add articles with `citeqa index PATH...`.")
        return
    for article in articles:
        meta = ", ".join(part for part in (article.source, article.published) if part)
        click.echo(
            f"{article.id}  [{article.chunk_count} chunks]  {article.title[:80]}" + (f"  ({meta})" if meta else "")
        )
    click.echo(f"{len(articles)} articles, {store.chunk_count()} chunks")


def _retriever(settings: Settings):
    from index.store import StoreUnavailable
    from qa.retriever import Retriever

    try:
        return Retriever(settings)
    except StoreUnavailable as error:
        raise click.ClickException(str(error)) from error


@main.command("search")
@click.argument("query")
@click.option("-k", "--top", "k", default=5, show_default=True, help="How many passages.")
@click.option("--source", "sources", multiple=True, help="Only this publisher (repeatable).")
@click.option("--article", "article_ids", multiple=True, help="Only this article id (repeatable).")
@click.option("--since", "published_from", help="Published on or after (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--until", "published_to", help="Published on or before (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the passages as JSON.")
@click.pass_obj
def search_command(
    settings: Settings,
    query: str,
    k: int,
    sources: tuple[str, ...],
    article_ids: tuple[str, ...],
    published_from: str | None,
    published_to: str | None,
    mode: str,
    as_json: bool,
) -> None:
    """Find the passages that best match QUERY (no LLM involved)."""
    from qa.passages import RetrievalError
    from qa.retriever import Filters

    filters = Filters(sources, article_ids, published_from, published_to)
    try:
        passages = _retriever(settings).search(query, k=k, filters=filters, mode=mode)  # type: ignore[arg-type]
    except RetrievalError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in passages], indent=2, ensure_ascii=False))
        return
    if not passages:
        click.echo("No passage matches (check the filters).")
    for p in passages:
        meta = ", ".join(part for part in (p.source, p.published) if part)
        click.secho(f"[{p.rank}] {p.title}" + (f" ({meta})" if meta else ""), bold=True)
        click.echo(f"    {p.article_id} chars {p.start}-{p.end}, score {p.fused_score:.3f}")
        click.echo("    " + " ".join(p.text.split())[:400])


if __name__ == "__main__":
    main()
