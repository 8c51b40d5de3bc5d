"""Training speed: what a user of the authors' code would run (`icl.core.baseline`) against the engine.

Every measurement runs in a fresh process (so that its peak memory is its own and thread
settings do not leak), trains at the paper's sizes (d = 5, L = 40, batch 256, fresh prompts
every step) for about `seconds` of wall time after a warm-up, and reports steps per second.

- baseline ("authors"): `AuthorsAttention`, the authors' own formulation (their `src/models.py`:
  nn.Linear projections, the query projected from z_q only, softmax attention over the context),
  `torch.optim.Adam`, `sample_prompts` every step, autograd. Measured with torch's default
  intra-op threads and with one; the faster counts. The speed-ups are against it.
- "naive": `NaiveAttention`, causal self-attention over the whole sequence read at the last
  token (every token a query): a slower formulation nobody needs here, a second labelled row.
- engine: `Trainer` with its defaults (query-only forward, hand-written gradient, one Adam
  update for all models, batches prepared in a second thread).
- every normalisation (softmax, linear, the normalised activations of §5.2): the engine's
  hand-written gradient against the same Trainer through autograd, all in one process, taking
  turns in rounds so that a change in the machine's load hits every normalisation alike.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import platform
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Measurement", "measure", "stage_costs", "normalisation_speeds", "run_benchmark", "format_table"]


@dataclass(frozen=True)
class Measurement:
    """One timed run: `steps_per_s` optimiser steps per second, each training `models` models."""

    impl: str  # "authors" | "naive" | "engine"
    heads: int
    models: int
    threads: int
    device: str
    steps: int
    seconds: float
    steps_per_s: float
    peak_rss_mb: float
    peak_cuda_mb: float | None
    compiled: bool = False
    warmup_s: float = 0.0  # the first 20 steps, torch.compile's compilation included

    @property
    def model_steps_per_s(self) -> float:
        return self.steps_per_s * self.models


def _baseline_runner(heads: int, batch: int, device, formulation: str = "authors"):
    import torch

    from ..core.baseline import AuthorsAttention, NaiveAttention
    from ..core.data import TaskConfig, sample_prompts

    task = TaskConfig()
    torch.manual_seed(0)
    net = (AuthorsAttention if formulation == "authors" else NaiveAttention)(task.d, task.n_tasks, heads).to(device)
    predict = (lambda P: net(P.Z, P.x_q)) if formulation == "authors" else (lambda P: net(NaiveAttention.tokens(P)))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator(device=device).manual_seed(0)

    def run(n: int):
        for _ in range(n):
            P = sample_prompts(task, batch, g)
            loss = ((predict(P) - P.y_q) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        float(loss.detach())  # wait for the device

    return run


def _engine_runner(heads: int, models: int, batch: int, device, compile: bool = False):
    from ..core.data import TaskConfig
    from ..core.engine import TrainConfig, Trainer
    from ..core.models import ModelConfig

    trainer = Trainer(
        TaskConfig(),
        ModelConfig(heads=heads),
        TrainConfig(steps=1_000_000, batch=batch, n_snapshots=1),
        list(range(models)),
        device=device,
        compile=compile,
    )

    def run(n: int):
        trainer.run(until=trainer.step + n, chunk=1_000_000, threads=None)
        float(trainer.losses[trainer.step - 1, 0])  # wait for the device

    return run


def _measure_here(impl, heads, models, threads, device, batch, seconds, compile, queue):
    import torch

    from ..core.engine import resolve_device

    dev = resolve_device(device)
    if dev.type == "cpu":
        torch.set_num_threads(threads)
    run = (
        _engine_runner(heads, models, batch, dev, compile)
        if impl == "engine"
        else _baseline_runner(heads, batch, dev, impl)
    )
    t0 = time.perf_counter()
    run(20)  # warm-up
    warmup = time.perf_counter() - t0
    t0 = time.perf_counter()
    run(20)
    probe = (time.perf_counter() - t0) / 20
    steps = max(20, int(seconds / probe))
    t0 = time.perf_counter()
    run(steps)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    cuda = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else None
    queue.put(
        Measurement(
            impl,
            heads,
            models,
            threads,
            str(dev),
            steps,
            round(wall, 3),
            steps / wall,
            round(rss, 1),
            cuda,
            compile,
            round(warmup, 2),
        )
    )


def measure(
    impl: str,
    heads: int,
    models: int = 1,
    *,
    threads: int = 1,
    device="auto",
    batch: int = 256,
    seconds: float = 4.0,
    compile: bool = False,
) -> Measurement:
    """Time one implementation in a fresh process (see the module docstring)."""
    if impl not in ("authors", "naive", "engine"):
        raise ValueError(f"impl must be 'authors', 'naive' or 'engine', got {impl!r}")
    if impl != "engine" and (models != 1 or compile):
        raise ValueError("models must be 1 and compile False for a baseline (it trains one model at a time, eagerly)")
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_measure_here, args=(impl, heads, models, threads, device, batch, seconds, compile, q))
    p.start()
    result = q.get()
    p.join()
    return result


def _normalisation_speeds_here(heads, models, batch, seconds, rounds, queue):
    import torch

    from ..core.data import TaskConfig
    from ..core.engine import TrainConfig, Trainer
    from ..core.models import NORMALISATIONS, ModelConfig

    torch.set_num_threads(1)
    trainers = {
        (n, fast): Trainer(
            TaskConfig(),
            ModelConfig(heads=heads, normalisation=n),
            TrainConfig(steps=1_000_000, batch=batch, n_snapshots=1),
            list(range(models)),
            device="cpu",
            compile=False,
            fast=fast,
        )
        for n in NORMALISATIONS
        for fast in (True, False)
    }
    steps = {k: 0 for k in trainers}
    wall = {k: 0.0 for k in trainers}
    for tr in trainers.values():  # warm-up
        tr.run(until=tr.step + 5, chunk=1_000_000, threads=None)
    for _ in range(rounds):
        for k, tr in trainers.items():
            t0, n0 = time.perf_counter(), tr.step
            while time.perf_counter() - t0 < seconds / rounds:
                tr.run(until=tr.step + 10, chunk=1_000_000, threads=None)
            wall[k] += time.perf_counter() - t0
            steps[k] += tr.step - n0
    queue.put(
        [
            {
                "normalisation": n,
                "path": "engine" if fast else "autograd",
                "heads": heads,
                "models": models,
                "steps_per_s": steps[(n, fast)] / wall[(n, fast)],
            }
            for n, fast in trainers
        ]
    )


def normalisation_speeds(
    heads: int = 2, models: int = 1, *, batch: int = 256, seconds: float = 3.0, rounds: int = 3
) -> list[dict]:
    """Steps/s of every normalisation on one CPU thread, through the engine's hand-written gradient
    and through autograd (in a fresh process; `seconds` of wall time per normalisation and path,
    split into `rounds` turns)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_normalisation_speeds_here, args=(heads, models, batch, seconds, rounds, q))
    p.start()
    result = q.get()
    p.join()
    soft = next(r["steps_per_s"] for r in result if r["normalisation"] == "softmax" and r["path"] == "engine")
    for r in result:
        r["vs_softmax_engine"] = r["steps_per_s"] / soft
    return result


