# Two commands do everything on a fresh machine (Python 3.10+, no GPU needed):
#   make book   — set up .venv, execute every chapter (PROFILE=paper, DEVICE=auto), build _build/html:
#                 the paper edition, rendered from the published models (results/paper/models);
#                 PROFILE=quick builds the quick edition (20 000 steps per model)
#   make test   — set up .venv, unit tests, chapter shape, smoke-profile chapters and their book,
#                 nbval against committed references, the site in headless Chromium, and the
#                 last build's claims against their record (quick: tests/expected; paper: results/paper)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build is on this machine's disk; elsewhere PyPI's default (CUDA) build of the same
# version is what you get. Override with e.g. TORCH_SPEC='torch>=2.2'.
TORCH_SPEC ?= torch==2.13.0
# Install every other package at the exact versions (and hashes) of requirements.lock; LOCK=0 installs
# pyproject.toml's ranges instead (another platform or Python). Regenerate the lock: make lock.
LOCK ?= 1
# EXECUTOR=slurm (or local): train every missing model of PROFILE through that executor before the
# chapters run (one job per group; SLURM_ARGS e.g. '--partition gpu --gpus 1 --time 600'); WORKERS:
# worker processes of EXECUTOR=inprocess (default: one per core on a CPU).
EXECUTOR ?=
SLURM_ARGS ?=
WORKERS ?=
PROFILE ?= paper
DEVICE ?= auto
# chapters executed at once (each kernel then gets cpu_count // JOBS threads); FORCE=1 re-executes
# chapters whose inputs are unchanged
JOBS ?= 2
FORCE ?=
EXECUTED ?= executed
SMOKE ?= _build/smoke
export ICL_CACHE_DIR ?= $(CURDIR)/.cache/icl
export PYDEVD_DISABLE_FILE_VALIDATION = 1
JB_FLAGS = --all -W -n --keep-going
PYTEST = $(PY) -m pytest -q -p no:cacheprovider

.PHONY: install lock train publish book execute test unit slurm-test shape smoke-chapters executed-check arithmetic-test nbval book-test browser-test \
	scorecard-check references expected-scorecard bench clean lint format

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
ifeq ($(LOCK),1)
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
else
	$(PY) -m pip install -q -e '.[test]'
endif
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

lock:
	bash tools/lock.sh

train: install
	$(PY) -m icl.cli plan --profile $(PROFILE) --device $(DEVICE) --train --executor $(or $(EXECUTOR),inprocess) \
		$(if $(WORKERS),--workers $(WORKERS)) $(SLURM_ARGS)

# Publish this build's claims as the PROFILE edition (results/PROFILE/claims), for the scorecard's
# side-by-side table; `icl plan --train --publish` publishes the models.
publish: install
	$(PY) -m icl.cli publish-claims --profile $(PROFILE) --from $(EXECUTED)/claims

execute: install $(if $(EXECUTOR),train)
	$(PY) -m icl.cli chapters --profile $(PROFILE) --device $(DEVICE) --out $(EXECUTED) --jobs $(JOBS) $(if $(FORCE),--force)

# The contact sheet (_build/html/figures.html): every figure of the build at the width the book shows
# it, with its audit (icl.book.figure_audit), for reviewing the figures at once.
book: execute
	$(VENV)/bin/jupyter-book build $(JB_FLAGS) .
	$(PY) tools/contact_sheet.py $(EXECUTED)/figures _build/html/figures.html
	@echo "book: $(CURDIR)/_build/html/index.html"

lint: install  # one configuration, in pyproject.toml
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

unit: install
	$(PYTEST) tests --ignore=tests/runs/test_slurm.py

