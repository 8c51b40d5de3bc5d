"""The plan's training spread over every core: groups on one prompt stream go together, the work is
cut into pieces of balanced measured cost, the pieces run in worker processes longest first, and one
progress bar counts the whole plan's model-steps with its projected finish.

- **Measured cost**: `probe` times a few engine steps of each group alone, its draw (and transform)
  and its update apart: a piece costs one draw per step and the updates of its groups.
- **Pieces**: groups with one prompt stream (`icl.runs.training.stream_of`) form a bundle; a bundle
  costing more than the plan's total over the workers is cut into that many pieces, its groups dealt
  longest first to the cheapest piece. A piece trains with `train_groups` (one draw per step, every
  model bit for bit as its group alone) and checkpoints every group; a rerun resumes.
- **Schedule**: pieces longest first onto `workers` processes (LPT); `projected_seconds` gives the
  makespan of that schedule for given piece durations.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue as queue_mod
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Piece", "probe", "make_pieces", "projected_seconds", "run_pieces", "train_missing"]


@dataclass
class Piece:
    """Groups trained together in one worker on one prompt stream; cost: estimated seconds."""

    groups: list = field(default_factory=list)
    cost: float = 0.0
    model_steps: int = 0  # still to train
    resumed: int = 0  # model-steps its groups' checkpoints have already done


def probe(configs, *, device="cpu", steps: int = 20, warmup: int = 5) -> tuple[float, float]:
    """(draw, update): seconds per step of `configs` (one group) alone on this process, for drawing and
    transforming its prompts, and for its update (loss, gradient, Adam)."""
    import torch

    from ..core.engine import Trainer, one_thread

    c0 = configs[0]
    train = replace(c0.train, steps=warmup + steps, n_snapshots=1)  # the group's sizes, enough steps to time
    tr = Trainer(c0.task, c0.model, train, [c.train.seed for c in configs], device=device, compile=False)
    with one_thread(), torch.no_grad():
        for _ in range(warmup):
            tr.step_on(*tr.sample())
        draw = update = 0.0
        for _ in range(steps):
            t0 = time.perf_counter()
            batch = tr.sample()
            t1 = time.perf_counter()
            tr.step_on(*batch)
            draw, update = draw + t1 - t0, update + time.perf_counter() - t1
        return draw / steps, update / steps


def make_pieces(groups, costs, workers: int, done=None) -> list[Piece]:
    """Cut `groups` (lists of missing configs; costs: their (draw, update) seconds per step, `probe`) into
    pieces for `workers` processes: bundles by prompt stream, a bundle costing more than the plan's
    total over the workers cut into that many pieces. A piece costs one draw per step and its groups'
    updates. done: the step each group's checkpoint has reached (None: none), whose steps cost nothing;
    a group behind the bundle's front draws alone until it catches up (`train_shared`). Longest first."""
    from .training import stream_of

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if len(costs) != len(groups):
        raise ValueError(f"costs must have one entry per group ({len(groups)}), got {len(costs)}")
    done = [0] * len(groups) if done is None else [s or 0 for s in done]
    if len(done) != len(groups):
        raise ValueError(f"done must have one entry per group ({len(groups)}), got {len(done)}")
    bundles: dict[tuple, list[int]] = {}
    for i, g in enumerate(groups):
        bundles.setdefault(stream_of(g), []).append(i)
    steps = [g[0].train.steps - s for g, s in zip(groups, done)]  # still to train
    update = [u * n for (_, u), n in zip(costs, steps)]
    draw = {}
    for k, m in bundles.items():  # shared from the front on, each lagging group's catch-up alone
        front = max(done[i] for i in m)
        draw[k] = max(costs[i][0] for i in m) * (
            max(groups[i][0].train.steps for i in m) - front + sum(front - done[i] for i in m)
        )
    target = (sum(update) + sum(draw.values())) / workers
    pieces = []
    for k, members in bundles.items():
        total = draw[k] + sum(update[i] for i in members)
        n = max(1, min(len(members), math.ceil(total / target - 1e-9)))
        parts = [Piece(cost=draw[k]) for _ in range(n)]
        for i in sorted(members, key=lambda i: -update[i]):
            p = min(parts, key=lambda p: p.cost)
            p.groups.append(groups[i])
            p.cost += update[i]
            p.model_steps += len(groups[i]) * steps[i]
            p.resumed += len(groups[i]) * done[i]
        pieces += parts
    return sorted(pieces, key=lambda p: -p.cost)


def projected_seconds(durations, workers: int) -> float:
    """The makespan of running pieces of these durations longest first on `workers` processes."""
    ends = [0.0] * workers
    for d in sorted(durations, reverse=True):
        k = min(range(workers), key=ends.__getitem__)
        ends[k] += d
    return max(ends)


def _orphan_guard(parent: int, every: float = 1.0):
    """A worker's initializer: exit when the process that started it is gone. A parent stopped by a signal
    does not run its `finally` (which terminates the pool), and an orphaned worker would go on training,
    writing the same checkpoints as the next leg's (seen: two legs' workers on one group, the checkpoint
    stepping back)."""
    import threading

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(every)

    threading.Thread(target=watch, daemon=True, name="orphan-guard").start()