def stage_costs(heads: int, models: int, *, batch: int = 256, repeats: int = 100) -> dict:
    """CPU time (ms of this thread) per model-step of the engine's three stages on one core:
    drawing the normals, turning them into prompts, and the update (loss, gradient, Adam).
    Thread CPU time hardly depends on other processes, so this explains the wall-clock numbers:
    with the draws and the transform in a second thread, steps/s ≤ 1 / max(draw + transform, step)."""
    import torch

    from ..core.data import TaskConfig
    from ..core.engine import TrainConfig, Trainer
    from ..core.models import ModelConfig

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tr = Trainer(
            TaskConfig(),
            ModelConfig(heads=heads),
            TrainConfig(steps=repeats + 20, batch=batch, n_snapshots=1),
            list(range(models)),
            device="cpu",
        )
        for _ in range(10):
            tr._draw(tr._normals)
            tr.step_on(*tr._prompts(tr._normals))
        t = [time.thread_time()]
        for _ in range(repeats):
            tr._draw(tr._normals)
        t.append(time.thread_time())
        for _ in range(repeats):
            batch_ = tr._prompts(tr._normals)  # in place: values drift, cost does not
        t.append(time.thread_time())
        for _ in range(repeats):
            tr.step_on(*batch_)
        t.append(time.thread_time())
    finally:
        torch.set_num_threads(saved)
    per = [(b - a) / repeats / models * 1e3 for a, b in zip(t, t[1:])]
    return {"heads": heads, "models": models, "draw_ms": per[0], "transform_ms": per[1], "step_ms": per[2]}


