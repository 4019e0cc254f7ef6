# Loopwise: `make run` and `make test` are all a newcomer needs (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test install lint format worker beat migrate seed screenshots bench load clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Loopwise is running at http://127.0.0.1:$(PORT)/"
	@echo "  Log in as admin, olivia (product owner), sam (scrum master), dana, devon (developers)"
	@echo "  or stella (stakeholder) with password 'demo'; gary owns the separate globex workspace."
	@echo ""
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Screenshots of the main pages on the demo data (1440×900) into docs/screenshots/.
screenshots: install
	LOOPWISE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser/test_screenshots.py -p no:randomly

migrate: install
	$(BIN)/python manage.py migrate

seed: install
	$(BIN)/python manage.py seed_demo --reset

worker: install
	$(BIN)/celery -A config worker -Q interactive,bulk,feed -l info

beat: install
	$(BIN)/celery -A config beat -l info

# Builds a 100k-item workspace on PostgreSQL (once; --rebuild to redo), serves it with
# gunicorn and measures it with wrk; writes docs/performance.md. BENCH_ARGS passes options.
bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3

# Bounded load test (50 clients, 2 minutes, loopback) against PostgreSQL: zero errors and no
# lost writes, or exit 1. DATABASE_URL must name a PostgreSQL database; LOAD_ARGS passes options.
load: install
	$(BIN)/python -m bench.load $(LOAD_ARGS)
