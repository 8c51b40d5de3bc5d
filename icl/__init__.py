"""Reproducible companion to He, Pan, Chen, Yang (ICML 2025): in-context linear regression with
multi-head softmax attention. Five layers, bottom up; each imports only itself and the layers
below it (`tests/test_architecture.py` reads the import graph and checks it).

arithmetic
    the pinned kernel set (applied here, before torch and numpy load) and its record
core: the mathematics
    data (prompt samplers) · models (the attention model, KQ/OV in the authors' parametrisation) ·
    engine (fast training) · baseline (the authors' formulation) · circuits (KQ/OV, ω, μ, pattern
    metrics) · estimators (predictors, Monte Carlo ICL risk, paired comparisons) · theory (closed
    forms: L̃ (4.1), S(ω), η_eff, GD/dGD/Bayes risks) · dynamics (GD and gradient flow on L̃, the
    App. B flow) · optimality (Thm 4.2: the space Θ, its minimisers) · stats (fits) · binning
runs: a configuration and its trained result
    config (RunConfig, TrainedRun) · profiles (smoke, quick, paper) · store (the cache, atomic writes,
    the code's identity) · training (one group, checkpoints, provenance) · executors (local
    subprocesses or Slurm, through submitit) · publish (published models, read as cache hits) · load
    (load_or_train: cache, publication, or training)
book: the book's machinery
    budgets (each chapter's budget per profile and its tolerances with their origins) · claims
    (claims tables, the editions side by side) · chapter (the preamble: task, budget, tolerances,
    claims, glue, figures) · parameters (a chapter's parameters, checked before it runs) · plotting
    (the figure style) · format (numbers in prose)
chapters: one module (or package) per chapter, named like its notebook, each with one public face:
    Study(ch), numbers(st), claims(ch, st), plot_*(st) (icl/chapters/__init__.py says what each is)
    ch01_setup · ch02_observations · ch03_loss_approximation · ch04_training_stages ·
    ch05_gradient_flow · ch06_approximation_optimality · ch07_bayes_and_single_head ·
    ch08_linear_and_activations (with basins) · ch09_non_isotropic · ch10_multitask_superposition ·
    ch11_linear_attention_dynamics (with linear_softmax) · ch12_robustness (with grid, ood)
pipeline: running the book
    plan (the models each chapter needs; training what is missing) · execute (chapter execution,
    incremental and parallel) · verify (retrain a published model and compare) · bench (the
    training benchmark) · scorecard and rerun (the two book pages' numbers)
cli
    `icl chapters`, `icl plan`, `icl sweep`, `icl verify`, `icl publish-claims`, `icl bench`
"""

from . import arithmetic as _arithmetic

_arithmetic.pin()  # before torch and numpy are imported: see icl.arithmetic

from .core.data import Prompts, TaskConfig, sample_prompts  # noqa: E402  (after the pin)
from .core.engine import TrainConfig, resolve_device  # noqa: E402
from .core.models import AttentionModel, ModelConfig  # noqa: E402
from .runs.config import RunConfig, TrainedRun, run_config  # noqa: E402
from .runs.load import load_or_train, load_or_train_many  # noqa: E402
from .runs.profiles import get_profile  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "TaskConfig",
    "Prompts",
    "sample_prompts",
    "ModelConfig",
    "AttentionModel",
    "TrainConfig",
    "RunConfig",
    "TrainedRun",
    "load_or_train",
    "load_or_train_many",
    "run_config",
    "get_profile",
    "resolve_device",
]
