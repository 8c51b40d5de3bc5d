"""Published results: trained models kept in the repository, read back as cache hits.

A published model lives in `<results>/<profile>/models/<key>/` (key: `RunConfig.key()`, the cache
key) as two files:

- `arrays.safetensors`: final weights `factors` (4, H, D, D), the snapshot circuits
  `snapshot_kq`, `snapshot_ov` (S, H, D, D) at `snapshot_steps` (S,), the training loss as means
  over log-spaced bins `loss_mean` at bin-centre steps `loss_steps` (no per-step arrays);
- `meta.json`: the config, CODE_VERSION, the metrics the chapters read (final loss over the last
  `FINAL_WINDOW` steps, per-head ω_h, μ_h), the provenance of training (code commit, torch, machine,
  wall time, model-steps/s), the environment lock it was made with, and the arrays' SHA-256.

`icl verify` retrains a published model, or its first N steps, and compares every snapshot and
loss bin inside that prefix with the published ones (bit for bit for an eager CPU run).

`<results>` is `$ICL_RESULTS_DIR`, else the repository's `results/`. `icl.runs.load` looks here
after its cache, so a chapter run at the paper profile renders from the published models
without training; `ICL_PUBLISHED=0` ignores them (e.g. to retrain).

A publication made for another code version or configuration is stale: it is ignored (the model is
trained). One that is damaged (a file missing or unreadable, or arrays whose SHA-256 is not the one
meta.json records) raises `CorruptPublication`, naming the file and how to restore it
(`git checkout -- results/<profile>/models/<key>`), instead of silently retraining a model that may
take hours; `ICL_RETRAIN_CORRUPT=1` ignores a damaged publication, so that the model is retrained
(and, by `icl plan --train --publish`, published again).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import torch

from .config import CODE_VERSION, FINAL_WINDOW, TrainedRun
from .store import atomic_dir, git_state, sha256

__all__ = [
    "results_dir",
    "published_path",
    "publish_run",
    "read_published",
    "published_keys",
    "lock_digest",
    "training_summary",
    "CorruptPublication",
]

ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = ROOT / "requirements.lock"


def results_dir() -> Path:
    """$ICL_RESULTS_DIR, else the repository's results/."""
    return Path(os.environ.get("ICL_RESULTS_DIR") or ROOT / "results")


def _enabled() -> bool:
    return os.environ.get("ICL_PUBLISHED", "1") not in ("0", "false", "no")


def _retrain_corrupt() -> bool:
    return os.environ.get("ICL_RETRAIN_CORRUPT", "0") not in ("", "0", "false", "no")


class CorruptPublication(ValueError):
    """A published model whose files exist but are damaged: `path` (its directory), `problem`."""


def _corrupt(path: Path, problem: str) -> CorruptPublication:
    """The error for the damaged publication at `path` (one line: `icl chapters` prints the last)."""
    where = path.relative_to(path.parents[3]) if len(path.parents) > 3 else path  # results/<profile>/models/<key>
    in_repo = path.resolve().is_relative_to(ROOT / "results")
    shown = str(where) if in_repo else str(path)
    restore = (
        f"restore it with `git checkout -- {where}`"
        if in_repo
        else f"restore it from the repository (`git checkout -- results/{path.relative_to(path.parents[2])}`)"
    )
    e = CorruptPublication(
        f"the published model {shown} is corrupt: {problem}; {restore}, or set "
        f"ICL_RETRAIN_CORRUPT=1 to retrain it instead (hours at the paper budget)"
    )
    e.path, e.problem = path, problem
    return e


def published_path(key: str, root: Path | None = None) -> Path | None:
    """The directory of the published model `key` under any profile, or None."""
    root = results_dir() if root is None else Path(root)
    if not root.is_dir():
        return None
    for p in sorted(root.glob(f"*/models/{key}")):
        if p.is_dir():
            return p
    return None


