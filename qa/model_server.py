"""One embedded model server per machine and cache folder, shared by every citeqa process.

Why: each process used to start its own llama.cpp. ``citeqa ask`` (or ``citeqa eval``) while
``citeqa serve`` ran loaded a second copy of the 1.1 GB model and a second server on the same two
cores, and answers took 30-120 s instead of 3-7 s (issue 11). A shared server also keeps the
prompt's fixed head read once for every process (about 12 s of prompt reading per head here).

The first process that needs the model starts it as a process of its own (``python -m
qa.model_server``, in a new session, so it outlives a terminal's Ctrl-C to its starter); the
others find it and reuse it. It stops when its last user has gone (after ``CITEQA_LLM_IDLE_S``
seconds, so that commands run one after another reuse it) or on ``citeqa model stop``.

Everything is coordinated through files in ``<cache>/llm-server/<key>/``:

- ``users.lock``: every process using the server holds a shared ``flock`` on it for as long as it
  lives; the kernel drops it when the process ends, ``kill -9`` included. The server is idle when
  it can take the lock exclusively.
- ``start.lock``: finding or starting the server, and the server's decision to stop, happen under
  an exclusive ``flock`` on it. So two processes never start two servers, and a server never stops
  between a process finding it and that process using it (a user takes its shared lock first).
- ``server.json``: where the server listens (``pid``, ``port``, ``model``), written atomically by
  the server once it answers ``/health``, removed when it stops.
- ``server.log``: the server's own messages, shown when it fails to start.

``key`` names what must match for two processes to share a server: the model file and the
context size. Threads are the first starter's choice.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from index.folder_lock import flocked, nobody_holds
from qa.embedded_llm import (
    CONTEXT_TOKENS,
    MODEL_FILE,
    MODEL_NAME,
    EmbeddedModelError,
    ensure_weights,
)

SERVER_KEY = f"{Path(MODEL_FILE).stem}-ctx{CONTEXT_TOKENS}"
START_TIMEOUT_S = 120.0
HEALTH_TIMEOUT_S = 2.0
POLL = 0
"""llama.cpp's busy-wait level (0-100): 0 lets idle threads sleep, since on a shared 2-core machine
spinning threads starve the rest of citeqa (and the model itself)."""
IDLE_CHECK_S = 1.0


@dataclass(frozen=True)
class RunningServer:
    """Where a model server answers."""

    port: int
    model: str
    pid: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def server_folder(cache: Path) -> Path:
    return cache / "llm-server" / SERVER_KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=HEALTH_TIMEOUT_S) as response:
            return response.status == 200
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an exited process its parent has not reaped yet is not a server
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_state(folder: Path) -> RunningServer | None:
    """The server recorded in ``folder``, if its process is alive (not checked for health)."""
    try:
        state = json.loads((folder / "server.json").read_text(encoding="utf-8"))
        pid, port, model = int(state["pid"]), int(state["port"]), str(state["model"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    return RunningServer(port, model, pid)


class SharedServer:
    """This process's handle on the machine's model server: found, or started, on first use."""

    def __init__(self) -> None:
        self._running: dict[Path, RunningServer] = {}
        self._user_locks: dict[Path, IO[str]] = {}

    def ensure(self, cache: Path, threads: int = 2, idle_s: float = 120.0, progress: bool = True) -> RunningServer:
        folder = server_folder(cache)
        if folder in self._running:
            return self._running[folder]
        model_path = ensure_weights(cache, progress=progress)
        self._use(folder)
        with flocked(folder / "start.lock", fcntl.LOCK_EX):
            running = read_state(folder)
            if running is not None and not _healthy(running.port):
                # Alive but not answering: a hung server serves nobody; replace it.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(running.pid, signal.SIGKILL)
                running = None
            if running is None:
                if progress:
                    print("Starting the embedded model (shared by every citeqa on this machine)…", file=sys.stderr)
                running = _start(folder, model_path, threads, idle_s)
        self._running[folder] = running
        return running

    def forget(self, cache: Path) -> None:
        """Find the server again on next use (it was stopped or replaced)."""
        self._running.pop(server_folder(cache), None)

    def _use(self, folder: Path) -> None:
        """Hold a shared lock on ``users.lock`` until this process ends: the server stays up."""
        if folder in self._user_locks:
            return
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / "users.lock").open("a")
        fcntl.flock(handle, fcntl.LOCK_SH)
        self._user_locks[folder] = handle


def _start(folder: Path, model_path: Path, threads: int, idle_s: float) -> RunningServer:
    """Start a server process and wait until it has written ``server.json`` (under ``start.lock``)."""
    if importlib.util.find_spec("xllamacpp") is None:
        raise EmbeddedModelError(
            "llama.cpp (xllamacpp) is not installed: `pip install 'citeqa[llm]'`, "
            "or set OPENAI_BASE_URL to use another endpoint"
        )
    (folder / "server.json").unlink(missing_ok=True)
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qa.model_server",
                "--folder",
                str(folder),
                "--model",
                str(model_path),
                "--threads",
                str(threads),
                "--idle-s",
                str(idle_s),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=folder,
            start_new_session=True,
        )
    # Reap it when it ends while this process still runs (otherwise it lingers as a zombie).
    threading.Thread(target=process.wait, daemon=True, name="model-server-reaper").start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        running = read_state(folder)
        if running is not None and running.pid == process.pid:
            return running
        if process.poll() is not None:
            raise EmbeddedModelError(
                f"the embedded model server exited with status {process.returncode} while starting: "
                f"{_tail(log_path)} (log: {log_path})"
            )
        time.sleep(0.2)
    process.kill()
    raise EmbeddedModelError(
        f"the embedded model server did not start within {START_TIMEOUT_S:.0f} s (log: {log_path}); "
        "the machine may be short of memory or CPU"
    )


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def stop(cache: Path, timeout_s: float = 10.0) -> RunningServer | None:
    """Stop the machine's model server for ``cache`` now; returns the one stopped, if any."""
    folder = server_folder(cache)
    running = read_state(folder)
    if running is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(running.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(running.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(running.pid, signal.SIGKILL)
    return running


# --- the server process --------------------------------------------------------------------------


def _serve(folder: Path, model_path: Path, threads: int, idle_s: float) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.model_alias = MODEL_NAME
    params.n_ctx = CONTEXT_TOKENS
    params.n_parallel = 1
    params.cache_prompt = True  # the fixed head of the prompt is reused between questions
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.cpuparams.poll = POLL
    params.cpuparams_batch.poll = POLL
    params.hostnames = ["127.0.0.1"]
    params.port = free_port()
    params.warmup = False
    params.verbosity = -1  # llama.cpp logs every request otherwise
    stopping = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is meant for the user's command
    server = xllamacpp.Server(params)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(params.port):
        if time.monotonic() > deadline or stopping:
            raise SystemExit(f"llama.cpp did not become healthy on port {params.port}")
        time.sleep(0.2)
    state = {"pid": os.getpid(), "port": params.port, "model": MODEL_NAME, "threads": threads}
    partial = folder / f"server.json.{os.getpid()}"
    partial.write_text(json.dumps(state), encoding="utf-8")
    partial.replace(folder / "server.json")
    print(f"serving {model_path.name} on 127.0.0.1:{params.port} with {threads} threads", flush=True)
    idle_since: float | None = None
    while not stopping:
        time.sleep(IDLE_CHECK_S)
        if not nobody_holds(folder / "users.lock"):
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since >= idle_s:
            with flocked(folder / "start.lock", fcntl.LOCK_EX):
                if nobody_holds(folder / "users.lock"):
                    _forget_self(folder)
                    print(f"no user for {idle_s:.0f} s: stopping", flush=True)
                    break
            idle_since = None
    _forget_self(folder)
    del server


def _forget_self(folder: Path) -> None:
    running = read_state(folder)
    if running is not None and running.pid == os.getpid():
        (folder / "server.json").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The machine's shared embedded model server (started by citeqa).")
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--idle-s", type=float, default=120.0)
    args = parser.parse_args(argv)
    _serve(args.folder, args.model, args.threads, args.idle_s)


SHARED = SharedServer()

if __name__ == "__main__":
    main()
