"""Training one group (the configs of one model configuration that differ only in their seed), or
several groups on one shared prompt stream (`icl.core.shared_stream`), with the engine: checkpoints
that resume, progress lines, and the provenance each model keeps.

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
from ..core.shared_stream import stream_key, train_shared
from .config import CODE_VERSION, TrainedRun, group_key
from .store import git_state, write_entry

__all__ = [
    "train_group",
    "train_groups",
    "stream_of",
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_path",
    "checkpoint_step",
    "progress_line",
]


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


def checkpoint_path(configs, cache) -> Path:
    """Where a training of exactly `configs` (one group) checkpoints in `cache`."""
    return Path(cache) / "partial" / f"{group_key(configs)}.pt"


def checkpoint_step(configs, cache) -> int | None:
    """The step of the checkpoint a training of exactly `configs` (one group) would resume from, if any."""
    ckpt = checkpoint_path(configs, cache) if configs else None
    if ckpt is None or not ckpt.exists():
        return None
    try:
        return int(torch.load(ckpt, weights_only=True, map_location="cpu")["step"])
    except Exception:
        return None


def _provenance(
    trainer: Trainer,
    wall: float,
    resumed_from: int,
    wall_total: float | None = None,
    git: dict | None = None,
    shared: dict | None = None,
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
        **(shared or {}),
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


def stream_of(configs) -> tuple:
    """What fixes a group's prompt stream (task, batch size, seeds): groups with one stream can train together."""
    c0 = configs[0]
    return (c0.task, c0.train.batch, tuple(c.train.seed for c in configs))


def train_group(
    configs, cache, device, progress, checkpoint_every, verbose, compile="auto", log_every=None
) -> list[TrainedRun]:
    """Train `configs` (one group) together into `cache`, resuming from its checkpoint; the trained runs."""
    return train_groups([configs], cache, device, progress, checkpoint_every, verbose, compile, log_every)[0]


def train_groups(
    groups,
    cache,
    device,
    progress=False,
    checkpoint_every=5_000,
    verbose=True,
    compile="auto",
    log_every=None,
    on_steps=None,
    prefetch=None,
) -> list[list[TrainedRun]]:
    """Train `groups` (lists of configs, one group each) on one shared prompt stream into `cache`, each
    resuming from its own checkpoint; every model is bit for bit what its group trains alone. The
    groups must share task, batch size and seeds (`stream_of`). on_steps(n): n more model-steps done.
    prefetch: draw the next batch in a second thread (default: on a CPU; see `train_shared`).
    Returns each group's trained runs."""
    groups = [list(g) for g in groups]
    if len({stream_of(g) for g in groups}) > 1:
        raise ValueError("groups must share one prompt stream (task, batch size and seeds) to train together")
    trainers, ckpts, walls = [], [], []
    for configs in groups:
        c0 = configs[0]
        tr = Trainer(c0.task, c0.model, c0.train, [c.train.seed for c in configs], device=device, compile=compile)
        ckpt = checkpoint_path(configs, cache)
        walls.append(load_checkpoint(ckpt, tr))
        trainers.append(tr)
        ckpts.append(ckpt)
    assert len({stream_key(t) for t in trainers}) == 1
    resumed = [tr.step if w is not None else 0 for tr, w in zip(trainers, walls)]
    git = git_state()  # the code that trains this segment (a resumed run records the last segment's)
    t0 = time.perf_counter()
    index = {id(tr): i for i, tr in enumerate(trainers)}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total = sum(tr.train.steps * tr.n_models for tr in trainers)
        bar = tqdm(
            total=total,
            initial=sum(tr.step * tr.n_models for tr in trainers),
            unit="model-step",
            desc=f"train {len(groups)} group(s)",
            mininterval=1.0,
        )

    def report(n):
        if bar is not None:
            bar.update(n)
        if on_steps is not None:
            on_steps(n)

    def on_chunk(tr):
        i = index[id(tr)]
        if tr.step < tr.train.steps:
            save_checkpoint(ckpts[i], tr, walls[i] or 0.0, t0)
        if log_every and tr.step % log_every == 0:
            print(progress_line(groups[i], tr.step, resumed[i], time.perf_counter() - t0), flush=True)

    try:
        train_shared(trainers, chunk=checkpoint_every, on_chunk=on_chunk, on_steps=report, prefetch=prefetch)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    keys = [group_key(g) for g in groups]
    out = []
    for i, (configs, tr) in enumerate(zip(groups, trainers)):
        shared = {
            "prompt_stream_shared_with": [k for j, k in enumerate(keys) if j != i],
            "models_on_the_stream": sum(t.n_models for t in trainers),
        }
        prov = _provenance(tr, wall, resumed[i], (walls[i] or 0.0) + wall, git, shared)
        runs = []
        for m, c in enumerate(configs):
            run = TrainedRun(
                config=c,
                factors=tr.theta[m].detach().cpu().clone(),
                losses=tr.losses[:, m].cpu().numpy(),
                snapshot_steps=tr.snap_steps.copy(),
                snapshot_kq=tr.snap_kq[:, m].cpu().numpy(),
                snapshot_ov=tr.snap_ov[:, m].cpu().numpy(),
                provenance=prov,
            )
            write_entry(cache, run)
            runs.append(run)
        ckpts[i].unlink(missing_ok=True)
        out.append(runs)
        if verbose:
            c0, steps = configs[0], configs[0].train.steps - resumed[i]
            print(
                f"trained {len(configs)} model(s) H={c0.model.heads} ({c0.model.normalisation}) for {steps} steps "
                f"on {tr.device} in {wall:.1f} s, on a prompt stream shared by {len(groups)} group(s)"
            )
    return out
