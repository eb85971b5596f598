"""`citeqa ask` while `citeqa serve` runs: answer times, how many processes hold the model, memory.

    python benchmarks/ask_beside_serve.py [--root PATH] [--asks 3]

Starts `citeqa serve` over seeds/ with a fresh data folder, waits until it is ready, then runs
`citeqa ask` several times beside it, sampling every process on the machine that has the model
file mapped (and their resident memory) while the asks run. ``--root`` runs another checkout
of citeqa (for a before/after: `git worktree add /tmp/before <commit>`) with this interpreter.
Issue 11 reported 30-120 s answers when each process loaded its own model on the same two cores.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

QUESTIONS = [
    "Who leads the delegation?",
    "Until when will the delegation stay in North Korea?",
    "What did Russia veto at the UN Security Council?",
]
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def model_holders() -> dict[int, int]:
    """pid -> resident KiB of every process that has the model file mapped."""
    holders = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if MODEL_FILE not in (entry / "maps").read_text():
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+)", status)
        holders[int(entry.name)] = int(match.group(1)) if match else 0
    return holders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--asks", type=int, default=3)
    args = parser.parse_args()
    root = args.root.resolve()
    home = Path(tempfile.mkdtemp(prefix="citeqa-beside-")) / "home"
    env = {**os.environ, "CITEQA_HOME": str(home), "PYTHONPATH": str(root)}
    env.pop("OPENAI_BASE_URL", None)
    port = free_port()
    log = (home.parent / "serve.log").open("w")
    serve = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--port", str(port), "--seeds", str(root / "seeds")],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        started = time.monotonic()
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                if serve.poll() is not None:
                    raise SystemExit((home.parent / "serve.log").read_text()) from None
                time.sleep(0.5)
        print(f"citeqa serve ready in {time.monotonic() - started:.1f} s ({root})", flush=True)
        peak: dict[str, int] = {"holders": 0, "rss_kib": 0}
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                holders = model_holders()
                peak["holders"] = max(peak["holders"], len(holders))
                peak["rss_kib"] = max(peak["rss_kib"], sum(holders.values()))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for n in range(args.asks):
            question = QUESTIONS[n % len(QUESTIONS)]
            began = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "ui.cli", "ask", question], cwd=root, env=env, capture_output=True, text=True
            )
            seconds = time.monotonic() - began
            timing = re.search(r"\(([\d.]+) s to first token, ([\d.]+) s in all\)", done.stdout)
            inside = f"first token {timing.group(1)} s, answer {timing.group(2)} s" if timing else done.stderr[-200:]
            print(f"ask {n + 1}: {seconds:.1f} s for the whole command ({inside}): {question}", flush=True)
        sampling.set()
        sampler.join()
        print(
            f"processes with the model loaded (peak): {peak['holders']}; "
            f"their resident memory (peak sum): {peak['rss_kib'] / 1024:.0f} MiB",
            flush=True,
        )
    finally:
        serve.terminate()
        serve.wait(timeout=60)


if __name__ == "__main__":
    main()
