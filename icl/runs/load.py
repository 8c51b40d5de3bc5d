"""`load_or_train(config)`: the cached or published result of a configuration, else trained.

`load_or_train_many(configs)` batches every group of configurations that differ only in the seed
into one engine run (one optimiser step for all), here or through an executor (`icl.runs.executors`).
A cache entry (`icl.runs.store`) comes first, a published model (`icl.runs.publish`) second.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .config import RunConfig, TrainedRun
from .executors import submit_groups
from .publish import read_published
from .store import default_cache_dir, read_entry
from .training import stream_of, train_groups

PARALLEL_MIN_MODEL_STEPS = 50_000  # about half a minute of one core: less is trained in this process

__all__ = ["load_or_train", "load_or_train_many", "cached_run"]


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
    workers: int = 1,
) -> list[TrainedRun]:
    """Cached results for every config, training the missing ones.

    Missing configs that differ only in their seed are trained together (up to `max_models`
    at a time) by one `Trainer`, and groups that share a task, batch size and seeds on one prompt
    stream, drawn once per step (`icl.runs.training.train_groups`). Each model gets the result it
    would get alone, to float32 rounding (see `icl.core.engine`); retraining its group reproduces it
    bit for bit, with or without the other groups of its stream. compile: see
    `Trainer` (an execution detail like the device: not part of the cache key, in the provenance).
    executor: None trains here, one group after another; a submitit executor (`icl.runs.executors.
    make_executor`: local subprocesses or Slurm) runs one job per group and waits for them.
    log_every: print a progress line every this many steps (a multiple of checkpoint_every), for
    logs of long runs where no progress bar is read. workers > 1 (no executor): the missing groups
    train over that many processes (`icl.runs.schedule.train_missing`), when there are several and
    at least PARALLEL_MIN_MODEL_STEPS model-steps of them (below, starting processes costs more).
    """
    configs = list(configs)
    if log_every is not None and (
        isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1 or log_every % checkpoint_every
    ):
        raise ValueError(
            f"log_every must be None or a positive multiple of checkpoint_every ({checkpoint_every}), got {log_every!r}"
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
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
        submit_groups(
            groups,
            executor,
            cache_dir=cache,
            device=device,
            checkpoint_every=checkpoint_every,
            compile=compile,
            progress=progress,
        )
        for g in groups:
            for c in g:
                run = read_entry(cache / c.key(), c)
                if run is None:
                    raise RuntimeError(f"job for {c.key()} finished but its cache entry is missing or invalid")
                results[c.key()] = run
        groups = []
    work = sum(len(g) * g[0].train.steps for g in groups)
    if workers > 1 and len(groups) > 1 and work >= PARALLEL_MIN_MODEL_STEPS:
        from .schedule import train_missing

        train_missing(groups, workers=workers, cache_dir=cache, device=device, compile=compile)
        for c in (c for g in groups for c in g):
            run = read_entry(cache / c.key(), c)
            if run is None:
                raise RuntimeError(f"a worker trained {c.key()} but its cache entry is missing or invalid")
            results[c.key()] = run
        groups = []
    bundles: dict[tuple, list] = {}  # groups on one prompt stream train together (icl.core.shared_stream)
    for group in groups:
        bundles.setdefault(stream_of(group), []).append(group)
    for bundle in bundles.values():
        for runs in train_groups(bundle, cache, device, progress, checkpoint_every, verbose, compile, log_every):
            for run in runs:
                results[run.config.key()] = run
    return [results[c.key()] for c in configs]


def cached_run(config: RunConfig, cache_dir=None) -> TrainedRun | None:
    """The valid cache entry of `config`, else its published model (`icl.runs.publish`), else None. An
    invalid cache entry is deleted (never read; the config is retrained)."""
    entry = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / config.key()
    if entry.exists():
        run = read_entry(entry, config)
        if run is not None:
            return run
        shutil.rmtree(entry, ignore_errors=True)
    return read_published(config)


def load_or_train(config: RunConfig, **kw) -> TrainedRun:
    """The cached result of `config`, trained and stored first if needed (see load_or_train_many)."""
    return load_or_train_many([config], **kw)[0]
