# The two commands a newcomer needs: `make demo` and `make test`. Both install first.
.PHONY: install lock demo test lint typecheck check-house unit integration e2e bench clean

VENV := .venv
PY := $(VENV)/bin/python

install:
	@bash scripts/install.sh

# After changing a dependency in pyproject.toml: re-pin the lock files (docs/dependencies.md).
# `make lock ARGS=--upgrade` moves every pin to the newest allowed version.
lock:
	@bash scripts/lock.sh $(ARGS)

# `make demo PORT=8080` serves on another port (WARDCAST_HTTP_PORT, which the demo honours).
demo: install
	$(if $(PORT),WARDCAST_HTTP_PORT=$(PORT) )$(VENV)/bin/wardcast-demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy controller edge_agent firmware_stubs wardcast_protocol sim tests bench scripts

check-house: install
	$(PY) scripts/house_rules.py

unit: install
	$(PY) -m pytest tests/unit -q

integration: install
	$(PY) -m pytest tests/integration -q

e2e: install
	$(PY) -m pytest tests/e2e -q

# The whole suite: house rules, lint, types, then every test tier on two workers
# (pytest-xdist), each test file whole on one of them: some files' tests build on the
# ones before (the console's browser walk). `make unit` and the others run in one process.
test: install lint typecheck check-house
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=25

bench: install
	$(PY) -m bench.fanout --agents 200

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
