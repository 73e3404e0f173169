# Two commands do everything on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8975
DEMO_DIR ?= .demo
# The oldest Airflow supported (MWAA runs 3.0.x): the cancel-on-kill e2e scenarios run on it too.
OLDEST_AIRFLOW ?= 3.0.6
VENV_OLDEST ?= .venv-airflow-$(OLDEST_AIRFLOW)
# The newest Airflow 3.3.x for the main suite: left to itself, uv may trade Airflow down a minor
# release for newer fastapi/cadwyn (it picked 3.2.2 once the docs and browser tools were added).
NEWEST_PINS := "apache-airflow>=3.3.2,<3.4"
# Airflow 3.0's api-server predates fastapi 0.117 and cadwyn 5.5, and does not run with them.
# The newest Celery provider (3.26) fails in its scheduler ("_process_workloads cannot handle
# <class 'tuple'>"); 3.12.2 is the one of Airflow 3.0.6's time.
# cryptography 51 (2026-12-05) made MultiFernet a Rust class that takes no new attributes;
# Airflow 3.0's get_fernet() sets one on it, so every connection read fails ("no attribute
# 'is_encrypted'"). Airflow 3.3 wraps it and runs with 51.
OLDEST_PINS := "apache-airflow==$(OLDEST_AIRFLOW)" "fastapi[standard]==0.116.1" "cadwyn<5.5" \
	"apache-airflow-providers-celery==3.12.2" "cryptography<51"

.PHONY: install demo demo-study ui test lint typecheck docs browser services unit integration e2e production e2e-oldest clean

# Bytecode is written as modules are first imported. Some environments (this machine's) set
# PYTHONDONTWRITEBYTECODE, and then every process compiles what it imports again (braket.circuits
# alone: 8 s instead of 3 s), which every job, trigger and Airflow process of the tests pays.
# Compiling whole virtualenvs at install instead (uv's --compile-bytecode) cost 49 s of wall time
# per virtualenv on this 2-core machine, mostly for modules no test imports. The oldest Airflow's
# virtualenv is still compiled at install: its first use starts two deployments at once (a dozen
# Airflow processes), and each of them compiling Airflow alone starved the api-server (in CI, its
# Celery workers' calls timed out).
unexport PYTHONDONTWRITEBYTECODE

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[dev,local,sweeps]" $(NEWEST_PINS)
	touch $@

$(VENV_OLDEST)/.installed: pyproject.toml
	python3 -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(VENV_OLDEST)/bin/uv pip install --quiet --compile-bytecode --python $(VENV_OLDEST)/bin/python -e ".[dev,local,sweeps]" $(OLDEST_PINS)
	touch $@

install: $(VENV)/.installed

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: install
	$(VENV)/bin/mypy

# The documentation site (MkDocs + Material, API reference from the docstrings) into site/;
# any warning (broken link, missing snippet, docstring naming a parameter that is not there) fails.
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# apt-get runs one at a time (`make test` makes browser and services in parallel; on a fresh machine
# the second apt-get found dpkg's lock held and failed).
# The UI e2e test drives Debian's Chromium through chromedriver; installed when missing (as root).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing chromium and chromium-driver (apt-get)"; \
		flock /tmp/airflow-provider-braket-apt.lock sh -c 'DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null'; \
	fi

# The production-shaped e2e suite starts its own PostgreSQL and Redis from Debian's packages on free
# ports (tests/production/services.py); installed when missing (as root).
services:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then \
		echo "installing postgresql and redis-server (apt-get)"; \
		flock /tmp/airflow-provider-braket-apt.lock sh -c 'DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server >/dev/null'; \
	fi

unit: install
	$(PY) -m pytest tests/unit -q

integration: install
	$(PY) -m pytest tests/integration -q

e2e: install browser
	$(PY) -m pytest tests/e2e -q -ra

production: install services
	$(PY) -m pytest tests/production -q -ra

e2e-oldest: $(VENV_OLDEST)/.installed browser services
	$(VENV_OLDEST)/bin/python -m pytest tests/e2e tests/production -q -ra -m "(cancel_on_kill or ui) and not react" $(XDIST)

# The whole suite: lint, types, unit, integration and e2e tests (integration and e2e start real
# local services and a real Airflow), then the cancel-on-kill e2e scenarios on the oldest Airflow.
# Two pytest workers (the machine has 2 cores; most tests wait on services): one test file per
# worker at a time, so a module's Airflow deployment or local service is started once.
XDIST := -n 2 --dist loadfile

# The checks and both virtualenvs are made two at a time first: installing the oldest Airflow
# (about a minute, bytecode compiled) overlaps the type check and the docs build.
test:
	$(MAKE) -j2 --output-sync=target lint typecheck docs browser services $(VENV_OLDEST)/.installed
	$(PY) -m pytest tests -q -ra --durations=25 $(XDIST)
	$(MAKE) e2e-oldest

# The React views' bundle (airflow_provider_braket/ui/static/) from frontend/, with the npm packages
# of the committed lockfile; then the stamp that the suite checks the bundle against. Needs Node.js
# >= 20.19 and the npm registry. `make test` and `make demo` do not: the bundle is committed.
ui:
	cd frontend && npm ci --no-audit --no-fund && npm run build
	python3 frontend/stamp.py

demo: install
	$(PY) examples/demo.py --port $(PORT) --data-dir $(DEMO_DIR)

# The braket_qaoa_study example, three runs: its study learns from one to the next (docs/sweeps.md).
demo-study: install
	$(PY) examples/demo.py --port $(PORT) --data-dir $(DEMO_DIR) --study-runs 3

clean:
	rm -rf $(VENV) $(VENV_OLDEST) $(DEMO_DIR) site .pytest_cache .mypy_cache .ruff_cache
