"""Training one group (the configs of one model configuration that differ only in their seed)
with the engine: checkpoints that resume, progress lines, and the provenance each model keeps.

Runs in progress checkpoint to <cache>/partial/<group>.pt (atomically) and resume from there; the
finished models go into the cache (`icl.runs.store`).
"""

from __future__ import annotations

import os
import platform
import socket
import time
from pathlib import Path

import numpy as np
import torch

from ..arithmetic import describe as describe_arithmetic
from ..core.engine import Trainer
from .config import CODE_VERSION, TrainedRun, group_key
from .store import git_state, write_entry

__all__ = ["train_group", "save_checkpoint", "load_checkpoint", "progress_line"]


def save_checkpoint(path: Path, trainer: Trainer, wall_before: float = 0.0, wall_start: float | None = None):
    """The trainer's state, with the training wall time so far (earlier segments plus this one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    wall = wall_before + (time.perf_counter() - wall_start if wall_start is not None else 0.0)
    torch.save({**trainer.state_dict(), "wall_seconds": torch.tensor(wall, dtype=torch.float64)}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, trainer: Trainer) -> float | None:
    """Restore `trainer` from `path`; the wall time the checkpoint records, or None (no usable checkpoint)."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
        trainer.load_state_dict(state)
        return float(state.get("wall_seconds", 0.0))
    except Exception:
        path.unlink(missing_ok=True)  # unreadable or foreign: start over
        return None


def _provenance(
    trainer: Trainer, wall: float, resumed_from: int, wall_total: float | None = None, git: dict | None = None
) -> dict:
    import importlib.metadata as md

    try:
        version = md.version("icl-demystified")
    except md.PackageNotFoundError:
        version = "unknown"
    return {
        "package_version": version,
        "code_version": CODE_VERSION,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "device": str(trainer.device),
        "device_name": torch.cuda.get_device_name(trainer.device)
        if trainer.device.type == "cuda"
        else platform.processor() or platform.machine(),
        "host": socket.gethostname(),
        "arithmetic": describe_arithmetic(trainer.device),
        "models_trained_together": trainer.n_models,
        "seeds_trained_together": list(trainer.seeds),
        "compiled": trainer.compiled,
        "wall_seconds": round(wall, 3),
        "wall_seconds_total": round(wall if wall_total is None else wall_total, 3),
        "model_steps_per_second": round((trainer.train.steps - resumed_from) * trainer.n_models / max(wall, 1e-9), 1),
        "resumed_from_step": resumed_from,
        **(git or {}),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def progress_line(configs, step: int, start: int, seconds: float) -> str:
    """'[train KEY H=2 relu] step 250,000 of 500,000 · 355 model-steps/s · 12 min left' (this segment's rate)."""
    c0, total = configs[0], configs[0].train.steps
    rate = (step - start) / max(seconds, 1e-9)  # steps/s
    left = (total - step) / max(rate, 1e-9) / 60
    return (
        f"[train {group_key(configs)} H={c0.model.heads} {c0.model.normalisation}] step {step:,} of {total:,} · "
        f"{rate * len(configs):.0f} model-steps/s · {left:.0f} min left"
    )


def train_group(
    configs, cache, device, progress, checkpoint_every, verbose, compile="auto", log_every=None
) -> list[TrainedRun]:
    """Train `configs` (one group) together into `cache`, resuming from its checkpoint; the trained runs."""
    c0 = configs[0]
    trainer = Trainer(c0.task, c0.model, c0.train, [c.train.seed for c in configs], device=device, compile=compile)
    ckpt = cache / "partial" / f"{group_key(configs)}.pt"
    git = git_state()  # the code that trains this segment (a resumed run records the last segment's)
    wall_before = load_checkpoint(ckpt, trainer)
    resumed = trainer.step if wall_before is not None else 0
    t0 = time.perf_counter()

    def on_chunk(tr):
        if tr.step < tr.train.steps:
            save_checkpoint(ckpt, tr, wall_before or 0.0, t0)
        if log_every and tr.step % log_every == 0:
            print(progress_line(configs, tr.step, resumed, time.perf_counter() - t0), flush=True)

    trainer.run(progress=progress, chunk=checkpoint_every, on_chunk=on_chunk)
    wall = time.perf_counter() - t0
    prov = _provenance(trainer, wall, resumed, (wall_before or 0.0) + wall, git)
    runs = []
    for m, c in enumerate(configs):
        run = TrainedRun(
            config=c,
            factors=trainer.theta[m].detach().cpu().clone(),
            losses=trainer.losses[:, m].cpu().numpy(),
            snapshot_steps=trainer.snap_steps.copy(),
            snapshot_kq=trainer.snap_kq[:, m].cpu().numpy(),
            snapshot_ov=trainer.snap_ov[:, m].cpu().numpy(),
            provenance=prov,
        )
        write_entry(cache, run)
        runs.append(run)
    ckpt.unlink(missing_ok=True)
    if verbose:
        steps = c0.train.steps - resumed
        print(
            f"trained {len(configs)} model(s) H={c0.model.heads} ({c0.model.normalisation}) for {steps} steps "
            f"on {trainer.device} in {wall:.1f} s ({steps * len(configs) / max(wall, 1e-9):.0f} model-steps/s)"
        )
    return runs
