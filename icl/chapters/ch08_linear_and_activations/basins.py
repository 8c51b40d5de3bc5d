"""Is a same-sign pair a trap? Mirror one head partway and train on (ours, chapter 08).

A two-head model whose μ_h share one sign acts as one head. From its trained factors we scale head
h's Q and O by 1 − 2a (so ω_h and μ_h by 1 − 2a): a = 0 leaves the model as it is, a = 1/2 silences
head h, a = 1 mirrors it (ω_h, μ_h → −ω_h, −μ_h, the ± pair at the same scales). Every a then trains
on, with fresh Adam moments and its own data stream, the a's of one model side by side in one Trainer.
The chapter probes every two-head model that ends not zero-sum (`Study.probes`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from ...core.circuits import extract, zero_sum_ratio
from ...core.engine import Trainer
from .activations import ONE_SIGN, model_name


@dataclass(frozen=True)
class Probe:
    """One mirrored start and where training took it. omega0, mu0, omega, mu: (H,) at the start and
    after `steps`; zero_sum: |Σ_h μ_h| / Σ_h |μ_h| at the end; loss: mean training loss of the last
    tenth of the steps."""

    a: float
    steps: int
    omega0: np.ndarray
    mu0: np.ndarray
    omega: np.ndarray
    mu: np.ndarray
    zero_sum: float
    loss: float


def mirror_head(factors: torch.Tensor, head: int, a: float) -> torch.Tensor:
    """A copy of `factors` (4, H, D, D) = Q, K, V, O with head `head`'s Q and O scaled by 1 − 2a."""
    H = factors.shape[1]
    if not 0 <= head < H:
        raise ValueError(f"head must be in 0..{H - 1}, got {head}")
    if not 0 <= a <= 1:
        raise ValueError(f"a must be in [0, 1] (0: unchanged, 1: head mirrored), got {a}")
    out = factors.clone()
    out[0, head] *= 1 - 2 * a
    out[3, head] *= 1 - 2 * a
    return out


def probe(run, fractions, steps: int, *, head: int = 1, seed: int = 0, device="cpu") -> list[Probe]:
    """Mirror head `head` of a trained run by each a in `fractions` and train `steps` Adam steps
    (the run's task, model, batch and learning rate; data seeds seed, seed + 1, …)."""
    if steps < 10:
        raise ValueError(f"steps must be at least 10, got {steps}")
    fractions = [float(a) for a in fractions]
    starts = torch.stack([mirror_head(run.factors, head, a) for a in fractions])  # (M, 4, H, D, D)
    c = run.config
    tr = Trainer(
        c.task,
        c.model,
        replace(c.train, steps=steps),
        [seed + i for i in range(len(fractions))],
        device=device,
        compile=False,
    )
    with torch.no_grad():
        tr.theta.copy_(starts.to(tr.theta))
        first = extract(tr.model.kq(), tr.model.ov(), c.task.d)
    tr.run()
    with torch.no_grad():
        last = extract(tr.model.kq(), tr.model.ov(), c.task.d)
    tail = tr.losses[-max(1, steps // 10) :].cpu().numpy().mean(0)  # (M,)
    zs = zero_sum_ratio(last.mu)
    return [
        Probe(a, steps, first.omega[i], first.mu[i], last.omega[i], last.mu[i], float(zs[i]), float(tail[i]))
        for i, a in enumerate(fractions)
    ]


def probe_table(probes: dict):
    """One row per (model, a): ω_h and μ_h at the start and the end, the end's zero-sum ratio and loss."""

    def fmt(v):
        return "(" + ", ".join(f"{x:+.2f}" for x in v) + ")"

    return pd.DataFrame(
        [
            {
                "model": model_name(k),
                "a": p.a,
                "start ω_h": fmt(p.omega0),
                "start μ_h": fmt(p.mu0),
                "end ω_h": fmt(p.omega),
                "end μ_h": fmt(p.mu),
                "end |Σμ|/Σ|μ|": p.zero_sum,
                "end loss": p.loss,
            }
            for k, ps in probes.items()
            for p in ps
        ]
    )


def probe_text(probes: dict, zero_sum_tol: float) -> str:
    """One sentence: for each a, how many probed models reach the ± pattern, with the loss range of each outcome."""
    if not probes:
        return "No two-head model ends with a same-sign pair at this budget, so there is nothing to probe"
    n, parts = len(probes), []
    for i, first in enumerate(next(iter(probes.values()))):
        ps = [v[i] for v in probes.values()]
        pm = [p.loss for p in ps if p.zero_sum <= zero_sum_tol]
        rest = [p.loss for p in ps if p.zero_sum > zero_sum_tol]

        def span(x):
            return f"{min(x):.3f}" if len(x) == 1 else f"{min(x):.3f}–{max(x):.3f}"

        parts.append(
            f"from a = {first.a:g}, {len(pm)} of {n} reach the ± pattern"
            + (f" (loss {span(pm)})" if pm else "")
            + (f" and {len(rest)} end not zero-sum again (loss {span(rest)})" if rest else "")
        )
    return f"After {ps[0].steps:,} steps, " + "; ".join(parts)


def probe_reading(probes: dict, zero_sum_tol: float) -> str:
    """What the probes say where they say it cleanly: from the smallest a (< 1/2) every model ends with every
    μ_h at one sign again, from the largest (> 1/2) every model reaches the ± pattern."""
    if not probes:
        return ""
    lo = [min(ps, key=lambda p: p.a) for ps in probes.values()]
    hi = [max(ps, key=lambda p: p.a) for ps in probes.values()]
    if (
        lo[0].a < 0.5 < hi[0].a
        and all(p.zero_sum > ONE_SIGN for p in lo)
        and all(p.zero_sum <= zero_sum_tol for p in hi)
    ):
        return (
            f"A head shrunk toward zero (a = {lo[0].a:g}) grows back with its old sign, while one pushed past zero "
            f"(a = {hi[0].a:g}) keeps its new one: the same-sign pair is an attractor of the training (a local "
            "minimum as far as Adam can tell), not a saddle that more steps would leave, and the ± pattern takes "
            "a push of head 2 through zero."
        )
    return "The probes do not separate the two patterns this cleanly; the table gives every start and end."
