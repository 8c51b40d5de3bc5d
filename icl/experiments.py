"""Frozen run configurations and a cache of trained results keyed by their hash.

`load_or_train(config)` returns the cached `TrainedRun` when there is a valid entry, else trains
it (with the engine) and stores it. `load_or_train_many(configs)` batches every group of
configurations that differ only in the seed into one engine run (one optimiser step for all).

Cache layout, one directory per run: <cache>/<key>/{arrays.safetensors, meta.json}. The key
hashes the full config and CODE_VERSION. An entry is written into a temporary directory and
renamed into place, so a reader sees all of it or none; meta.json records the SHA-256 of the
arrays, and an entry whose hash or config does not match is deleted and retrained. Runs in
progress checkpoint to <cache>/partial/<group>.pt (atomically) and resume from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import socket
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .arithmetic import describe as describe_arithmetic
from .circuits import HeadPattern, extract
from .data import TaskConfig
from .engine import TrainConfig, Trainer, resolve_device
from .models import AttentionModel, ModelConfig

__all__ = ["CODE_VERSION", "RunConfig", "TrainedRun", "cached_run", "load_or_train", "load_or_train_many", "default_cache_dir",
           "run_config"]

# Bump when a change alters what a given config trains to (data stream, init, update rule).
CODE_VERSION = "1"
FINAL_WINDOW = 1000  # steps averaged by `TrainedRun.final_loss`
LOSS_BINS = 200  # log-spaced bins of a training-loss curve (and of a published run's)


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a trained model."""

    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["task"].get("convention") == "paper":  # added later: the default stays out of the key
            del d["task"]["convention"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
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

    def with_seed(self, seed: int) -> "RunConfig":
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
    for a published run (`icl.publish`), which keeps only its log-binned curve `published_curve`
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
        from .estimators import TransformerPredictor

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
                raise ValueError(f"a published run keeps the mean loss of its last {FINAL_WINDOW} steps only, got window={window}")
            return float(self.published_final_loss)
        return float(np.mean(self.losses[-window:]))

    def loss_curve(self, n_bins: int = LOSS_BINS) -> tuple[np.ndarray, np.ndarray]:
        """The training loss as means over log-spaced bins of steps: (bin-centre steps, means)."""
        if self.losses is None:
            return self.published_curve
        from .plotting import log_binned

        return log_binned(self.losses, n_bins)


def default_cache_dir() -> Path:
    """$ICL_CACHE_DIR, else ~/.cache/icl-demystified."""
    return Path(os.environ.get("ICL_CACHE_DIR") or Path.home() / ".cache" / "icl-demystified")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_entry(path: Path, config: RunConfig) -> TrainedRun | None:
    """The entry at `path` if it is complete and belongs to `config`, else None."""
    from safetensors.numpy import load_file

    try:
        meta = json.loads((path / "meta.json").read_text())
        arrays_path = path / "arrays.safetensors"
        if meta.get("version") != CODE_VERSION or meta.get("config") != json.loads(json.dumps(config.to_dict())):
            return None
        if _sha256(arrays_path) != meta["sha256"]:
            return None
        a = load_file(str(arrays_path))
        if not _consistent(a, config):
            return None
        return TrainedRun(
            config=config,
            factors=torch.from_numpy(a["factors"]),
            losses=a["losses"],
            snapshot_steps=a["snapshot_steps"],
            snapshot_kq=a["snapshot_kq"],
            snapshot_ov=a["snapshot_ov"],
            provenance=meta["provenance"],
        )
    except Exception:  # missing file, truncated JSON or arrays, wrong keys: not a valid entry
        return None


def _consistent(a: dict, config: RunConfig) -> bool:
    """The last snapshot's circuits are those of the stored weights, and the losses are finite:
    catches entries whose arrays were scrambled (as written before the contiguity fix)."""
    m = AttentionModel(config.task.d, config.task.n_tasks, config.model, [0], L_train=config.task.L)
    with torch.no_grad():
        m.factors.copy_(torch.from_numpy(a["factors"])[None])
        kq, ov = m.kq()[0].numpy(), m.ov()[0].numpy()
    return (a["losses"].shape == (config.train.steps,) and bool(np.isfinite(a["losses"]).all())
            and np.allclose(a["snapshot_kq"][-1], kq, rtol=1e-4, atol=1e-6)
            and np.allclose(a["snapshot_ov"][-1], ov, rtol=1e-4, atol=1e-6))


def _write_entry(cache: Path, run: TrainedRun) -> Path:
    from safetensors.numpy import save_file

    final = cache / run.config.key()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=cache))
    try:
        # contiguous copies: safetensors writes a strided view's underlying buffer, which for a
        # model m of a batched run interleaves the other models' numbers
        arrays = {
            "factors": np.ascontiguousarray(run.factors.cpu().numpy(), dtype=np.float32),
            "losses": np.ascontiguousarray(run.losses, dtype=np.float32),
            "snapshot_steps": np.ascontiguousarray(run.snapshot_steps, dtype=np.int64),
            "snapshot_kq": np.ascontiguousarray(run.snapshot_kq, dtype=np.float32),
            "snapshot_ov": np.ascontiguousarray(run.snapshot_ov, dtype=np.float32),
        }
        save_file(arrays, str(tmp / "arrays.safetensors"))
        meta = {
            "key": final.name,
            "version": CODE_VERSION,
            "config": run.config.to_dict(),
            "provenance": run.provenance,
            "sha256": _sha256(tmp / "arrays.safetensors"),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)  # atomic on one file system
        except OSError:
            if _read_entry(final, run.config) is None:  # another process won the race: keep its
                raise  # entry when it is valid
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _group_key(configs: list[RunConfig]) -> str:
    blob = json.dumps({"configs": [c.to_dict() for c in configs], "version": CODE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _save_checkpoint(path: Path, trainer: Trainer, wall_before: float = 0.0, wall_start: float | None = None):
    """The trainer's state, with the training wall time so far (earlier segments plus this one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    wall = wall_before + (time.perf_counter() - wall_start if wall_start is not None else 0.0)
    torch.save({**trainer.state_dict(), "wall_seconds": torch.tensor(wall, dtype=torch.float64)}, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, trainer: Trainer) -> float | None:
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


def _git_state() -> dict:
    """The commit of the working tree this package runs from, whether `icl/` differs from it, and
    the SHA-256 of the package's source (`icl_source_sha256`: names the code also in a copy
    of the tree without its .git, e.g. on a lent GPU machine)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    state = {"git_commit": None, "icl_source_sha256": icl_source_sha256()}
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(root), *a], capture_output=True, text=True, timeout=10)  # noqa: E731
        head = run("rev-parse", "HEAD")
        if head.returncode != 0:
            return state
        dirty = run("status", "--porcelain", "--", "icl").stdout.strip() != ""
        return {**state, "git_commit": head.stdout.strip(), "git_icl_modified": dirty}
    except (OSError, subprocess.SubprocessError):
        return state


