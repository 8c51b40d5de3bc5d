"""Predictors and their Monte Carlo ICL risk (paper §3, §4.3, §5.3).

Every predictor — the trained transformer and each baseline — is a callable mapping a batch of
`Prompts` to predictions ŷ of shape (B, T), with a `name`. So every comparison is a loop over
predictors, and `icl_risk` evaluates any of them at any test length L'.

With X = [x_1 … x_L]ᵀ, y = (y_l), x̄ = mean_l x_l and a pre-conditioner Γ (default I):

    vanilla GD     ŷ = (η/L) Σ_l y_l x_lᵀ Γ x_q
    debiased GD    ŷ = (η/L) Σ_l y_l (x_l − x̄)ᵀ Γ x_q                           (4.11, 5.5)
    ridge          ŷ = x_qᵀ (XᵀX + λI)⁻¹ Xᵀ y      (λ = dσ²: Bayes optimal for β ~ N(0, I/d))
    kernel sum     ŷ = Σ_h μ_h Σ_l y_l softmax(ω_h X x_q)_l                        (3.2, 4.9, 4.12)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import Prompts, TaskConfig, sample_prompts

__all__ = [
    "paired_errors",
    "paired_ratio",
    "risk_from_errors",
    "Predictor",
    "VanillaGD",
    "DebiasedGD",
    "Ridge",
    "KernelSum",
    "TransformerPredictor",
    "Risk",
    "icl_risk",
    "icl_risks",
    "bayes",
    "nadaraya_watson",
    "two_kernel",
]


class Predictor:
    """Base class: `name` and `__call__(prompts) -> (B, T)`."""

    name: str = "predictor"

    def __call__(self, prompts: Prompts) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError


def _precondition(x_q: torch.Tensor, gamma) -> torch.Tensor:
    if gamma is None:
        return x_q
    G = torch.as_tensor(np.asarray(gamma), dtype=x_q.dtype, device=x_q.device)
    return x_q @ G.T  # Γ x_q for every prompt


@dataclass
class VanillaGD(Predictor):
    """One GD step from β = 0 with rate η (and pre-conditioner Γ)."""

    eta: float
    gamma: np.ndarray | None = None
    name: str = "vanilla GD"

    def covariates(self, X: torch.Tensor) -> torch.Tensor:
        return X

    def __call__(self, prompts: Prompts) -> torch.Tensor:
        X, y = prompts.X, prompts.y
        xq = _precondition(prompts.x_q, self.gamma)
        return self.eta / X.shape[1] * torch.einsum("blt,bld,bd->bt", y, self.covariates(X), xq)


@dataclass
class DebiasedGD(VanillaGD):
    """Debiased GD: the same step on centred covariates x_l − x̄."""

    name: str = "debiased GD"

    def covariates(self, X: torch.Tensor) -> torch.Tensor:
        return X - X.mean(dim=1, keepdim=True)


@dataclass
class Ridge(Predictor):
    """Ridge regression on the context with penalty λ (λ = dσ² is the Bayes predictor)."""

    lam: float
    name: str = "ridge"

    def __call__(self, prompts: Prompts) -> torch.Tensor:
        X, y = prompts.X, prompts.y
        d = X.shape[-1]
        A = X.transpose(1, 2) @ X + self.lam * torch.eye(d, dtype=X.dtype, device=X.device)
        beta_hat = torch.linalg.solve(A, X.transpose(1, 2) @ y)  # (B, d, T)
        return torch.einsum("bd,bdt->bt", prompts.x_q, beta_hat)


@dataclass
class KernelSum(Predictor):
    """Σ_h μ_h · NW_{ω_h}: a sum of softmax kernel regressors (the transformer in pattern (3.1)).

    omega: (H,). mu: (H,) for one task, or (H, T, T) (the y-block of each OV circuit) for T tasks.
    """

    omega: np.ndarray
    mu: np.ndarray
    name: str = "kernel sum"

    def __post_init__(self):
        self.omega = np.atleast_1d(np.array(self.omega, dtype=float))  # copies: a read-only view would warn in torch
        self.mu = np.array(self.mu, dtype=float)
        if self.mu.ndim == 0:
            self.mu = self.mu[None]
        if self.mu.shape[0] != self.omega.shape[0]:
            raise ValueError(f"mu must have one entry per head ({self.omega.shape[0]}), got shape {self.mu.shape}")

    def __call__(self, prompts: Prompts) -> torch.Tensor:
        X, y, xq = prompts.X, prompts.y, prompts.x_q
        w = torch.as_tensor(self.omega, dtype=X.dtype, device=X.device)
        p = torch.softmax(w[None, :, None] * torch.einsum("bld,bd->bl", X, xq)[:, None, :], dim=-1)  # (B, H, L)
        ay = torch.einsum("bhl,bls->bhs", p, y)  # kernel-smoothed labels per head and task
        mu = torch.as_tensor(self.mu, dtype=X.dtype, device=X.device)
        if mu.ndim == 1:
            return torch.einsum("bhs,h->bs", ay, mu)
        return torch.einsum("bhs,hts->bt", ay, mu)


@dataclass
class TransformerPredictor(Predictor):
    """Model `index` of an `AttentionModel` used as a predictor (on the model's device)."""

    model: torch.nn.Module
    index: int = 0
    name: str = "transformer"

    @torch.no_grad()
    def __call__(self, prompts: Prompts) -> torch.Tensor:
        p = self.model.factors
        Z = prompts.Z.to(device=p.device, dtype=p.dtype)
        xq = prompts.x_q.to(device=p.device, dtype=p.dtype)
        m = self.model
        sub = m if m.n_models == 1 else _single(m, self.index)
        out = sub(Z[None], xq[None])[0]
        return out.to(device=prompts.Z.device, dtype=prompts.Z.dtype)


def _single(model, index):
    import copy

    sub = copy.copy(model)
    sub.factors = torch.nn.Parameter(model.factors.data[index : index + 1], requires_grad=False)
    return sub


def bayes(task: TaskConfig) -> Ridge:
    """The Bayes-optimal predictor for isotropic β ~ N(0, I/d): ridge with λ = dσ²."""
    if task.prior != "gaussian":
        raise ValueError(
            f"bayes: ridge with λ = dσ² is the Bayes predictor under the gaussian prior only, got prior "
            f"{task.prior!r} (use Ridge(lam=...) for ridge itself)"
        )
    return Ridge(lam=task.d * task.sigma2, name="Bayes (ridge)")


def nadaraya_watson(omega: float, mu: float, name: str = "single head (NW)") -> KernelSum:
    """The single-head predictor (4.12)."""
    return KernelSum([omega], [mu], name=name)


def two_kernel(omega: float, mu: float, name: str = "two-kernel (4.9)") -> KernelSum:
    """The two-head predictor on the manifold (4.9): μ (NW_ω − NW_{−ω})."""
    return KernelSum([omega, -omega], [mu, -mu], name=name)


@dataclass(frozen=True)
class Risk:
    """Monte Carlo ICL risk E(ŷ − y_q)²: mean, its standard error, and the number of prompts."""

    mean: float
    se: float
    n: int

    def __format__(self, spec):
        spec = spec or ".4f"
        return f"{self.mean:{spec}} ± {self.se:{spec}}"


def icl_risks(
    predictors,
    task: TaskConfig,
    n_prompts: int = 20_000,
    *,
    L: int | None = None,
    batch: int = 5_000,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> dict[str, Risk]:
    """Risks of several predictors on the same prompts (common random numbers).

    predictors: a list of `Predictor`s (or a dict name → predictor). L: test length L'
    (default task.L). The squared error is averaged over tasks; the standard error is over prompts.
    """
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, int) or n_prompts < 2:
        raise ValueError(f"n_prompts must be an integer >= 2, got {n_prompts!r}")
    items = list(predictors.items()) if isinstance(predictors, dict) else [(p.name, p) for p in predictors]
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"predictor names must be distinct, got {names}")
    g = torch.Generator(device=device).manual_seed(seed)
    errs = {n: [] for n in names}
    left = n_prompts
    while left > 0:
        P = sample_prompts(task, min(batch, left), g, L=L, dtype=dtype)
        left -= len(P)
        for n, f in items:
            errs[n].append(((f(P) - P.y_q) ** 2).mean(-1).double().cpu())
    out = {}
    for n in names:
        e = torch.cat(errs[n])
        out[n] = Risk(mean=float(e.mean()), se=float(e.std() / np.sqrt(len(e))), n=len(e))
    return out


