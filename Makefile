# Chorus: `make run` serves the demo at http://127.0.0.1:5000, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The suite runs on SQLite, and on PostgreSQL too when one answers here.
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000
# make run's Redis: the embedded one, in the foreground under honcho (Procfile.dev).
DEV_REDIS_URL := unix://$(CURDIR)/instance/redis.sock

.PHONY: install run test test-sqlite test-postgres lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# The Procfile's processes as in production (gunicorn, worker, clock) plus the embedded
# Redis, run by honcho from Procfile.dev: Ctrl-C stops every one of them. The web
# process loads the demo first and prints its sign-in links.
run: install
	REDIS_URL=$(DEV_REDIS_URL) $(FLASK) db upgrade
	@echo "Chorus will run at http://$(HOST):$(PORT)  (Ctrl-C stops web, worker, clock and Redis)"
	@PATH="$(abspath $(BIN)):$$PATH" HOST=$(HOST) PORT=$(PORT) BASE_URL=http://$(HOST):$(PORT) \
	  MAIL_BACKEND=$${MAIL_BACKEND:-files} \
	  REDIS_URL=$(DEV_REDIS_URL) exec $(BIN)/honcho --procfile Procfile.dev start

test: install lint test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest -q

test-postgres: install
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== PostgreSQL at $(PG_TEST_URL)"; \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q; \
	else echo "== no PostgreSQL answers at $(PG_TEST_URL): suite ran on SQLite only"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# Pictures of each role's main pages at desktop and phone widths into docs/screenshots/,
# and their grid in the README: the demo in a throwaway instance (SQLite, Redis) read by
# the system's Chromium (about 80 s). The pages are listed at the top of tools/screenshots.py.
.PHONY: screenshots
screenshots: install
	$(BIN)/python -m tools.screenshots

# The tracked-link redirect under load against a minimal Flask + Redis floor (about 80 s).
.PHONY: bench-redirect
bench-redirect: install
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "bench-redirect needs wrk: run 'sudo apt-get install wrk' (Debian/Ubuntu)"; exit 1; fi; }
	$(BIN)/python bench/redirect.py

# Scoring throughput, queued events to ledger and boards, against a bulk-insert floor, on
# SQLite and (when one answers) a throwaway database on the local PostgreSQL (about 1 min).
.PHONY: bench-scoring
bench-scoring: install
	$(BIN)/python bench/scoring.py

# The click worker (raw clicks to click records, events and analytics rollups) on
# SQLite and PostgreSQL, against inserting the same rows with no logic (about 2 min).
.PHONY: bench-clicks
bench-clicks: install
	$(BIN)/python bench/clicks.py $(BENCH_CLICKS_ARGS)

# Board reads at 100k and 1M members, Redis against SQL, and the leaderboard API under
# gunicorn against a Flask floor (about 1.5 min, ~200 MB of Redis).
.PHONY: bench-boards
bench-boards: install
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "bench-boards needs wrk: run 'sudo apt-get install wrk' (Debian/Ubuntu)"; exit 1; fi; }
	$(BIN)/python bench/boards.py

# Rebuilding every board from 1M ledger lines in a throwaway SQLite database (under a minute).
.PHONY: bench-rebuild
bench-rebuild: install
	$(BIN)/python bench/rebuild.py

# Settling a challenge of 100k members and 200k events (placings, digest, prizes) against
# a plain SUM ... GROUP BY over the same rows, in a throwaway SQLite database; add
# BENCH_SETTLE_ARGS=--postgres for a throwaway database on the local PostgreSQL.
.PHONY: bench-settle
bench-settle: install
	$(BIN)/python bench/settle.py $(BENCH_SETTLE_ARGS)

# Badges: evaluation after a scoring batch of 1,000 events against that batch's scoring
# time, and a backfill of ten badges over 1M ledger lines and 100k employees, each in a
# throwaway SQLite database (a few minutes, most of it writing the data).
.PHONY: bench-badges
bench-badges: install
	$(BIN)/python bench/badges.py

# Composing and queueing the weekly digest for 100k employees on PostgreSQL (a throwaway
# database on the local server; BENCH_DIGEST_ARGS=--sqlite for SQLite), in a fresh process
# for its peak memory, against a plain INSERT ... SELECT of as many rows (about 1 min).
.PHONY: bench-digest
bench-digest: install
	$(BIN)/python bench/digest.py $(BENCH_DIGEST_ARGS)

# Redemptions settled per second under 50-way concurrency on a reward whose stock is
# smaller than the demand, none oversold, against a single-row UPDATE floor, in a
# throwaway database on the local PostgreSQL (needs one; a few minutes).
.PHONY: bench-redeem
bench-redeem: install
	$(BIN)/python bench/redeem.py $(BENCH_REDEEM_ARGS)

# The analytics dashboard's figures from the rollups against the same figures by GROUP BY
# over the raw rows, with 10M click records and 1M shares over a year, in a throwaway
# database on the local PostgreSQL (needs one; 12-15 min: 2-3 writing the data, 2-3
# rebuilding the rollups, most of the rest the raw side's queries).
.PHONY: bench-analytics
bench-analytics: install
	$(BIN)/python bench/analytics.py $(BENCH_ANALYTICS_ARGS)
