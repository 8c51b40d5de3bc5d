"""Frozen run configurations and the trained results they name.

A `RunConfig` is everything that determines a trained model; its `key()`, a hash of the config and
`CODE_VERSION`, names the model in the cache (`icl.runs.store`) and among the published results
(`icl.runs.publish`). A `TrainedRun` is one trained model with its history.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from ..core.binning import log_binned
from ..core.circuits import HeadPattern, extract
from ..core.data import TaskConfig
from ..core.engine import TrainConfig, resolve_device
from ..core.models import AttentionModel, ModelConfig

__all__ = ["CODE_VERSION", "FINAL_WINDOW", "LOSS_BINS", "RunConfig", "TrainedRun", "run_config", "group_key"]

# Bump when a change alters what a given config trains to (data stream, init, update rule).
CODE_VERSION = "1"
FINAL_WINDOW = 1000  # steps averaged by `TrainedRun.final_loss`
LOSS_BINS = 200  # log-spaced bins of a training-loss curve (and of a published run's)

# Fields added after the first published runs: `RunConfig.to_dict` leaves each out at its default
# (the dataclass's), so every earlier config keeps its key, and `from_dict` reads dicts without them.
ADDED_FIELDS = {
    "task": ("convention", "prior"),
    "model": ("init_scale",),
    "train": ("optimizer", "momentum", "alpha", "weight_decay"),
}
_PARTS = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a trained model."""

    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        d = asdict(self)
        for part, names in ADDED_FIELDS.items():  # added later: a default stays out of the key
            for name in names:
                if d[part][name] == getattr(_PARTS[part], name):  # the class attribute is the default
                    del d[part][name]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        t = dict(d["task"])
        if t.get("supports") is not None:
            t["supports"] = tuple(tuple(s) for s in t["supports"])
        tr = dict(d["train"])
        tr["betas"] = tuple(tr["betas"])
        return cls(TaskConfig(**t), ModelConfig(**d["model"]), TrainConfig(**tr))

    def key(self) -> str:
        """Content hash of the config and CODE_VERSION (16 hex digits)."""
        blob = json.dumps({"config": self.to_dict(), "version": CODE_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_seed(self, seed: int) -> RunConfig:
        return replace(self, train=replace(self.train, seed=seed))


def run_config(profile, *, heads: int = 2, seed: int = 0, task: TaskConfig | None = None, **model_kw) -> RunConfig:
    """A RunConfig with the paper's defaults and the profile's training budget."""
    return RunConfig(
        task=task or TaskConfig(),
        model=ModelConfig(heads=heads, **model_kw),
        train=TrainConfig(steps=profile.steps, batch=profile.batch, seed=seed),
    )


@dataclass
class TrainedRun:
    """A trained model with its history.

    factors: (4, H, D, D) = Q, K, V, O per head. losses: (steps,) training loss per step, or None
    for a published run (`icl.runs.publish`), which keeps only its log-binned curve `published_curve`
    (bin-centre steps, bin means) and the mean loss of its last `FINAL_WINDOW` steps.
    snapshot_steps: (S,); snapshot_kq, snapshot_ov: (S, H, D, D) circuits at those steps.
    """

    config: RunConfig
    factors: torch.Tensor
    losses: np.ndarray | None
    snapshot_steps: np.ndarray
    snapshot_kq: np.ndarray
    snapshot_ov: np.ndarray
    provenance: dict
    published_curve: tuple | None = None
    published_final_loss: float | None = None

    def model(self, device="cpu") -> AttentionModel:
        """The trained model as an `AttentionModel` with one model (M = 1)."""
        c = self.config
        m = AttentionModel(c.task.d, c.task.n_tasks, c.model, [0], L_train=c.task.L)
        with torch.no_grad():
            m.factors.copy_(self.factors[None])
        return m.to(resolve_device(device)).requires_grad_(False)

    def predictor(self, name: str | None = None, device="cpu"):
        from ..core.estimators import TransformerPredictor

        return TransformerPredictor(self.model(device), name=name or f"softmax H={self.config.model.heads}")

    @property
    def kq(self) -> np.ndarray:
        return self.snapshot_kq[-1]

    @property
    def ov(self) -> np.ndarray:
        return self.snapshot_ov[-1]

    def pattern(self) -> HeadPattern:
        """(ω_h, μ_h) and pattern metrics of the final model."""
        return extract(self.kq, self.ov, self.config.task.d)

    def history(self) -> HeadPattern:
        """The same at every snapshot (leading axis S)."""
        return extract(self.snapshot_kq, self.snapshot_ov, self.config.task.d)

    def final_loss(self, window: int = 1000) -> float:
        """Mean training loss over the last `window` steps."""
        if self.losses is None:
            if window != FINAL_WINDOW:
                raise ValueError(
                    f"a published run keeps the mean loss of its last {FINAL_WINDOW} steps only, got window={window}"
                )
            return float(self.published_final_loss)
        return float(np.mean(self.losses[-window:]))

    def loss_curve(self, n_bins: int = LOSS_BINS) -> tuple[np.ndarray, np.ndarray]:
        """The training loss as means over log-spaced bins of steps: (bin-centre steps, means)."""
        if self.losses is None:
            return self.published_curve
        return log_binned(self.losses, n_bins)


def group_key(configs: list[RunConfig]) -> str:
    """Hash naming a group of configs trained together (its checkpoint file, its progress lines)."""
    blob = json.dumps({"configs": [c.to_dict() for c in configs], "version": CODE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