# The cluster executor against a real single-node Slurm on this machine (root and Debian's slurmctld,
# slurmd, slurm-client, munge; .ci/run installs them): started, tested, its daemons stopped. Where it
# cannot start, the tests skip and say so (fail instead with ICL_REQUIRE_SLURM=1, as CI sets).
slurm-test: install
	@bash tests/slurm/cluster.sh start; started=$$?; \
	$(PYTEST) -rs tests/runs/test_slurm.py; rc=$$?; \
	if [ $$started -eq 0 ]; then bash tests/slurm/cluster.sh stop; fi; exit $$rc

shape: install
	$(PY) tools/chapter_shape.py notebooks

# The test build lives in $(SMOKE), a copy of the book's sources with smoke-profile chapters, so
# that `make test` never overwrites the book's executed/ (and its quick-profile claims).
smoke-chapters: install
	rm -rf $(SMOKE) && mkdir -p $(SMOKE)
	cp -r _config.yml _toc.yml book $(SMOKE)/
	$(PY) -m icl.cli chapters --profile smoke --device $(DEVICE) --out $(SMOKE)/executed

# The chapters that run their own optimisation (gradient descent and flows on the approximate loss,
# SciPy's optimisers, the ODEs of the related paper), executed again in the smoke profile under another
# arithmetic — ATen's `default` kernels, numpy's and OpenBLAS's native ones (ICL_KERNELS=native) — must
# reach the same verdict on every claim as the pinned smoke build (make smoke-chapters), or the book's
# verdicts would depend on the reader's CPU. The trained smoke models are shared (the cache).
OWN_OPTIMISATION ?= 03_loss_approximation 04_training_stages 05_gradient_flow 06_approximation_optimality \
	07_bayes_and_single_head 11_linear_attention_dynamics
arithmetic-test: install
	rm -rf $(SMOKE)/other-arithmetic
	ICL_KERNELS=native ATEN_CPU_CAPABILITY=default $(PY) -m icl.cli chapters --profile smoke --device cpu \
		--out $(SMOKE)/other-arithmetic --jobs $(JOBS) $(OWN_OPTIMISATION)
	$(PYTEST) tests/pipeline/test_same_verdicts.py --executed $(SMOKE)/executed --other $(SMOKE)/other-arithmetic

# every chapter ran, saved its claims, and every figure passes its audit (the visual language, issue 30)
executed-check: install
	$(PYTEST) tests/pipeline/test_executed.py --executed $(SMOKE)/executed

# nbval re-executes the committed reference notebooks (smoke profile) and compares every cell tagged
# nbval-check-output with the committed output: a changed number fails. `make references`
# regenerates them after an intended change (review the diff in the commit).
nbval: install
	ICL_CLAIMS_DIR=$(CURDIR)/$(SMOKE)/nbval/claims ICL_FIGURES_DIR=$(CURDIR)/$(SMOKE)/nbval/figures \
	$(PYTEST) --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg tests/reference/*.ipynb

references: smoke-chapters
	$(PY) tools/make_references.py $(SMOKE)/executed tests/reference

book-test: install
	$(VENV)/bin/jupyter-book build $(JB_FLAGS) $(SMOKE)
	$(PY) tools/contact_sheet.py --check $(SMOKE)/executed/figures $(SMOKE)/_build/html/figures.html

browser-test: install
	$(PYTEST) -s tests/browser --site $(SMOKE)/_build/html

# The last build's claims (executed/claims): a quick build's against tests/expected/scorecard_quick.json,
# a paper build's against the published paper edition (results/paper/claims).
scorecard-check: install
	$(PYTEST) -rs tests/pipeline/test_scorecard.py --executed $(EXECUTED)

expected-scorecard: install  # after `make book PROFILE=quick`
	$(PY) tests/pipeline/test_scorecard.py --write $(EXECUTED)/claims tests/expected/scorecard_quick.json

test: lint unit slurm-test shape scorecard-check smoke-chapters executed-check arithmetic-test nbval book-test browser-test

bench: install
	$(VENV)/bin/icl bench

clean:
	rm -rf _build $(EXECUTED)
