# Disposisi — everything runs from the project venv; `make demo` and `make test` work on a fresh machine
# that has only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_MODEL := models/demo
SHARED := ../shared/data

.PHONY: install system-packages demo test test-fast lint format bench serve report-demo desk-demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Train on the bundled demo complaints (written by the team, see data/demo/README.md) and classify a few.
demo: install
	$(BIN)/disposisi train --data data/demo/demo_complaints.csv --out $(DEMO_MODEL) --force
	$(BIN)/disposisi classify --model $(DEMO_MODEL) --input data/demo/new_complaints.csv --output models/demo_suggestions.csv
	$(BIN)/disposisi suggest --model $(DEMO_MODEL) \
	  "Jalan di Desa Jelekong rusak parah, banyak lubang. Mohon segera diperbaiki" \
	  "e-KTP saya sudah 3 bulan blm jadi, kata petugas blanko habis"

# Retrained when its data, the registry or the model format (SCHEMA in persistence.py) changes.
$(DEMO_MODEL)/card.json: $(STAMP) data/demo/demo_complaints.csv routing_model/resources/registries/kab_bandung.csv routing_model/artifact/persistence.py
	$(BIN)/disposisi train --data data/demo/demo_complaints.csv --out $(DEMO_MODEL) --force

# Serve the demo model (trained first if missing) on http://127.0.0.1:8080 under gunicorn (one worker process per core).
# Set DISPOSISI_ADMIN_TOKENS to accept feedback.
serve: $(DEMO_MODEL)/card.json
	$(BIN)/disposisi serve --model $(DEMO_MODEL) --host 127.0.0.1 --port 8080

# What the tests need beyond Python (Debian's chromium, PostgreSQL): installed when run as root on Debian,
# otherwise the run stops at once with the command to run.
system-packages:
	bash scripts/system-packages

# Both cores (pytest-xdist), one test file per worker at a time: a file's fixtures (its PostgreSQL, its deployment)
# stay in one process.
PYTEST_JOBS ?= 2
test: install system-packages
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadfile

# The suite without the tests marked slow (end-to-end runs, training on the shared data): under 2 minutes.
test-fast: install system-packages
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadfile -m "not slow"

# ruff, as pinned in pyproject.toml's dev extras and configured in its [tool.ruff]; tests/structure/test_lint.py
# runs the same checks. `lint` runs both checks and fails if either does; `format` rewrites files.
lint: install
	@status=0; $(BIN)/ruff check . || status=1; $(BIN)/ruff format --check . || status=1; exit $$status

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# STORAGE_ROWS: complaints bench_storage generates in PostgreSQL; the issue's size is `make bench STORAGE_ROWS=2000000`
STORAGE_ROWS ?= 100000
bench: install
	$(BIN)/python -m bench.run_all --shared $(SHARED) --storage-rows $(STORAGE_ROWS)

# The managers' report on fictional demo feedback, rendered and screenshotted in headless Chromium.
report-demo: install
	$(BIN)/python -m training.learning.demo_feedback --out models/report_demo/feedback.csv
	$(BIN)/disposisi report --feedback models/report_demo/feedback.csv --out models/report_demo/site
	$(BIN)/python -m service.desk.chromium models/report_demo/site/index.html models/report_demo/report.png

# The admins' desk on the demo model with team-written demo complaints; screenshots into models/desk_demo/.
desk-demo: $(DEMO_MODEL)/card.json
	$(BIN)/python -m service.desk.demo --model $(DEMO_MODEL) --out models/desk_demo

clean:
	rm -rf $(VENV) models *.egg-info
