# Two commands do everything on a fresh machine (Python 3.11, Node.js/npm, network to the
# package registries): `make book` builds the whole book, `make test` runs the tests.
# Each creates the environment it needs first (.venv and book/vendor/node_modules).

PYTHON ?= python3
PROFILE ?= cpu
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := book/vendor/node_modules/.package-lock.json

.PHONY: book test bench env clean

book: $(STAMP) $(NODE_STAMP)
	$(BIN)/python tools/build_book.py --profile $(PROFILE) --keep-going

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_conversion.py
	$(BIN)/python benchmarks/bench_pretrain.py
	$(BIN)/python benchmarks/bench_corpus_cache.py
	$(BIN)/python benchmarks/bench_probe.py
	$(BIN)/python benchmarks/bench_on_device.py

env: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[book,test]'
	touch $@

$(NODE_STAMP): book/vendor/package.json book/vendor/package-lock.json
	cd book/vendor && npm ci --no-audit --no-fund --ignore-scripts

clean:
	rm -rf _build book/vendor/site
