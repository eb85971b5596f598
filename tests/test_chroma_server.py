"""The same indexing code against a real `chroma run` server through HttpClient, and several
clients on separate machines (separate data folders, which share no lock) writing to it at once."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import chromadb
import numpy as np
import pytest

from index.articles import Article, load_file
from index.chunking import Chunk
from index.lexical import LexicalCache, cache_folder
from index.pipeline import Indexer, Outcome
from index.settings import Settings
from index.store import Store

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    executable = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    process = subprocess.Popen(
        [executable, "run", "--path", str(tmp_path / "server-db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_indexing_into_a_chroma_server(settings: Settings, corpus: Path, chroma_server: str) -> None:
    remote = settings.with_store(chroma_url=chroma_server)
    report = Indexer(remote).index_paths([corpus])
    assert report.count(Outcome.ADDED) == 4
    again = Indexer(remote).index_paths([corpus])
    assert again.count(Outcome.UNCHANGED) == 4
    assert Store(remote).article_count() == 4
    port = int(chroma_server.rsplit(":", 1)[1])
    direct = chromadb.HttpClient(host="127.0.0.1", port=port)
    assert direct.get_collection("articles-articles").count() == 4
    # The embedded data folder was not used for the articles themselves.
    assert not (settings.store.home / "chroma").exists()


def test_stories_are_grouped_on_a_chroma_server_and_seen_alike_by_another_machine(
    settings: Settings, tmp_path: Path, chroma_server: str
) -> None:
    """A copy indexed on one machine joins its original on another's lexical index, and a
    deletion on the first leaves the other's story to the copies that remain."""
    fixture = ROOT / "evals" / "data" / "news-weeks" / "articles.jsonl"
    rows = {json.loads(line)["id"]: line for line in fixture.read_text().splitlines()}
    copies = ["weeks:nw-ferry-strike-called", "weeks:hp-ferry-strike-called", "weeks:cd-ferry-strike-called"]
    (tmp_path / "first.jsonl").write_text(rows[copies[0]] + "\n" + rows["weeks:hp-museum-theft"] + "\n")
    (tmp_path / "later.jsonl").write_text(rows[copies[1]] + "\n" + rows[copies[2]] + "\n")
    writer = Indexer(settings.with_store(chroma_url=chroma_server))
    writer.index_paths([tmp_path / "first.jsonl"])
    writer.index_paths([tmp_path / "later.jsonl"])
    reader = Store(Settings.from_env().with_store(home=tmp_path / "other-machine", chroma_url=chroma_server))
    other = LexicalCache(reader, cache_folder(reader))
    other.sync()
    hashes = {a.id: a.content_hash for a in load_file(fixture, 1 << 30) if isinstance(a, Article)}
    stories = other.index.stories([hashes[i] for i in [*copies, "weeks:hp-museum-theft"]])
    assert len({stories[hashes[i]] for i in copies}) == 1
    assert stories[hashes["weeks:hp-museum-theft"]] != stories[hashes[copies[0]]]
    assert stories == writer.lexical.index.stories(list(stories))
    writer.delete([copies[0]])
    other.sync()
    after = other.index.stories([hashes[i] for i in copies])
    assert hashes[copies[0]] not in after
    assert len(set(after.values())) == 1 and len(after) == 2


