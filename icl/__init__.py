"""Reproducible companion to He, Pan, Chen, Yang (ICML 2025): in-context linear regression with
multi-head softmax attention. One module per concept; the chapter that uses a module most is in
brackets.

The model and its training
    data (prompt samplers) · models (the attention model, KQ/OV in the authors' parametrisation) ·
    baseline (the straightforward implementation) · engine (fast training) · bench (its benchmark)
    · arithmetic (the pinned kernel set, and its record)
Runs (`icl.runs`, importing only the modules above)
    config (RunConfig, TrainedRun) · store (the cache, atomic writes, the code's identity) ·
    training (one group, checkpoints, provenance) · executors (local subprocesses or Slurm, through
    submitit) · publish (published models, read as cache hits) · load (load_or_train: cache,
    publication, or training)
Reading a model
    circuits (KQ/OV, ω, μ, pattern metrics) · estimators (predictors, Monte Carlo ICL risk, paired
    comparisons) · stats (fits)
The theory
    theory (closed forms: L̃ (4.1), S(ω), η_eff, GD/dGD/Bayes risks, the App. B flow) · dynamics
    (GD and gradient flow on L̃) · landscape (true vs approximate loss) · optimality (Thm 4.2)
One analysis module per chapter
    setup [01] · observations [02] · landscape [03] · stages [04] · dynamics [05] · optimality
    [06, 07] · activations (softmax against linear attention, normalised activations) [08] ·
    preconditioning [09] · multitask [10] · linear_dynamics (the related linear-attention paper's
    flow) and linear_softmax (its softmax versions) [11] · rerun_example [the rerun page]
The book
    chapter (the preamble: task, budget, tolerances, claims, glue, figures) · budgets (each
    chapter's budget per profile and its tolerances with their origins) · claims (claims tables,
    the editions side by side) · scorecard (the scorecard page's numbers) · profiles (smoke,
    quick, paper) · plotting (the book's figure style) · pipeline (chapter execution, incremental
    and parallel) · parameters (a chapter's parameters, read from its parameters cell and checked
    before it runs) · plan (the models each chapter needs; training what is missing) · verify (retrain a published model and compare) · cli (`icl chapters`,
    `icl plan`, `icl sweep`, `icl verify`, `icl publish-claims`, `icl bench`)
"""

from . import arithmetic as _arithmetic

_arithmetic.pin()  # before torch and numpy are imported: see icl.arithmetic

from .data import Prompts, TaskConfig, sample_prompts
from .engine import TrainConfig, resolve_device
from .runs.config import RunConfig, TrainedRun, run_config
from .runs.load import load_or_train, load_or_train_many
from .models import AttentionModel, ModelConfig
from .profiles import get_profile

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
