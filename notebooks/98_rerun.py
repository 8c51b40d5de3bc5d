# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     notebook_metadata_filter: kernelspec
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Rerunning a chapter, with another budget or other science
#
# Every chapter is a [jupytext](https://jupytext.readthedocs.io) text notebook in `notebooks/`
# (py:percent format) whose first cell holds its parameters:
#
# - `profile`: `smoke` (seconds; the tests), `quick` (20 000 Adam steps per model; a chapter's
#   default when run on its own) or `paper` (the authors' budget: 500 000 steps per model, the
#   book's main edition);
# - `device`: `auto` picks CUDA when it is available, else the CPU; `cpu` and `cuda` force one;
# - the science: `d`, `L`, `sigma2` (the task; `None` means the paper's $d = 5$, $L = 40$,
#   $\sigma^2 = 0.1$) and the chapter's own parameters (head counts, seeds, test lengths, …),
#   listed at the top of each page under "Budget". Every target and tolerance of a chapter is
#   computed from these parameters, so a rerun states the paper's claims for the new setting.
#
# **The whole book**, from a fresh clone:
#
# ```bash
# make book                      # profile paper, device auto → _build/html/index.html (published models)
# make book PROFILE=quick        # the quick edition (its models are published too)
# ```
#
# **One chapter with other parameters**, with the project's runner (which also records the
# chapter's claims beside the executed notebook):
#
# ```bash
# .venv/bin/icl chapters --profile quick --out rerun -p d=10 -p L=80 -p sigma2=0.5 01_setup
# ```
#
# or with papermill itself (it reads notebooks, so jupytext converts the text source on the fly):
#
# ```bash
# .venv/bin/jupytext --to ipynb -o - notebooks/01_setup.py \
#   | .venv/bin/papermill - my_run.ipynb -p profile quick -p d 10 -p L 80 -p sigma2 0.5
# ```
#
# **Trained models are cached** under `.cache/icl` (override with `ICL_CACHE_DIR`), one folder per
# configuration, named by a hash of the full configuration and the code version. A chapter that
# asks for a configuration already trained, by itself or by another chapter, loads it in
# milliseconds; an interrupted training run resumes from its last checkpoint. Entries are written
# atomically and checked against a SHA-256 before use, so a half-written entry is never read.
#
# **Open a chapter in Jupyter**: `jupytext --to ipynb notebooks/01_setup.py` creates a paired
# notebook; edit either file and `jupytext --sync` keeps them in step.
#
# ## A rerun, executed for this page
#
# This page ran the first command above while the book was built: {doc}`01_setup` with
# $d =$ {glue:text}`rerun-d`, $L =$ {glue:text}`rerun-L` and $\sigma^2 =$ {glue:text}`rerun-sigma2`,
# at this build's profile (**{glue:text}`rerun-profile`**). The paper's prediction moves with the
# setting: the effective step of the learned debiased GD is $\eta_\mathrm{eff} = L/(L + d(1 +
# \sigma^2)) =$ {glue:text}`rerun-eta-eff` here, against {glue:text}`rerun-eta-paper` at the
# paper's setting, and the claims below are judged against the new targets.

# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"
rerun = {"d": 10, "L": 80, "sigma2": 0.5}  # the other science of the example

# %% tags=["hide-input"]
from icl.pipeline import rerun as rerun_example

result = rerun_example.run(profile, device, rerun)
rerun_example.glue(result)
result.figure

# %% [markdown]
# The rerun's claims table, exactly as its chapter shows it:

# %% tags=["hide-input"]
result.claims.show()
