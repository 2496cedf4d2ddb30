# The two commands of the contract: `make run` and `make test`. Both set themselves up from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test setup lint typecheck eval bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build of torch first, so nothing pulls the CUDA wheels.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

## make run: load the bundled sample content (incrementally: unchanged files are skipped, an unchanged quiz makes no
## new version) in one `coach` process, and open the chat (console without a Telegram token).
run: $(STAMP)
	$(BIN)/coach setup-content content
	$(BIN)/coach run

## make test: lint, types, and the whole suite (tests needing ../shared skip with a reason when it is absent).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/coach eval

bench: $(STAMP)
	$(BIN)/python bench/search_bench.py
	$(BIN)/python bench/startup_bench.py

clean:
	rm -rf $(VENV) data
