# Two commands for a newcomer: `make run` (embedded default) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_PG_URL ?= postgres://postgres@127.0.0.1:5432/wms
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run demo test test-sqlite test-postgres test-postgres-main test-reliability bench bench-quick worker image image-test up down logs clean scan-vendor

$(STAMP): pyproject.toml tests/requirements-no-deps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps -r tests/requirements-no-deps.txt
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate, load demo data and users, and serve on the embedded default (SQLite, eager Celery).
run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## The whole suite, on SQLite and on PostgreSQL (CI requires PostgreSQL; elsewhere it is used when up).
## The two passes run side by side, a core each, their output kept apart; the reliability tests,
## which time real outages (a posting within 1.5 s with Redis down, a revocation within 2 s), run
## afterwards on a quiet machine.
test: $(STAMP)
	@if $(BIN)/python -m tests.pg_available "$(TEST_PG_URL)"; then \
		$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres-main \
			&& $(MAKE) --no-print-directory test-reliability; \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL at $(TEST_PG_URL) is not reachable, and CI must test on it." >&2; exit 1; \
	else \
		$(MAKE) --no-print-directory test-sqlite; \
		echo "PostgreSQL at $(TEST_PG_URL) is not reachable: ran the SQLite suite only."; \
	fi

test-sqlite: $(STAMP)
	@echo "== test suite on SQLite"
	env -u DATABASE_URL -u CELERY_BROKER_URL $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

## The PostgreSQL pass in one go (make test splits it in two).
test-postgres: test-postgres-main test-reliability

test-postgres-main: $(STAMP)
	@echo "== test suite on PostgreSQL ($(TEST_PG_URL)), but the reliability tests"
	env -u CELERY_BROKER_URL DATABASE_URL=$(TEST_PG_URL) $(BIN)/python -m pytest -p no:cacheprovider -m "not reliability" $(PYTEST_ARGS)

test-reliability: $(STAMP)
	@echo "== reliability tests on PostgreSQL ($(TEST_PG_URL)): real outages, timed"
	env -u CELERY_BROKER_URL DATABASE_URL=$(TEST_PG_URL) $(BIN)/python -m pytest -p no:cacheprovider -m reliability $(PYTEST_ARGS)

## The benchmark on PostgreSQL (DATABASE_URL, default the local server) and Redis; see bench/README.md.
## Options through BENCH_ARGS, e.g. `make bench BENCH_ARGS="--large"` or "--duration 10 --keep".
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## Every scenario at a tiny size, in well under a minute (the test suite runs it too).
bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

## Production with Docker (deploy/; README "Production mode"): the app image, then the whole stack.
IMAGE ?= wms-ledger:latest
COMPOSE = docker-compose -f deploy/compose.yaml --env-file deploy/.env

image:
	deploy/docker/build-image.sh $(IMAGE)

## Build the image and run it against the local PostgreSQL and Redis: readiness, a posting, /metrics.
image-test: $(STAMP)
	env -u CELERY_BROKER_URL DATABASE_URL=$(TEST_PG_URL) $(BIN)/python -m pytest tests/deploy/test_image.py -q -s

up: deploy/.env
	$(COMPOSE) up -d
	@echo "app: http://localhost:$$(sed -n 's/^WMS_HTTP_PORT=//p' deploy/.env)/  grafana: http://127.0.0.1:3000/  prometheus: http://127.0.0.1:9090/"

down: deploy/.env
	$(COMPOSE) down

logs: deploy/.env
	$(COMPOSE) logs --follow --tail 100

deploy/.env:
	@echo "Copy deploy/.env.example to deploy/.env and set its secrets first." >&2; exit 1

## Refresh the scanning page's vendored zxing-wasm (and the tests' axe-core) from npm, as pinned in
## scan/package-lock.json; the copied files are committed (scan/static/scan/vendor/VENDORED.md).
scan-vendor:
	cd scan && npm ci --no-audit --no-fund
	cp scan/node_modules/zxing-wasm/dist/iife/reader/index.js scan/static/scan/vendor/zxing-wasm/reader.iife.js
	cp scan/node_modules/zxing-wasm/dist/reader/zxing_reader.wasm scan/node_modules/zxing-wasm/LICENSE scan/static/scan/vendor/zxing-wasm/
	cp scan/node_modules/axe-core/axe.min.js tests/scan/vendor/
	cp scan/node_modules/axe-core/LICENSE tests/scan/vendor/axe-core.LICENSE

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