def icl_source_sha256() -> str:
    """SHA-256 over the package's .py files (path and bytes, in path order)."""
    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*.py")):
        h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _provenance(trainer: Trainer, wall: float, resumed_from: int, wall_total: float | None = None,
                git: dict | None = None) -> dict:
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
        "device_name": torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else platform.processor() or platform.machine(),
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


def load_or_train_many(
    configs,
    *,
    cache_dir: str | os.PathLike | None = None,
    device="auto",
    progress: bool = False,
    checkpoint_every: int = 5_000,
    max_models: int = 16,
    verbose: bool = True,
    compile="auto",
    executor=None,
    log_every: int | None = None,
) -> list[TrainedRun]:
    """Cached results for every config, training the missing ones.

    Missing configs that differ only in their seed are trained together (up to `max_models`
    at a time) by one `Trainer`; each gets the result it would get alone, to float32 rounding (see
    `icl.engine`; retraining the same group reproduces it bit for bit). compile: see
    `Trainer` (an execution detail like the device: not part of the cache key, in the provenance).
    executor: None trains here, one group after another; a submitit executor (`icl.executors.
    make_executor`: local subprocesses or Slurm) runs one job per group and waits for them.
    log_every: print a progress line every this many steps (a multiple of checkpoint_every), for
    logs of long runs where no progress bar is read.
    """
    configs = list(configs)
    if log_every is not None and (isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1
                                  or log_every % checkpoint_every):
        raise ValueError(f"log_every must be None or a positive multiple of checkpoint_every ({checkpoint_every}), "
                         f"got {log_every!r}")
    for c in configs:
        if not isinstance(c, RunConfig):
            raise ValueError(f"configs must be RunConfig objects, got {type(c).__name__}")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    results: dict[str, TrainedRun] = {}
    missing: dict[str, list[RunConfig]] = {}
    for c in configs:
        k = c.key()
        if k in results:
            continue
        run = cached_run(c, cache)
        if run is None:
            group = c.with_seed(0).key()
            if c not in missing.setdefault(group, []):
                missing[group].append(c)
        else:
            results[k] = run
    groups = [g[i : i + max_models] for g in missing.values() for i in range(0, len(g), max_models)]
    if executor is not None and groups:
        from .executors import submit_groups

        submit_groups(groups, executor, cache_dir=cache, device=device, checkpoint_every=checkpoint_every,
                      compile=compile, progress=progress)
        for g in groups:
            for c in g:
                run = _read_entry(cache / c.key(), c)
                if run is None:
                    raise RuntimeError(f"job for {c.key()} finished but its cache entry is missing or invalid")
                results[c.key()] = run
        groups = []
    for group in groups:
        for run in _train_group(group, cache, device, progress, checkpoint_every, verbose, compile, log_every):
            results[run.config.key()] = run
    return [results[c.key()] for c in configs]