def icl_risk(predictor: Predictor, task: TaskConfig, n_prompts: int = 20_000, **kw) -> Risk:
    """Monte Carlo ICL risk of one predictor (see `icl_risks`)."""
    return icl_risks({"p": predictor}, task, n_prompts, **kw)["p"]


# --- paired Monte Carlo comparisons: per-prompt errors of several predictors on the same prompts ---


def paired_errors(
    predictors: dict,
    task,
    n_prompts: int,
    *,
    L: int | None = None,
    seed: int = 0,
    batch: int = 5_000,
    per_task: bool = False,
) -> dict:
    """Per-prompt squared errors (averaged over tasks; per_task: one column per task) of every predictor
    on the same prompts: id → (n,) (or (n, T)) float64 tensor. The prompts are those of
    `icl.core.estimators.icl_risks` with the same seed, batch and L, so the means agree with it exactly."""
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, int) or n_prompts < 2:
        raise ValueError(f"n_prompts must be an integer >= 2, got {n_prompts!r}")
    g = torch.Generator().manual_seed(seed)
    errs = {k: [] for k in predictors}
    left = n_prompts
    while left > 0:
        P = sample_prompts(task, min(batch, left), g, L=L, dtype=torch.float64)
        left -= len(P)
        for k, f in predictors.items():
            e = (f(P) - P.y_q) ** 2
            errs[k].append((e if per_task else e.mean(-1)).double().cpu())
    return {k: torch.cat(v) for k, v in errs.items()}


def risk_from_errors(e) -> Risk:
    """Monte Carlo risk (mean, standard error over prompts) from per-prompt errors, as `icl_risks`."""
    e = torch.as_tensor(e, dtype=torch.float64)
    return Risk(mean=float(e.mean()), se=float(e.std() / np.sqrt(len(e))), n=len(e))


def paired_ratio(a, b) -> tuple[float, float]:
    """R = mean(a) / mean(b) for per-prompt errors on common prompts, and its delta-method standard
    error sd(a − R b) / (√n mean(b))."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    r = float(a.mean() / b.mean())
    return r, float((a - r * b).std() / (np.sqrt(len(a)) * b.mean()))