def _progress_queue(ctx):
    """The queue the workers report their steps on, and the manager process that serves it; the manager
    carries the orphan guard too (without it, a leg stopped by a signal left it idling on)."""
    from multiprocessing.managers import SyncManager

    manager = SyncManager(ctx=ctx)
    manager.start(_orphan_guard, (os.getpid(),))
    return manager, manager.Queue()


def _train_piece(
    groups, cache_dir, device, compile, checkpoint_every, publish_dir, profile, progress_q, index, prefetch
):
    from .training import train_groups

    def report(n):
        progress_q.put((index, n, time.time()))

    runs = train_groups(
        groups, Path(cache_dir), device, False, checkpoint_every, False, compile, None, report, prefetch
    )
    if publish_dir is not None:
        from .publish import publish_run

        for group_runs in runs:
            for r in group_runs:
                publish_run(r, publish_dir, profile)
    return index


def run_pieces(
    pieces: list[Piece],
    *,
    workers: int,
    cache_dir,
    device="cpu",
    compile="auto",
    checkpoint_every: int = 5_000,
    publish_dir=None,
    profile: str | None = None,
    seconds: float | None = None,
    progress: bool = True,
    prefetch: bool | None = None,
    log=print,
) -> dict:
    """Train `pieces` on `workers` processes, longest first, with one progress bar over the plan's
    model-steps. seconds: stop (terminating the workers) after this long, as a benchmark does.
    prefetch: each worker draws its next batch in a second thread (default: `train_shared`'s, on a
    CPU; what `benchmarks/README.md` measured).
    Returns {"wall_s", "done": model-steps per piece, "first"/"last": when each piece first/last reported}."""
    ctx = multiprocessing.get_context("spawn")
    manager, q = _progress_queue(ctx)
    done = [0] * len(pieces)
    first: list = [None] * len(pieces)
    last: list = [None] * len(pieces)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        resumed = sum(p.resumed for p in pieces)  # counted as done: the bar's rate and finish are this run's
        bar = tqdm(
            total=resumed + sum(p.model_steps for p in pieces),
            initial=resumed,
            unit="model-step",
            desc="plan",
            mininterval=2.0,
        )
    t0 = time.time()
    pool = ctx.Pool(workers, maxtasksperchild=1, initializer=_orphan_guard, initargs=(os.getpid(),))
    try:
        pending = [
            pool.apply_async(
                _train_piece,
                (p.groups, str(cache_dir), device, compile, checkpoint_every, publish_dir, profile, q, i, prefetch),
            )
            for i, p in enumerate(pieces)
        ]
        while pending:
            try:
                i, n, when = q.get(timeout=0.5)
                done[i] += n
                first[i] = first[i] or when
                last[i] = when
                if bar is not None:
                    bar.update(n)
            except queue_mod.Empty:
                pass
            for r in [r for r in pending if r.ready()]:
                pending.remove(r)
                i = r.get()  # raises a worker's error
                log(f"[plan] piece {i + 1}/{len(pieces)} done ({len(pieces[i].groups)} group(s))")
            if seconds is not None and time.time() - t0 > seconds:
                break
    finally:
        pool.terminate()
        pool.join()
        while True:  # what was reported before the end
            try:
                i, n, when = q.get_nowait()
            except queue_mod.Empty:
                break
            done[i] += n
            first[i] = first[i] or when
            last[i] = when
        manager.shutdown()
        if bar is not None:
            bar.close()
    return {"wall_s": time.time() - t0, "start": t0, "done": done, "first": first, "last": last, "prefetch": prefetch}


def train_missing(
    groups,
    *,
    workers,
    cache_dir,
    device="auto",
    publish_dir=None,
    profile=None,
    compile="auto",
    done=None,
    log=print,
):
    """Train `groups` (lists of configs) over `workers` processes: measured costs, pieces on shared
    prompt streams, longest first, one progress bar (`icl.pipeline.schedule`). done: each group's
    checkpoint step (None: read from the cache)."""
    from ..core.engine import resolve_device
    from .training import checkpoint_step

    keep = [i for i, g in enumerate(groups) if g]
    groups = [groups[i] for i in keep]
    done = [checkpoint_step(g, cache_dir) for g in groups] if done is None else [done[i] for i in keep]
    dev = str(resolve_device(device))
    costs = [probe(g, device=dev) for g in groups]
    pieces = make_pieces(groups, costs, workers, done)
    total, resumed = sum(p.model_steps for p in pieces), sum(p.resumed for p in pieces)
    log(
        f"[plan] training {len(groups)} group(s) ({total:,} model-steps to go"
        + (f", {resumed:,} done in checkpoints" if resumed else "")
        + f") as {len(pieces)} piece(s) on shared prompt streams, {workers} at a time; "
        f"checkpoints in {Path(cache_dir) / 'partial'}"
    )
    out = run_pieces(
        pieces,
        workers=workers,
        cache_dir=cache_dir,
        device=dev,
        compile=compile,
        publish_dir=None if publish_dir is None else str(publish_dir),
        profile=profile,
        log=log,
    )
    log(f"[plan] trained {total:,} model-steps in {out['wall_s'] / 60:.1f} min")
    return out
