# Disposisi — everything runs from the project venv; `make demo` and `make test` work on a fresh machine
# that has only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_MODEL := models/demo
SHARED := ../shared/data

.PHONY: install demo test bench serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Train on the bundled demo complaints (written by the team, see data/demo/README.md) and classify a few.
demo: install
	$(BIN)/disposisi train --data data/demo/demo_complaints.csv --out $(DEMO_MODEL)
	$(BIN)/disposisi classify --model $(DEMO_MODEL) --input data/demo/new_complaints.csv --output models/demo_suggestions.csv
	$(BIN)/disposisi suggest --model $(DEMO_MODEL) \
	  "Jalan di Desa Jelekong rusak parah, banyak lubang. Mohon segera diperbaiki" \
	  "e-KTP saya sudah 3 bulan blm jadi, kata petugas blanko habis"

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench.run_all --shared $(SHARED)

clean:
	rm -rf $(VENV) models *.egg-info
