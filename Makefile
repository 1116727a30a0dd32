# fractalnb — the two commands of the README, and a few more.
#   make book   build the executed book into build/html (the main job)
#   make test   the whole test suite: lint, unit and property tests, every notebook, the book
# Both set up a virtual environment in .venv on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JOBS   ?= 2
export FRACTALNB_CACHE_DIR ?= $(CURDIR)/.cache/fractalnb

.PHONY: help book test lint unit lab bench clean

help:
	@echo "make book   build the executed book into build/html"
	@echo "make test   lint, unit tests, execute every notebook, build the book with -W -n"
	@echo "make lab    open JupyterLab on notebooks/ with the project's environment"
	@echo "make bench  run the benchmarks in benchmarks/ (not part of CI)"

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (fractalnb)"
	touch $@

book: $(VENV)/.installed
	$(PY) tools/build_book.py --jobs $(JOBS)
	@echo "The book is in build/html/index.html"

lint: $(VENV)/.installed
	$(PY) -m ruff check fractalnb tests tools benchmarks notebooks

unit: $(VENV)/.installed
	$(PY) -m pytest -n $(JOBS) tests

test: lint unit
	$(PY) tools/build_book.py --jobs $(JOBS)

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: $(VENV)/.installed
	$(PY) -m pip install -c constraints.txt -e ".[bench]"
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf build _build
