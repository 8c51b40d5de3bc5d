"""The softmax versions of chapter 11's two parametrisations (Zhang, Singh, Latham, Saxe 2025, Fig. 5).

Same setting and reduced blocks as the chapter's linear models (`dynamics`), with the linear map of the scores replaced
by a softmax over the N context tokens and the query (the authors' code attends to all N + 1 tokens,
the query's y-slot being 0):

    s_{i,n} = x_qᵀ U_i x_n  (merged)      or      (Q_iᵀ x_q)·(K_iᵀ x_n)  (separate, rank R),
    ŷ = Σ_i v_i Σ_{n ≤ N+1} softmax_n(s_{i,·}) y_n,         y_{N+1} := 0.

Near zero, softmax(s)_n = (1 + s_n − s̄)/(N+1) + O(s²), so a head is a linear-attention head with
normaliser N + 1 plus the term v_i·Σ_n y_n/(N+1), which carries no information about y_q: the heads'
value weights must cancel it, Σ_i v_i → 0 — the zero-sum OV pattern of the main paper's Obs. 2.

Trained by full-batch gradient descent on sampled sequences with torch autograd, from the same
(our-units) initialisations and at the same rates as the linear models, so the curves share a time
axis t = 2ηk. Shapes: X (S, N+1, D) with the query last, y (S, N+1) with y_q last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...core.engine import one_thread
from .dynamics import Params, Setting, Trajectory, population_loss

__all__ = [
    "Tokens",
    "sample_tokens",
    "softmax_predict",
    "sampled_softmax_loss",
    "softmax_gd",
    "zero_sum",
    "linear_population_losses",
    "SoftmaxRun",
]


@dataclass(frozen=True)
class Tokens:
    """S sequences: X (S, N+1, D) covariates, query last; y (S, N+1) labels, y_q last."""

    X: torch.Tensor
    y: torch.Tensor


def sample_tokens(s: Setting, S: int, seed: int, dtype=torch.float32) -> Tokens:
    """x ~ N(0, Λ), w ~ N(0, I_D), y = wᵀx (no noise), as `dynamics.sample_sequences`."""
    if not (isinstance(S, int) and S >= 1):
        raise ValueError(f"S (sequences) must be a positive integer, got {S!r}")
    g = torch.Generator().manual_seed(seed)
    root = torch.as_tensor(s.E * np.sqrt(s.lam))
    X = torch.randn(S, s.N + 1, s.D, generator=g, dtype=torch.float64) @ root.T
    w = torch.randn(S, s.D, generator=g, dtype=torch.float64)
    return Tokens(X.to(dtype), torch.einsum("snd,sd->sn", X, w).to(dtype))


def softmax_predict(p: Params, theta: torch.Tensor, data: Tokens) -> torch.Tensor:
    """ŷ (S,) of the softmax version of `p` with flat parameters theta (P,)."""
    X, xq = data.X, data.X[:, -1]
    if p.kind == "merged":
        v, U = p.unpack(theta)
        scores = torch.einsum("sd,hde,sne->shn", xq, U, X)  # x_qᵀ U_i x_n
    else:
        v, K, Q = p.unpack(theta)
        scores = torch.einsum("shr,snhr->shn", torch.einsum("sd,hdr->shr", xq, Q), torch.einsum("snd,hdr->snhr", X, K))
    y_ctx = torch.cat([data.y[:, :-1], torch.zeros_like(data.y[:, -1:])], dim=1)  # the query's y-slot is 0
    return torch.einsum("h,shn,sn->s", v, torch.softmax(scores, dim=-1), y_ctx)


def sampled_softmax_loss(p: Params, theta: torch.Tensor, data: Tokens) -> torch.Tensor:
    """mean_s (ŷ_s − y_{q,s})² on the sample."""
    return ((softmax_predict(p, theta, data) - data.y[:, -1]) ** 2).mean()


def softmax_gd(p: Params, y0, data: Tokens, fresh: Tokens, lr: float, steps: int, record) -> Trajectory:
    """Full-batch GD (autograd) on `data`; at the steps in `record` the parameters and the loss on `fresh`
    prompts (the population loss's Monte Carlo estimate; `Trajectory.loss`) and on the sample
    (`train_loss`) are kept. Time t = 2·lr·step, as for the linear models."""
    with one_thread():  # small operations: see `icl.core.engine.one_thread`
        return _softmax_gd(p, y0, data, fresh, lr, steps, record)


def _softmax_gd(p, y0, data, fresh, lr, steps, record) -> Trajectory:
    theta = torch.tensor(np.asarray(y0), dtype=data.X.dtype, requires_grad=True)
    rec, keep, test, train = set(int(r) for r in record), [], [], []
    for step in range(steps + 1):
        loss = sampled_softmax_loss(p, theta, data)
        if step in rec:
            with torch.no_grad():
                keep.append(theta.detach().double().numpy().copy())
                test.append(float(sampled_softmax_loss(p, theta, fresh)))
                train.append(float(loss))
        if step == steps:
            break
        (grad,) = torch.autograd.grad(loss, theta)
        if not torch.isfinite(grad).all():
            raise FloatingPointError(f"softmax GD diverged at step {step} (lr={lr}); lower lr")
        with torch.no_grad():
            theta -= lr * grad
    return Trajectory(p, 2 * lr * np.asarray(sorted(rec), float), np.array(test), np.array(keep), np.array(train))


def zero_sum(traj: Trajectory) -> float:
    """|Σ_i v_i| / Σ_i |v_i| at the end of a trajectory (the main paper's zero-sum OV, Obs. 2)."""
    v = traj.p.unpack(traj.y[-1])[0]
    return float(abs(v.sum()) / np.abs(v).sum())


def linear_population_losses(traj: Trajectory, s: Setting) -> np.ndarray:
    """The linear model's population loss at the same parameters (for the overlay)."""
    return np.array([population_loss(g, s.Lam, s.N) for g in traj.gammas()])


# ----------------------------------------------------------------------------- the chapter's runs
@dataclass
class SoftmaxRun:
    """A softmax version trained by GD (`soft`) and the linear model's flow from the same init (`linear`)."""

    s: Setting
    soft: Trajectory
    linear: Trajectory