def published_keys(profile: str, root: Path | None = None) -> list[str]:
    """Keys of the models published under `profile`."""
    d = (results_dir() if root is None else Path(root)) / profile / "models"
    return sorted(p.name for p in d.iterdir() if (p / "meta.json").exists()) if d.is_dir() else []


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_digest() -> dict:
    """The environment lock file's name and SHA-256, and whether this Python's installed packages
    are the locked versions (`lock_differs`: name → [installed, locked] where not)."""
    import importlib.metadata as md

    if not LOCK_FILE.exists():
        return {"lock_file": None}
    text = LOCK_FILE.read_text()
    locked = {_norm(n): v for n, v in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, flags=re.M)}
    installed = {_norm(d.metadata["Name"]): d.version for d in md.distributions() if d.metadata["Name"]}
    differs = {n: [installed.get(n), v] for n, v in locked.items() if installed.get(n) != v}
    return {
        "lock_file": LOCK_FILE.name,
        "lock_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "installed_matches_lock": not differs,
        "lock_differs": differs,
    }


def profile_of(config) -> str:
    """The profile whose training budget `config` has (steps and batch), else "custom"."""
    from .profiles import PROFILES

    for p in PROFILES.values():
        if (config.train.steps, config.train.batch) == (p.steps, p.batch):
            return p.name
    return "custom"


