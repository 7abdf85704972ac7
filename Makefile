# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test screenshots install install-test migrate bench lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed package.json package-lock.json
	$(BIN)/pip install --quiet -e '.[test]'
	@# axe-core, injected into Chromium by the browser tests' accessibility checks (WCAG 2.1 A/AA).
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent; \
	  else echo "npm absent: the browser tests' accessibility checks will be skipped"; fi
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/flask db upgrade

# The web server and a worker (background jobs, periodic tasks), side by side in one terminal: the Procfile, run
# by honcho (the `dev` extra); Ctrl-C stops both.
run: migrate $(VENV)/.installed-dev
	@echo "courrier: http://127.0.0.1:$(PORT)/  —  first administrator (public registration is closed):"
	@echo "  $(BIN)/flask create-admin --email prenom.nom@example.fr --nom Nom --prenom Prénom"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --port $(PORT)

# The whole suite in three runs: the in-process tests on both cores (pytest-xdist, a database per worker);
# the tests that start real servers and Chromium (marked `system`) on both cores too, a file per worker
# (`--dist loadfile`: a file's servers and browser are started once; the longest files first, named in
# tests/conftest.py, so that no core waits alone at the end for a long one); then, alone, the few that load the
# machine on purpose and read its reaction (marked `solo`: a load test, the login storms). Every run
# runs even if one before failed. PYTEST_ARGS go to all three (a run that selects nothing is fine);
# SERVER_TESTS chooses among the last two runs' tests (CI's PostgreSQL pass leaves the browser out);
# TEST_RUNS chooses the runs (CI runs the first two on both databases side by side, then `solo` alone).
TEST_WORKERS ?= 2
SERVER_TESTS ?= system
TEST_RUNS ?= in-process servers solo
test: install-test
	@failed=0; \
	if echo " $(TEST_RUNS) " | grep -q " in-process "; then \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not system" $(PYTEST_ARGS) || [ $$? -eq 5 ] || failed=1; \
	fi; \
	if echo " $(TEST_RUNS) " | grep -q " servers "; then \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "($(SERVER_TESTS)) and not solo" \
	    $(PYTEST_ARGS) || [ $$? -eq 5 ] || failed=1; \
	fi; \
	if echo " $(TEST_RUNS) " | grep -q " solo "; then \
	  $(BIN)/python -m pytest -m "($(SERVER_TESTS)) and solo" $(PYTEST_ARGS) || [ $$? -eq 5 ] || failed=1; \
	fi; \
	exit $$failed

# The pictures of the documentation (docs/screenshots/), taken by the browser tests when asked.
screenshots: install-test
	SCREENSHOTS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile tests/browser

lint: install-test
	$(BIN)/flake8 courrier tests bench config.py wsgi.py

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
