"""Reproducible companion to He, Pan, Chen, Yang (ICML 2025): in-context linear regression with
multi-head softmax attention. One module per concept:

data (prompt samplers) · models (the attention model) · baseline (the straightforward
implementation) · engine (fast training) · circuits (KQ/OV, ω, μ) · estimators (predictors and
ICL risk) · theory (closed forms) · experiments (configs and the result cache) · claims ·
profiles · plotting · pipeline (chapter execution).
"""

from .data import Prompts, TaskConfig, sample_prompts
from .engine import TrainConfig, resolve_device
from .experiments import RunConfig, TrainedRun, load_or_train, load_or_train_many, run_config
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
