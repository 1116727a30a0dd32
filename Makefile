# fractalnb — the two commands of the README, and a few more.
#   make book   build the executed book into build/html (the main job)
#   make test   the whole test suite: lint, unit and property tests, every notebook, the book,
#               its PDF, and the built book checked in a real browser (Debian's Chromium)
#   make pdf    the whole book as one PDF, build/fractalnb.pdf (also in build/html/_downloads)
# Both set up a virtual environment in .venv on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JOBS   ?= 2
export FRACTALNB_CACHE_DIR ?= $(CURDIR)/.cache/fractalnb

# The PDF needs Debian's TeX Live (.ci/run installs it; see README.md, "The book as a PDF")
HAVE_TEX := $(shell command -v xelatex >/dev/null && command -v latexmk >/dev/null && command -v pdftotext >/dev/null && echo yes)

.PHONY: help book pdf test lint unit lab lab-student student grade browser-check bench reference clean data

help:
	@echo "make book   build the executed book into build/html"
	@echo "make test   lint, unit tests, execute every notebook, build the book with -W -n, its PDF"
	@echo "make pdf    the whole book as one PDF: build/fractalnb.pdf (Debian's TeX Live)"
	@echo "make data   download the full CIFAR-10 (torchvision) and derive the checked sample from it"
	@echo "make lab    open JupyterLab on a copy of notebooks/ (build/lab) with the project's environment"
	@echo "make lab-student  open JupyterLab on the student copy (build/student/notebooks)"
	@echo "make student  student copies (solutions and hidden tests removed, public checks kept) to"
	@echo "             build/student/notebooks, the instructor bundle to build/course/instructor"
	@echo "make grade SUBMISSIONS=dir/  grade every notebook under dir/: build/grades/grades.csv"
	@echo "make browser-check  check build/html in headless Chromium (after make book)"
	@echo "make bench  run the benchmarks in benchmarks/ (not part of CI)"
	@echo "make reference  train the reference runs into results/reference (about 1.5 h on 2 cores; resumable)"

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e ".[book,test,course]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (fractalnb)"
	touch $@

book: $(VENV)/.installed
	$(PY) tools/build_book.py --jobs $(JOBS)
	@if [ -n "$(HAVE_TEX)" ]; then $(PY) tools/build_book.py --pdf-only; \
	else echo "PDF skipped: no TeX (apt-get install texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk fonts-freefont-otf fonts-lmodern fonts-dejavu-core poppler-utils)"; fi
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  $(PY) tools/browser_check.py build/html; \
	else echo "browser check skipped: no chromium/chromedriver (apt-get install chromium chromium-driver)"; fi
	@echo "The book is in build/html/index.html"

lint: $(VENV)/.installed
	$(PY) -m ruff check fractalnb tests tools benchmarks notebooks

unit: $(VENV)/.installed
	$(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=15 tests --doctest-modules fractalnb

# the book build below builds the API pages with -W -n as well: the unit tests leave that
# build to it (FRACTALNB_API_PAGES_IN_BOOK, tests/test_api_reference.py)
test: lint
	FRACTALNB_API_PAGES_IN_BOOK=1 $(MAKE) unit
	$(PY) tools/build_book.py --jobs $(JOBS)
	$(PY) tools/build_book.py --pdf-only
	$(PY) tools/browser_check.py build/html

# the whole book as one PDF, from the staged executed notebooks of the last build when they
# are current (nothing is executed twice), else staged and executed first
pdf: $(VENV)/.installed
	$(PY) tools/build_book.py --jobs $(JOBS) --pdf-only

# the CIFAR-10 sample, where the internet is reachable (GitHub's runners): the package's own
# loader downloads the full set into $$FRACTALNB_DATA_DIR and derives the sample from it,
# checking its checksum (fractalnb/training/data.py)
data: $(VENV)/.installed
	$(PY) -c "from fractalnb.training.data import load_cifar10; load_cifar10('full'); \
	a = load_cifar10('sample'); print('CIFAR-10 sample:', a.x_train.shape, a.x_test.shape, a.source)"

# JupyterLab works on a copy, build/lab/notebooks (tools/lab_copy.py refreshes it from
# notebooks/, which it never writes): saving with outputs never dirties the sources.
# JupyterLab refuses to start as root (containers, CI machines) unless told it may.
LAB_NOTEBOOKS ?= build/lab/notebooks
lab: $(VENV)/.installed
	@if [ "$(LAB_NOTEBOOKS)" = build/lab/notebooks ]; then $(PY) tools/lab_copy.py notebooks build/lab/notebooks; fi
	$(VENV)/bin/jupyter lab --notebook-dir=$(LAB_NOTEBOOKS) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# the student copy (make student) in JupyterLab: build/student/notebooks, solutions removed
lab-student: student
	$(MAKE) lab LAB_NOTEBOOKS=build/student/notebooks

# otter-grader (tools/course.py): the student copies (no solutions, no hidden tests, public
# checks with grader.check) and the instructor bundle (solution notebooks, autograder zips)
student: $(VENV)/.installed
	$(PY) tools/course.py student --out build/student

# grade a class offline: every notebook under SUBMISSIONS (one folder per student, or the
# student's name in the file name), each in its own process with GRADE_TIMEOUT seconds;
# writes build/grades/grades.csv (student x question points) and build/grades/feedback/
SUBMISSIONS ?=
GRADE_TIMEOUT ?= 900
grade: $(VENV)/.installed
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir/"; exit 2; }
	@ls build/course/instructor/*.zip >/dev/null 2>&1 || $(MAKE) student
	$(PY) tools/course.py grade "$(SUBMISSIONS)" --out build/grades --timeout $(GRADE_TIMEOUT) --jobs $(JOBS)

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