def run_benchmark(
    heads=(1, 2, 4, 8),
    batched_models: int = 8,
    batched_heads: int = 4,
    *,
    device="auto",
    seconds: float = 4.0,
    out: str | Path | None = None,
    echo=print,
    compiled: bool = True,
) -> dict:
    """Baseline vs engine for every H, and M models of `batched_heads` heads trained together.

    With `compiled`, also the engine under torch.compile for 1 and M models. Returns (and writes
    to `out` as JSON) the measurements and the ratios."""
    import os

    import torch

    default_threads = torch.get_num_threads()
    rows, singles = [], {}
    for h in heads:
        base = [measure("authors", h, threads=t, device=device, seconds=seconds) for t in sorted({default_threads, 1})]
        best = max(base, key=lambda m: m.steps_per_s)
        naive = measure("naive", h, threads=best.threads, device=device, seconds=seconds)
        eng = measure("engine", h, device=device, seconds=seconds)
        singles[h] = eng
        row = {
            "heads": h,
            "baseline": [asdict(b) for b in base],
            "naive": asdict(naive),
            "engine": asdict(eng),
            "speedup": eng.steps_per_s / best.steps_per_s,
        }
        rows.append(row)
        echo(
            f"H={h}: authors' formulation {best.steps_per_s:7.0f} steps/s ({best.threads} thread(s)), "
            f"full-sequence {naive.steps_per_s:7.0f}, engine {eng.steps_per_s:7.0f} steps/s, "
            f"speed-up over the authors' {row['speedup']:.1f}x, "
            f"peak RSS {best.peak_rss_mb:.0f} / {eng.peak_rss_mb:.0f} MB"
        )
    batched = measure("engine", batched_heads, batched_models, device=device, seconds=seconds)
    echo(
        f"M={batched_models} models of H={batched_heads} together: {batched.model_steps_per_s:7.0f} model-steps/s, "
        f"peak RSS {batched.peak_rss_mb:.0f} MB"
    )
    compiled = [
        measure("engine", batched_heads, m, device=device, seconds=seconds, compile=True)
        for m in ((1, batched_models) if compiled else ())
    ]
    for c in compiled:
        echo(
            f"compiled, M={c.models} models of H={c.heads}: {c.model_steps_per_s:7.0f} model-steps/s "
            f"(first 20 steps, compilation included: {c.warmup_s:.1f} s)"
        )
    norms = normalisation_speeds(seconds=seconds)
    for r in norms:
        echo(
            f"{r['normalisation']:>10} ({r['path']:>8}), H={r['heads']}: {r['steps_per_s']:7.0f} steps/s, "
            f"{r['vs_softmax_engine']:.2f} of softmax's engine speed"
        )
    stages = [stage_costs(h, m) for h, m in [(batched_heads, 1), (batched_heads, batched_models)]]
    for c in stages:
        echo(
            f"CPU ms per model-step, H={c['heads']} M={c['models']}: draw {c['draw_ms']:.3f}, "
            f"transform {c['transform_ms']:.3f}, update {c['step_ms']:.3f}"
        )
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads_default": default_threads,
            "load_average_before": os.getloadavg(),
        },
        "sizes": {"d": 5, "L": 40, "batch": 256, "seconds_per_measurement": seconds},
        "single": rows,
        "stage_cpu_ms_per_model_step": stages,
        "normalisations": norms,
        "compiled": [dict(asdict(c), model_steps_per_s=c.model_steps_per_s) for c in compiled],
        "batched": dict(
            asdict(batched),
            model_steps_per_s=batched.model_steps_per_s,
            vs_single=batched.model_steps_per_s / singles[batched_heads].steps_per_s
            if batched_heads in singles
            else None,
        ),
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(out)
    return result


