"""The same indexing code against a real `chroma run` server through HttpClient."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest

from index.pipeline import Indexer, Outcome
from index.settings import Settings
from index.store import Store


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