# Writes (and deletes) articles with made-up vectors through the store, from a data folder of its
# own: a client on another machine, which no folder lock here sees.
_CLIENT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from index.articles import Article
    from index.chunking import Chunk
    from index.lexical import LexicalCache, cache_folder
    from index.settings import Settings
    from index.store import NewArticle, Store

    home, url, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = Store(Settings.from_env().with_store(home=home, chroma_url=url))
    lexical = LexicalCache(store, cache_folder(store))
    rng = np.random.default_rng(abs(hash(tag)) % 2**32)
    hashes = []
    for n in range(count):
        text = f"Report {tag}{n}zq. " + " ".join(f"Line {s} of {tag}{n}zq." for s in range(8))
        article = Article(id=f"{tag}-{n}", text=text, title=f"{tag} {n}", location=f"{tag}/{n}")
        half = len(text) // 2
        chunks = [Chunk(article.content_hash, i, text[i * half : (i + 1) * half], i * half, (i + 1) * half)
                  for i in range(2)]
        vectors = rng.standard_normal((2, 384), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.add_articles([NewArticle(article, chunks, vectors, [article.location])])
        hashes.append(article.content_hash)
        if n % 3 == 2:
            store.delete_article(hashes[n - 1])  # deletions while the other clients sync
        lexical.sync()
    """
)


def test_clients_on_separate_machines_lose_nothing_and_each_lexical_index_equals_the_server(
    tmp_path: Path, chroma_server: str
) -> None:
    homes = [tmp_path / f"machine-{n}" for n in range(3)]
    clients = [
        subprocess.Popen(
            [sys.executable, "-c", _CLIENT, str(home), chroma_server, f"w{n}", "15"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, home in enumerate(homes)
    ]
    for client in clients:
        _out, err = client.communicate(timeout=300)
        assert client.returncode == 0, err
    server = Store(Settings.from_env().with_store(home=tmp_path / "reader", chroma_url=chroma_server))
    stored = {chunk.id for chunk in server.all_chunks()}
    assert len(server.committed_hashes()) == 3 * 10  # 15 written by each, 5 of them deleted
    assert len(stored) == 3 * 10 * 2
    for home in homes:
        store = Store(Settings.from_env().with_store(home=home, chroma_url=chroma_server))
        lexical = LexicalCache(store, cache_folder(store))
        lexical.sync()  # catches up with the others' last writes, and only with those
        assert lexical.index.chunk_ids() == stored


def test_repair_spares_another_machines_run_in_flight_and_removes_a_crashed_ones_debris(
    tmp_path: Path, chroma_server: str
) -> None:
    def store_on(machine: str) -> Store:
        return Store(Settings.from_env().with_store(home=tmp_path / machine, chroma_url=chroma_server))

    writing, crashed, indexing = store_on("writing"), store_on("crashed"), store_on("indexing")
    in_flight, in_flight_chunks, in_flight_vectors = _article("in-flight")
    writing.add_chunks([(in_flight, in_flight_chunks, in_flight_vectors)])  # its run has not committed yet
    debris, debris_chunks, debris_vectors = _article("debris")
    crashed.add_chunks([(debris, debris_chunks, debris_vectors)])  # and this run died here
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("Harbour note\n\nThe harbour of Velden reopened on Monday.\n")
    report = Indexer(indexing.settings, indexing).index_paths([corpus])  # repairs at its start
    assert report.count(Outcome.ADDED) == 1 and report.repaired == 0
    writing.commit([(in_flight, len(in_flight_chunks), [in_flight.location])])
    complete, incomplete = writing.committed_chunks([in_flight.content_hash])
    assert len(complete) == len(in_flight_chunks) and incomplete == []  # nothing of it was taken
    # Much later, past the grace period, the crashed run's chunks are debris: repair removes them.
    assert indexing.repair(grace_s=0.0) == 1
    left = {chunk.id for chunk in indexing.all_chunks()}
    assert not any(chunk.id in left for chunk in debris_chunks)
    assert {c.id for c in in_flight_chunks} <= left


def _article(tag: str) -> tuple[Article, list[Chunk], np.ndarray]:
    text = f"Story {tag}. " + " ".join(f"Paragraph {n} of the {tag} story." for n in range(6))
    article = Article(id=tag, text=text, title=tag, location=f"{tag}.txt")
    half = len(text) // 2
    chunks = [
        Chunk(article.content_hash, i, text[i * half : (i + 1) * half], i * half, (i + 1) * half) for i in range(2)
    ]
    vectors = np.random.default_rng(len(tag)).standard_normal((2, 384), dtype=np.float32)
    return article, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
