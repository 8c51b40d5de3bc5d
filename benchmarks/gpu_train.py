"""Train a pickled list of `icl.pipeline.plan.Group`s on a GPU until a deadline; publish each group as it ends.

For a GPU lent for a few minutes (`benchmarks/gpu_session.sh`): `icl plan --train` with a wall-clock
deadline, a group that fails logged rather than fatal, and at the deadline the step every unfinished
group's checkpoint reached (its rate). Groups are taken in the pickled order.

    python benchmarks/gpu_train.py groups.pkl --workers 5 --deadline-s 480 --publish-dir pub
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import time
import traceback
from pathlib import Path


def _train_one(configs, cache_dir, device, publish_dir, profile=None, compile="auto"):
    """One group: train (or resume) into the cache, publish it; (its keys, its wall time)."""
    from icl.runs.load import load_or_train_many
    from icl.runs.publish import publish_run

    t0 = time.perf_counter()
    runs = load_or_train_many(configs, cache_dir=cache_dir, device=device, compile=compile, log_every=50_000)
    for r in runs:
        if r.losses is not None:  # None: read from a publication
            publish_run(r, publish_dir, profile)
    return [c.key() for c in configs], time.perf_counter() - t0


def _work(args):
    try:
        return "ok", _train_one(*args)
    except Exception:
        return "error", (args[0][0].key(), traceback.format_exc())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("groups")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--deadline-s", type=float, required=True)
    p.add_argument("--publish-dir", required=True)
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--device", default="cuda")
    a = p.parse_args()
    t0 = time.time()
    groups = pickle.loads(Path(a.groups).read_bytes())
    todo = [(g.configs, a.cache_dir, a.device, a.publish_dir, g.profile, "auto") for g in groups]
    print(f"[gpu_train] {len(todo)} group(s), {a.workers} at a time, deadline {a.deadline_s:.0f} s", flush=True)
    pool = multiprocessing.get_context("spawn").Pool(a.workers, maxtasksperchild=1)
    it = pool.imap_unordered(_work, todo)
    done = 0
    while done < len(todo):
        left = a.deadline_s - (time.time() - t0)
        if left <= 0:
            break
        try:
            status, res = it.next(timeout=left)
        except multiprocessing.TimeoutError:
            break
        done += 1
        if status == "ok":
            keys, wall = res
            print(
                f"[gpu_train] t={time.time() - t0:.0f}s group of {len(keys)} done in {wall:.0f} s: {keys}", flush=True
            )
        else:
            print(f"[gpu_train] t={time.time() - t0:.0f}s group {res[0]} FAILED\n{res[1]}", flush=True)
    elapsed = time.time() - t0
    from icl.pipeline.plan import _checkpoint_step
    from icl.runs.load import cached_run

    for g in groups:
        missing = [c for c in g.configs if cached_run(c, Path(a.cache_dir)) is None]
        if missing:
            step = _checkpoint_step(missing, Path(a.cache_dir))
            print(
                f"[gpu_train] unfinished {g.key} {g.label()}: checkpoint at step {step} after {elapsed:.0f} s",
                flush=True,
            )
    pool.terminate()
    print(f"[gpu_train] stopped at t={elapsed:.0f}s, {done} of {len(todo)} group(s) ended", flush=True)


if __name__ == "__main__":
    main()