def format_table(result: dict) -> str:
    """The benchmark as a Markdown table."""
    lines = [
        "| H | models | authors' formulation steps/s | full-sequence steps/s | engine steps/s "
        "| speed-up over the authors' "
        "| engine model-steps/s | peak RSS authors' / engine (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["single"]:
        best = max(r["baseline"], key=lambda m: m["steps_per_s"])
        e, naive = r["engine"], r.get("naive")
        lines.append(
            f"| {r['heads']} | 1 | {best['steps_per_s']:.0f} | {naive['steps_per_s']:.0f} | {e['steps_per_s']:.0f} | "
            f"{r['speedup']:.1f}× | {e['steps_per_s']:.0f} | {best['peak_rss_mb']:.0f} / {e['peak_rss_mb']:.0f} |"
            if naive
            else f"| {r['heads']} | 1 | {best['steps_per_s']:.0f} | — | {e['steps_per_s']:.0f} | "
            f"{r['speedup']:.1f}× | {e['steps_per_s']:.0f} | {best['peak_rss_mb']:.0f} / {e['peak_rss_mb']:.0f} |"
        )
    base4 = {r["heads"]: max(b["steps_per_s"] for b in r["baseline"]) for r in result["single"]}
    for b in [result["batched"], *result.get("compiled", [])]:
        ratio = f"{b['steps_per_s'] / base4[b['heads']]:.1f}×" if b["models"] == 1 and b["heads"] in base4 else "—"
        lines.append(
            f"| {b['heads']}{' compiled' if b.get('compiled') else ''} | {b['models']} | — | — "
            f"| {b['steps_per_s']:.0f} | {ratio} | "
            f"{b['model_steps_per_s']:.0f} | — / {b['peak_rss_mb']:.0f} |"
        )
    if result.get("normalisations"):
        lines += [
            "",
            "| normalisation | engine steps/s | autograd steps/s | engine / softmax engine |",
            "|---|---|---|---|",
        ]
        by = {(r["normalisation"], r["path"]): r for r in result["normalisations"]}
        for n in dict.fromkeys(r["normalisation"] for r in result["normalisations"]):
            e, a = by[(n, "engine")], by[(n, "autograd")]
            lines.append(f"| {n} | {e['steps_per_s']:.0f} | {a['steps_per_s']:.0f} | {e['vs_softmax_engine']:.2f} |")
    for c in result.get("stage_cpu_ms_per_model_step", []):
        lines.append(
            f"\nCPU ms per model-step (H={c['heads']}, M={c['models']}): draw {c['draw_ms']:.3f}, "
            f"transform {c['transform_ms']:.3f}, update {c['step_ms']:.3f}"
        )
    return "\n".join(lines)


def plan_benchmark(
    profile: str = "paper",
    *,
    seconds: float = 300.0,
    workers: int | None = None,
    prefetch=None,
    chapters=None,
    log=print,
) -> dict:
    """Train the plan's real groups (`icl plan --train`'s pieces, from an empty cache, published models
    ignored) for `seconds` and project the whole edition's training time (chapters: only these
    chapters' models; default all). prefetch: each worker draws in a second thread (None: the default).

    The pieces run longest first on `workers` processes (default: one per core). A piece that reported
    during the run has its measured rate (model-steps over the seconds since the start, start-up
    included); the others their probed cost (`icl.runs.schedule.probe`) times the median ratio of
    measured to probed time of the measured pieces. projected_hours: the longest-first makespan of
    every piece's projected duration over the workers (with no piece measured, the probed costs)."""
    import os
    import statistics
    import tempfile

    from ..runs.schedule import make_pieces, probe, projected_seconds, run_pieces
    from .plan import plan

    workers = workers or os.cpu_count() or 1
    groups = [g.configs for g in plan(profile, chapters)]
    t0 = time.time()
    costs = [probe(g) for g in groups]
    pieces = make_pieces(groups, costs, workers)
    total = sum(p.model_steps for p in pieces)
    log(
        f"[bench] {len(groups)} groups, {total:,} model-steps, {len(pieces)} pieces; probed in {time.time() - t0:.0f} s"
    )
    with tempfile.TemporaryDirectory() as cache:
        out = run_pieces(
            pieces,
            workers=workers,
            cache_dir=cache,
            device="cpu",
            checkpoint_every=1_000,
            seconds=seconds,
            prefetch=prefetch,
        )
    measured, ratios = {}, []
    for i, p in enumerate(pieces):
        if out["done"][i] and out["last"][i]:
            rate = out["done"][i] / (out["last"][i] - out["start"])  # model-steps/s of this piece
            measured[i] = p.model_steps / rate
            ratios.append(measured[i] / p.cost)
    k = statistics.median(ratios) if ratios else 1.0  # nothing reported yet (a short run): the probes as they are
    durations = [measured.get(i, p.cost * k) for i, p in enumerate(pieces)]
    projected = projected_seconds(durations, workers)
    done = sum(out["done"])
    return {
        "profile": profile,
        "workers": workers,
        "prefetch": "default (on a CPU)" if out["prefetch"] is None else out["prefetch"],
        "seconds": round(out["wall_s"], 1),
        "chapters": "all" if not chapters else list(chapters),
        "groups": len(groups),
        "pieces": len(pieces),
        "total_model_steps": total,
        "model_steps_done": done,
        "model_steps_per_s": round(done / out["wall_s"], 1),
        "pieces_measured": len(measured),
        "probe_to_measured": round(k, 3),
        "projected_seconds": round(projected, 1),
        "projected_hours": round(projected / 3600, 2),
    }