def cached_run(config: RunConfig, cache_dir=None) -> TrainedRun | None:
    """The valid cache entry of `config`, else its published model (`icl.publish`), else None. An
    invalid cache entry is deleted (never read; the config is retrained)."""
    from .publish import read_published

    entry = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / config.key()
    if entry.exists():
        run = _read_entry(entry, config)
        if run is not None:
            return run
        shutil.rmtree(entry, ignore_errors=True)
    return read_published(config)


def load_or_train(config: RunConfig, **kw) -> TrainedRun:
    """The cached result of `config`, trained and stored first if needed (see load_or_train_many)."""
    return load_or_train_many([config], **kw)[0]


def _progress_line(configs, step: int, start: int, seconds: float) -> str:
    """'[train KEY H=2 relu] step 250,000 of 500,000 · 355 model-steps/s · 12 min left' (this segment's rate)."""
    c0, total = configs[0], configs[0].train.steps
    rate = (step - start) / max(seconds, 1e-9)  # steps/s
    left = (total - step) / max(rate, 1e-9) / 60
    return (f"[train {_group_key(configs)} H={c0.model.heads} {c0.model.normalisation}] step {step:,} of {total:,} · "
            f"{rate * len(configs):.0f} model-steps/s · {left:.0f} min left")


def _train_group(configs, cache, device, progress, checkpoint_every, verbose, compile="auto",
                 log_every=None) -> list[TrainedRun]:
    c0 = configs[0]
    trainer = Trainer(c0.task, c0.model, c0.train, [c.train.seed for c in configs], device=device, compile=compile)
    ckpt = cache / "partial" / f"{_group_key(configs)}.pt"
    git = _git_state()  # the code that trains this segment (a resumed run records the last segment's)
    wall_before = _load_checkpoint(ckpt, trainer)
    resumed = trainer.step if wall_before is not None else 0
    t0 = time.perf_counter()

    def on_chunk(tr):
        if tr.step < tr.train.steps:
            _save_checkpoint(ckpt, tr, wall_before or 0.0, t0)
        if log_every and tr.step % log_every == 0:
            print(_progress_line(configs, tr.step, resumed, time.perf_counter() - t0), flush=True)

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
        _write_entry(cache, run)
        runs.append(run)
    ckpt.unlink(missing_ok=True)
    if verbose:
        steps = c0.train.steps - resumed
        print(
            f"trained {len(configs)} model(s) H={c0.model.heads} ({c0.model.normalisation}) for {steps} steps "
            f"on {trainer.device} in {wall:.1f} s ({steps * len(configs) / max(wall, 1e-9):.0f} model-steps/s)"
        )
    return runs
