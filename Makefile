# Watercooler: `make run` starts everything for a demo, `make test` runs every test.
# Both create .venv on first use; nothing needs installing by hand.
VENV ?= .venv
PY := $(VENV)/bin/python
BOARD_PORT ?= 8000
SIGNALING_PORT ?= 8080
PYTEST_FLAGS ?=
BASELINE ?=

.PHONY: run test lint venv venv-dev test-deps test-js test-python test-webrtc test-postgres bench bench-instructions clean

venv:
	@tools/ensure_venv.sh requirements.txt

venv-dev:
	@tools/ensure_venv.sh requirements-dev.txt

test-deps: venv-dev
	@tools/ensure_test_deps.sh

run: venv
	@$(PY) -m tools.run_demo --board-port $(BOARD_PORT) --signaling-port $(SIGNALING_PORT)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-js: test-deps
	node --test tests/web/

# Everything that needs no WebRTC: signaling, board (SQLite), cluster signaling.
test-python: test-deps
	$(PY) -m pytest -m "not webrtc" $(PYTEST_FLAGS)

# WebRTC tests (aiortc, Chromium) run in a private network namespace with only loopback up; the
# services they need are started inside it by the tests themselves.
test-webrtc: test-deps
	tools/in_netns.sh $(PY) -m pytest -m webrtc $(PYTEST_FLAGS)

# The board suite again on PostgreSQL: DATABASE_URL if set, else the local server when it answers,
# else a private cluster started (and removed) for the run.
test-postgres: test-deps
	@$(PY) -m tools.postgres_suite $(PYTEST_FLAGS)

test: lint test-js test-python test-webrtc test-postgres

# The benchmarks (most of an hour; not part of `make test`); BASELINE=<git revision> also runs our
# server as it was then, as "ours-before" in the same runs. Regenerates docs/benchmarks.md.
bench: test-deps
	$(MAKE) -C bench BASELINE=$(BASELINE)

# Optional: instructions per relayed message under valgrind's callgrind (needs valgrind; about 10
# minutes); the report after it gains that section.
bench-instructions: test-deps
	$(MAKE) -C bench instructions report BASELINE=$(BASELINE)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