def publish_run(run, root: Path | str | None = None, profile: str | None = None) -> Path:
    """Write `run` (a cached `TrainedRun` with per-step losses) as a published model; atomic, like
    the cache: a reader sees the whole entry or none. Returns its directory."""
    from safetensors.numpy import save_file

    if run.losses is None:
        raise ValueError("publish_run needs a run with its per-step losses (from the cache, not a published one)")
    root = results_dir() if root is None else Path(root)
    key = run.config.key()
    final = root / (profile or profile_of(run.config)) / "models" / key
    steps, means = run.loss_curve()
    pat = run.pattern()
    arrays = {
        "factors": np.ascontiguousarray(run.factors.cpu().numpy(), dtype=np.float32),
        "snapshot_steps": np.ascontiguousarray(run.snapshot_steps, dtype=np.int64),
        "snapshot_kq": np.ascontiguousarray(run.snapshot_kq, dtype=np.float32),
        "snapshot_ov": np.ascontiguousarray(run.snapshot_ov, dtype=np.float32),
        "loss_steps": np.ascontiguousarray(steps, dtype=np.float64),
        "loss_mean": np.ascontiguousarray(means, dtype=np.float64),
    }
    with atomic_dir(final) as tmp:
        save_file(arrays, str(tmp / "arrays.safetensors"))
        meta = {
            "key": key,
            "version": CODE_VERSION,
            "config": run.config.to_dict(),
            "metrics": {
                f"final_loss_last_{FINAL_WINDOW}": run.final_loss(FINAL_WINDOW),
                "omega": [float(w) for w in np.ravel(pat.omega)],
                "mu": [float(m) for m in np.ravel(pat.mu)],
            },
            "provenance": run.provenance,
            "published": {**git_state(), "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
            "environment": lock_digest(),
            "sha256": sha256(tmp / "arrays.safetensors"),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return final


def read_published(config, root: Path | None = None):
    """The published `TrainedRun` of `config`, or None (none, disabled, or stale: made for another
    config or code version). Raises CorruptPublication for a damaged one (a file missing or
    unreadable, arrays whose hash differs from the one recorded), unless ICL_RETRAIN_CORRUPT=1."""
    if not _enabled():
        return None
    path = published_path(config.key(), root)
    if path is None:
        return None
    try:
        meta = json.loads((path / "meta.json").read_text())
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        return _damaged(path, f"meta.json cannot be read ({type(e).__name__}: {e})")
    if meta.get("version") != CODE_VERSION or meta.get("config") != json.loads(json.dumps(config.to_dict())):
        return None  # stale: made for another code version or configuration
    try:
        return _load_published(config, path, meta)
    except CorruptPublication as e:
        return _damaged(path, e.problem)


def _damaged(path: Path, problem: str):
    """Raise CorruptPublication, or with ICL_RETRAIN_CORRUPT=1 warn and return None (retrain)."""
    e = _corrupt(path, problem)
    if not _retrain_corrupt():
        raise e
    import warnings

    warnings.warn(
        f"ICL_RETRAIN_CORRUPT=1: retraining the published model {path.name}, which is corrupt: {problem}", stacklevel=3
    )
    return None


def _load_published(config, path: Path, meta: dict):
    from safetensors.numpy import load_file

    arrays = path / "arrays.safetensors"
    try:
        found = sha256(arrays)
    except OSError as e:
        raise _corrupt(path, f"arrays.safetensors cannot be read ({type(e).__name__}: {e})") from None
    if found != meta.get("sha256"):
        raise _corrupt(
            path,
            f"arrays.safetensors fails its SHA-256 check (meta.json records {meta.get('sha256')}, "
            f"the file has {found})",
        )
    try:
        a = load_file(str(arrays))
        return TrainedRun(
            config=config,
            factors=torch.from_numpy(a["factors"]),
            losses=None,
            snapshot_steps=a["snapshot_steps"],
            snapshot_kq=a["snapshot_kq"],
            snapshot_ov=a["snapshot_ov"],
            provenance={
                **meta["provenance"],
                "published": str(path.relative_to(path.parents[2])),
                "environment": meta.get("environment"),
            },
            published_curve=(a["loss_steps"], a["loss_mean"]),
            published_final_loss=meta["metrics"][f"final_loss_last_{FINAL_WINDOW}"],
        )
    except Exception as e:  # wrong keys, unreadable arrays: the files do not hold a publication
        raise _corrupt(path, f"its files cannot be read as a publication ({type(e).__name__}: {e})") from None


def training_summary(profile: str = "paper", root: Path | None = None):
    """One row per published group of `profile` (models trained together share a provenance):
    configuration, models, wall time (all segments), model-steps/s, device, commit, finished.
    Returns a pandas DataFrame (empty when nothing is published)."""
    import pandas as pd

    d = (results_dir() if root is None else Path(root)) / profile / "models"
    groups = {}
    for meta_path in sorted(d.glob("*/meta.json")) if d.is_dir() else []:
        meta = json.loads(meta_path.read_text())
        c, prov = meta["config"], meta["provenance"]
        t, m = c["task"], c["model"]
        label = (
            f"H={m['heads']} {m['normalisation']}"
            + ("" if m["init"] == "default" else f" {m['init']}")
            + f" d={t['d']} L={t['L']}"
            + ("" if t["covariance"] == "isotropic" else f" {t['covariance']} ρ={t['rho']:g}")
            + (f" T={len(t['supports'])}" if t.get("supports") else "")
        )
        g = groups.setdefault(
            (label, prov.get("finished")),
            {"configuration": label, "models": 0, "seeds": [], "steps": c["train"]["steps"], "prov": prov},
        )
        g["models"] += 1
        g["seeds"].append(c["train"]["seed"])
    rows = []
    for g in groups.values():
        p = g["prov"]
        rows.append(
            {
                "configuration": g["configuration"],
                "seeds": ",".join(map(str, sorted(g["seeds"]))),
                "model-steps": g["models"] * g["steps"],
                "wall (min)": p.get("wall_seconds_total", p["wall_seconds"]) / 60,
                "model-steps/s": g["models"] * g["steps"] / max(p.get("wall_seconds_total", p["wall_seconds"]), 1e-9),
                "device": p.get("device_name", p["device"]),
                "commit": (p.get("git_commit") or "")[:10],
                "finished": p.get("finished", ""),
            }
        )
    return pd.DataFrame(rows)
