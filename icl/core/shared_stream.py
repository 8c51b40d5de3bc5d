"""One prompt stream, many groups: trainers whose models see the same prompts (same task, batch and
seeds) train in lockstep on one draw and transform per step.

Models that share a task, a batch size and a seed draw the same prompts by construction (their data
generators start from the same seed, `icl.core.engine.seed_streams`). `train_shared` draws each step's
batch once, from one trainer's generators, and hands the same tensors to every trainer's own
`step_on`: each trainer's computation is exactly what it is alone (same calls, same shapes), so each
model is bit for bit the model its group trains by itself. The other trainers' generators are set
to the drawing one's state at the end of every chunk, so their checkpoints resume as if they had drawn.
"""

from __future__ import annotations

import sys

import torch

from .engine import Trainer, _Prefetcher

__all__ = ["stream_key", "train_shared"]


def stream_key(trainer: Trainer) -> tuple:
    """What fixes a trainer's prompt stream: device, task, batch size and seeds."""
    return (str(trainer.device), trainer.task, trainer.train.batch, tuple(trainer.seeds))


def _same_rng(a: Trainer, b: Trainer) -> bool:
    return all(torch.equal(ga.get_state(), gb.get_state()) for ga, gb in zip(a.generators, b.generators))


def train_shared(
    trainers: list[Trainer],
    *,
    chunk: int = 1000,
    on_chunk=None,
    prefetch: bool | None = None,
    threads: int | None = 1,
    on_steps=None,
):
    """Train every trainer to its configured steps on one shared prompt stream.

    trainers: `Trainer`s with one `stream_key` (else ValueError); they may differ in everything else
    (heads, normalisation, initialisation, learning rate, steps). A trainer resumed behind the others
    first catches up alone. Every `chunk` steps each trainer's losses are checked and
    `on_chunk(trainer)` is called (checkpoints); `on_steps(n)` reports n more model-steps done.
    prefetch (default: on a CPU) draws the next batch in a second thread. Returns the trainers.
    """
    trainers = list(trainers)
    if not trainers:
        raise ValueError("trainers must not be empty")
    keys = {stream_key(t) for t in trainers}
    if len(keys) > 1:
        raise ValueError(
            "trainers must share one prompt stream (device, task, batch and seeds); got "
            + "; ".join(f"batch={k[2]} seeds={list(k[3])} {k[1]}" for k in keys)
        )
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")
    if prefetch is None:
        prefetch = trainers[0].device.type == "cpu"
    front = max(t.step for t in trainers)
    for t in trainers:  # resumed behind the others: catch up on its own stream
        if t.step < front:
            before = t.step
            t.run(until=front, chunk=chunk, on_chunk=on_chunk, prefetch=prefetch, threads=threads)
            if on_steps is not None:
                on_steps((t.step - before) * t.n_models)
    active = [t for t in trainers if t.step < t.train.steps]
    for t in active[1:]:
        if not _same_rng(active[0], t):
            raise ValueError("trainers at one step must have the same generator states (a foreign checkpoint?)")
    saved_threads, saved_switch = torch.get_num_threads(), sys.getswitchinterval()
    if threads is not None and trainers[0].device.type == "cpu":
        torch.set_num_threads(threads)
    if prefetch:
        sys.setswitchinterval(5e-4)  # as in Trainer.run: the drawing thread gets the GIL back sooner
    try:
        while active:
            lead, step = active[0], active[0].step
            end = min((step // chunk + 1) * chunk, *(t.train.steps for t in active))
            _steps(active, lead, end - step, prefetch)
            for t in active:
                t._check_finite(step)
                if t is not lead:
                    for g, gl in zip(t.generators, lead.generators):
                        g.set_state(gl.get_state())
                if on_chunk is not None:
                    on_chunk(t)
            if on_steps is not None:
                on_steps((end - step) * sum(t.n_models for t in active))
            active = [t for t in active if t.step < t.train.steps]
    finally:
        torch.set_num_threads(saved_threads)
        sys.setswitchinterval(saved_switch)
    return trainers


@torch.no_grad()
def _steps(active: list[Trainer], lead: Trainer, n: int, prefetch: bool):
    batches = _Prefetcher(lead, n) if prefetch else None
    try:
        for _ in range(n):
            if batches is None:
                lead._draw(lead._normals)
                batch = lead._prompts(lead._normals)
            else:
                buf, batch = batches.get()
            for t in active:
                t.step_on(*batch)
            if batches is not None:
                batches.release(buf)
    finally:
        if batches is not None:
            batches.close()
