"""The result cache: one directory per trained model, written atomically, checked when read.

Layout: <cache>/<key>/{arrays.safetensors, meta.json}, key = `RunConfig.key()`. An entry is written
into a temporary directory and renamed into place (`atomic_dir`, also used for published models),
so a reader sees all of it or none; meta.json records the SHA-256 of the arrays, and an entry whose
hash or config does not match is not read. Also here: the code's identity (git commit, source hash),
recorded with every trained model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..core.models import AttentionModel
from .config import CODE_VERSION, RunConfig, TrainedRun

__all__ = ["default_cache_dir", "sha256", "atomic_dir", "read_entry", "write_entry", "git_state", "icl_source_sha256"]


def default_cache_dir() -> Path:
    """$ICL_CACHE_DIR, else ~/.cache/icl-demystified."""
    return Path(os.environ.get("ICL_CACHE_DIR") or Path.home() / ".cache" / "icl-demystified")


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_entry(path: Path, config: RunConfig) -> TrainedRun | None:
    """The entry at `path` if it is complete and belongs to `config`, else None."""
    from safetensors.numpy import load_file

    try:
        meta = json.loads((path / "meta.json").read_text())
        arrays_path = path / "arrays.safetensors"
        if meta.get("version") != CODE_VERSION or meta.get("config") != json.loads(json.dumps(config.to_dict())):
            return None
        if sha256(arrays_path) != meta["sha256"]:
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
    return (
        a["losses"].shape == (config.train.steps,)
        and bool(np.isfinite(a["losses"]).all())
        and np.allclose(a["snapshot_kq"][-1], kq, rtol=1e-4, atol=1e-6)
        and np.allclose(a["snapshot_ov"][-1], ov, rtol=1e-4, atol=1e-6)
    )


@contextlib.contextmanager
def atomic_dir(final: Path, *, keep_if=None):
    """Write the directory `final` atomically: the body fills the yielded temporary sibling, whose
    files are then synced and renamed into place (replacing an old `final`); a reader sees the whole
    directory or none. keep_if: when the rename fails (another process renamed first), a callable
    that says whether the directory now there may stay; else the error is raised."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        yield tmp
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)  # atomic on one file system
        except OSError:
            if keep_if is None or not keep_if():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_entry(cache: Path, run: TrainedRun) -> Path:
    """Store `run` in `cache` as <cache>/<key> (atomically); returns the entry's directory."""
    from safetensors.numpy import save_file

    final = cache / run.config.key()
    # another process that wins the race to the same key leaves its entry when it is valid
    with atomic_dir(final, keep_if=lambda: read_entry(final, run.config) is not None) as tmp:
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
            "sha256": sha256(tmp / "arrays.safetensors"),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    return final


def git_state() -> dict:
    """The commit of the working tree this package runs from, whether `icl/` differs from it, and
    the SHA-256 of the package's source (`icl_source_sha256`: names the code also in a copy
    of the tree without its .git, e.g. on a lent GPU machine)."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
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
    pkg = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*.py")):
        h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()
