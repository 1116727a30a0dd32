# fractalnb — the two commands of the README, and a few more.
#   make book   build the executed book into build/html (the main job)
#   make test   the whole test suite: lint, unit and property tests, every notebook, the book,
#               and the built book checked in a real browser (Debian's Chromium)
# Both set up a virtual environment in .venv on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JOBS   ?= 2
export FRACTALNB_CACHE_DIR ?= $(CURDIR)/.cache/fractalnb

.PHONY: help book test lint unit lab student browser-check bench reference clean

help:
	@echo "make book   build the executed book into build/html"
	@echo "make test   lint, unit tests, execute every notebook, build the book with -W -n"
	@echo "make lab    open JupyterLab on notebooks/ with the project's environment"
	@echo "make student  write a student copy of the notebooks (solutions removed) to build/student"
	@echo "make browser-check  check build/html in headless Chromium (after make book)"
	@echo "make bench  run the benchmarks in benchmarks/ (not part of CI)"
	@echo "make reference  train the reference runs into results/reference (about 1.5 h on 2 cores; resumable)"

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (fractalnb)"
	touch $@

book: $(VENV)/.installed
	$(PY) tools/build_book.py --jobs $(JOBS)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  $(PY) tools/browser_check.py build/html; \
	else echo "browser check skipped: no chromium/chromedriver (apt-get install chromium chromium-driver)"; fi
	@echo "The book is in build/html/index.html"

lint: $(VENV)/.installed
	$(PY) -m ruff check fractalnb tests tools benchmarks notebooks

unit: $(VENV)/.installed
	$(PY) -m pytest -n $(JOBS) tests --doctest-modules fractalnb

test: lint unit
	$(PY) tools/build_book.py --jobs $(JOBS)
	$(PY) tools/browser_check.py build/html

# JupyterLab refuses to start as root (containers, CI machines) unless told it may
lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

student: $(VENV)/.installed
	$(PY) tools/student_copy.py --out build/student

browser-check: $(VENV)/.installed
	$(PY) tools/browser_check.py build/html

bench: $(VENV)/.installed
	$(PY) -m pip install -c constraints.txt -e ".[bench]"
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

# the book's evidence for Parts III and V: trains what is missing or stale, JOBS runs at once,
# resumable at epoch granularity (an interrupted run continues where it stopped)
reference: $(VENV)/.installed
	$(PY) -m fractalnb.reference run --jobs $(JOBS)

clean:
	rm -rf build _build
