# Two commands: `make book` (install, run the study, collect, render) and `make test`.
# Everything lives in .venv; torch is installed only when none is importable there, so a GPU
# user's CUDA build (installed first, see README) is kept.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STUDY  ?= studies/default.yaml
TORCH_CPU ?= torch==2.13.0
# Runs executed at a time; each gets the cores divided among the workers (see README: measured).
WORKERS ?= 2
export HF_HUB_OFFLINE ?= 1

STUDY_NAME = $(shell $(PY) -c "import yaml,sys; print(yaml.safe_load(open('$(STUDY)'))['name'])")

.PHONY: install book study collect render test check-book clean-book help

help:
	@echo "make book   install, run $(STUDY), collect it, render the book into _build/html"
	@echo "make test   install with test extras, then pytest"
	@echo "make check-book  load every page of _build/html in headless Chromium"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_CPU)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book,real,ray,judge,test]"
	touch $@

install: $(VENV)/.installed

study: install
	$(VENV)/bin/cltbook run $(STUDY) --workers $(WORKERS)

collect: study
	$(VENV)/bin/cltbook collect $(STUDY)

render: install
	$(VENV)/bin/cltbook book --study $(STUDY_NAME)

book: collect
	$(VENV)/bin/cltbook book --study $(STUDY_NAME)
	@echo "open _build/html/index.html"

# Lint and format check first (seconds), then the suite.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

# Every page of the rendered book in headless Chromium: no console errors, images visible,
# internal links resolve (run after make book).
check-book: install
	$(PY) -m tools.checkbook _build/html

clean-book:
	rm -rf _build
