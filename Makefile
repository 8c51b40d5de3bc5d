# Two commands do everything on a fresh machine (Python 3.10+, no GPU needed):
#   make book   — set up .venv, execute every chapter (PROFILE=quick, DEVICE=auto), build _build/html
#   make test   — set up .venv, unit tests, smoke-profile chapters, nbval, strict book build
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build is on this machine's disk; elsewhere PyPI's default (CUDA) build of the same
# version is what you get. Override with e.g. TORCH_SPEC='torch>=2.2'.
TORCH_SPEC ?= torch==2.13.0
PROFILE ?= quick
DEVICE ?= auto
EXECUTED ?= executed
export ICL_CACHE_DIR ?= $(CURDIR)/.cache/icl
export ICL_CLAIMS_DIR = $(CURDIR)/$(EXECUTED)/claims
export PYDEVD_DISABLE_FILE_VALIDATION = 1
JB_FLAGS = --all -W -n --keep-going

.PHONY: install book execute test unit smoke-chapters nbval book-test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

execute: install
	rm -rf $(EXECUTED)/claims
	$(PY) -m icl.cli chapters --profile $(PROFILE) --device $(DEVICE) --out $(EXECUTED)

book: execute
	$(VENV)/bin/jupyter-book build $(JB_FLAGS) .
	@echo "book: $(CURDIR)/_build/html/index.html"

unit: install
	$(PY) -m pytest -q tests

smoke-chapters: install
	$(MAKE) execute PROFILE=smoke DEVICE=$(DEVICE)

nbval: install
	$(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg $(EXECUTED)/*.ipynb

book-test: install
	$(VENV)/bin/jupyter-book build $(JB_FLAGS) --path-output _build/test .

test: unit smoke-chapters nbval book-test
	$(PY) -m pytest -q tests/test_executed.py --executed $(EXECUTED)

bench: install
	$(VENV)/bin/icl bench

clean:
	rm -rf _build $(EXECUTED)
