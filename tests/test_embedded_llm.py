"""Joining the packaged model's slices: checked against the official hash, a bad join never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import embedded_llm
from qa.embedded_llm import MODEL_FILE, EmbeddedModelError, ensure_weights, part_paths


def test_a_join_that_does_not_match_the_official_hash_is_an_error_and_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slices = []
    for n in range(3):
        part = tmp_path / f"part{n}.bin"
        part.write_bytes(bytes([n]) * 1000)
        slices.append(part)
    monkeypatch.setattr(embedded_llm, "part_paths", lambda: slices)
    cache = tmp_path / "cache"
    with pytest.raises(EmbeddedModelError, match="sha256"):
        ensure_weights(cache, progress=False)
    assert list((cache / "models").iterdir()) == []  # neither the bad file nor a partial one is kept


def test_the_real_slices_are_installed() -> None:
    paths = part_paths()
    assert len(paths) == 22
    assert all(p.exists() for p in paths)
    assert sum(p.stat().st_size for p in paths) == embedded_llm.MODEL_BYTES
    assert MODEL_FILE.endswith(".gguf")
