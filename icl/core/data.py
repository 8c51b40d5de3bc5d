"""Prompt samplers for in-context linear regression (paper §2, §5.3, §5.4).

A prompt holds L context pairs (x_l, y_l) and a query x_q with its noisy target y_q:

    x_l, x_q ~ N(0, Σ)          Σ = I_d (§2) or Σ_ij = ρ^|i-j| (Kac-Murdock-Szegö, §5.3)
    β ~ N(0, I_d / d)           so E‖β‖² = 1 (or β_i = ±1/√d, the "rademacher" prior)
    y_l = βᵀ x_l + ε_l,  ε_l ~ N(0, σ²)

With T tasks (§5.4) every task t has a support S_t ⊂ {1..d} and y^(t) = β_{S_t}ᵀ x_{S_t} + ε_t.
Prompts always carry a task axis T (T = 1 for the single-task problem).

The context is stored already embedded, Z_{1:L} = [x_l; y_l] ∈ R^{d+T}, because that is what the
model reads; ``X`` and ``y`` are views into it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

__all__ = ["TaskConfig", "Prompts", "sample_prompts", "prompts_from_normals", "n_normals", "covariance_matrix"]

COVARIANCES = ("isotropic", "kms", "diagonal")
CONVENTIONS = ("paper", "authors")
PRIORS = ("gaussian", "rademacher")


@dataclass(frozen=True)
class TaskConfig:
    """The prompt distribution.

    d: input dimension. L: number of context examples. sigma2: label-noise variance σ².
    covariance: "isotropic" (Σ = I) or "kms" (Σ_ij = rho^|i-j|), or "diagonal": Σ = diag(λ_1 ≥ … ≥ λ_d),
      the eigenvalues of the KMS matrix with the same rho (the same spectrum, axis-aligned; distinct
      eigenvalues for rho ≠ 0). It reuses `rho`, so adding it changed no cache key.
    supports: for multi-task prompts, one tuple of 1-based coordinates per task (the paper's
      S_t); None is the single-task problem (one task on all coordinates).
    shared_beta: multi-task only. True is the paper's Def. 5.1 (every task uses the sub-vector
      β_{S_t} of one β); False draws an independent β per task, each N(0, I_d/d) restricted to S_t.
    convention: multi-task only. "paper" (the default): β as `shared_beta` says, scaled by 1/√d, noise
      variance σ² on every task, a noisy query target. "authors": the authors' code
      (XintianPan/ICL_linear, utils/data_utils.py, MultiTaskLinearReg): an independent β_t ~ N(0, I)
      per task on S_t (no 1/√d; needs shared_beta=False), noise std √(|S_t| σ²) on task t, and a
      noiseless query target y_q = β_tᵀ x_q. A RunConfig leaves it out of its cache key when it is
      "paper", so adding it changed no key.
    prior: the law of β (convention "paper" only). "gaussian" (the default): N(0, I_d/d).
      "rademacher": β_i = ±1/√d, independent, equally likely (the same covariance I_d/d), the sign of the
      very normal draw the gaussian prior scales, so the stream and its length are unchanged. A
      RunConfig leaves it out of its cache key when it is "gaussian", so adding it changed no key.
    """

    d: int = 5
    L: int = 40
    sigma2: float = 0.1
    covariance: str = "isotropic"
    rho: float = 0.5
    supports: tuple[tuple[int, ...], ...] | None = None
    shared_beta: bool = True
    convention: str = "paper"
    prior: str = "gaussian"

    def __post_init__(self):
        _check_int("d", self.d, 1)
        _check_int("L", self.L, 1)
        if not (isinstance(self.sigma2, (int, float)) and math.isfinite(self.sigma2) and self.sigma2 >= 0):
            raise ValueError(f"sigma2 must be a finite number >= 0, got {self.sigma2!r}")
        if self.covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}, got {self.covariance!r}")
        if not (isinstance(self.rho, (int, float)) and -1 < self.rho < 1):
            raise ValueError(f"rho must lie in (-1, 1) for a positive definite KMS matrix, got {self.rho!r}")
        if self.supports is not None:
            if len(self.supports) == 0:
                raise ValueError("supports must name at least one task (or be None)")
            sup = tuple(tuple(int(i) for i in s) for s in self.supports)
            for s in sup:
                if len(s) == 0 or len(set(s)) != len(s) or not all(1 <= i <= self.d for i in s):
                    raise ValueError(
                        f"supports must be non-empty tuples of distinct coordinates in 1..d={self.d}, "
                        f"got {self.supports!r}"
                    )
            object.__setattr__(self, "supports", sup)
        if self.convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {CONVENTIONS}, got {self.convention!r}")
        if self.convention == "authors" and (self.supports is None or self.shared_beta):
            raise ValueError(
                "convention 'authors' is the authors' multi-task sampler: it needs supports and "
                "shared_beta=False (an independent β per task)"
            )
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        if self.prior != "gaussian" and self.convention != "paper":
            raise ValueError(f"prior {self.prior!r} needs convention 'paper', got convention {self.convention!r}")

    @property
    def n_tasks(self) -> int:
        """T, the number of outputs."""
        return 1 if self.supports is None else len(self.supports)

    @property
    def D(self) -> int:
        """Token width d + T."""
        return self.d + self.n_tasks

    def support_mask(self) -> np.ndarray:
        """(d, T) 0/1 matrix, column t marks S_t."""
        if self.supports is None:
            return np.ones((self.d, 1))
        m = np.zeros((self.d, self.n_tasks))
        for t, s in enumerate(self.supports):
            m[[i - 1 for i in s], t] = 1.0
        return m

    def noise_std(self) -> np.ndarray:
        """(T,) label-noise standard deviation per task: √σ² ("paper"), √(|S_t| σ²) ("authors")."""
        if self.convention == "authors":
            return np.sqrt(self.support_mask().sum(0) * self.sigma2)
        return np.full(self.n_tasks, math.sqrt(self.sigma2))

    def with_length(self, L: int) -> TaskConfig:
        """The same distribution with L context examples (test length L')."""
        return replace(self, L=L)


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def covariance_matrix(task: TaskConfig) -> np.ndarray:
    """Σ as a (d, d) array."""
    if task.covariance == "isotropic":
        return np.eye(task.d)
    idx = np.arange(task.d)
    kms = task.rho ** np.abs(idx[:, None] - idx[None, :])
    if task.covariance == "diagonal":
        return np.diag(np.sort(np.linalg.eigvalsh(kms))[::-1])
    return kms


@dataclass
class Prompts:
    """A batch of prompts. Z: (B, L, d+T) embedded context; x_q: (B, d); y_q: (B, T); beta: (B, d, T)."""

    Z: torch.Tensor
    x_q: torch.Tensor
    y_q: torch.Tensor
    beta: torch.Tensor

    @property
    def d(self) -> int:
        return self.x_q.shape[-1]

    @property
    def X(self) -> torch.Tensor:  # (B, L, d)
        return self.Z[..., : self.d]

    @property
    def y(self) -> torch.Tensor:  # (B, L, T)
        return self.Z[..., self.d :]

    def __len__(self) -> int:
        return self.Z.shape[0]

    def token_table(self, index: int = 0, shown: int = 6):
        """The first `shown` tokens z_l = (x_l, y_l) of prompt `index` and the query token z_q = (x_q, 0)."""
        import pandas as pd

        d, T = self.d, self.Z.shape[-1] - self.d
        rows = np.vstack(
            [self.Z[index, :shown].double().cpu().numpy(), np.r_[self.x_q[index].double().cpu().numpy(), np.zeros(T)]]
        )
        ys = ["y"] if T == 1 else [f"y{t + 1}" for t in range(T)]
        return pd.DataFrame(
            rows, columns=[f"x{i + 1}" for i in range(d)] + ys, index=[f"z_{l + 1}" for l in range(shown)] + ["z_q"]
        )


def n_normals(task: TaskConfig, batch: int, L: int | None = None) -> int:
    """How many standard normals one batch of prompts consumes."""
    L = task.L if L is None else L
    return batch * ((L + 1) * task.D + task.d * _n_beta(task))


def _n_beta(task: TaskConfig) -> int:
    return 1 if (task.supports is None or task.shared_beta) else task.n_tasks


def prompts_from_normals(task: TaskConfig, normals: torch.Tensor, batch: int, L: int | None = None) -> Prompts:
    """Turn i.i.d. N(0, 1) draws into prompts, in place (no copy of the bulk of the data).

    normals: (..., n_normals(task, batch, L)), consumed: the first B·(L+1)·D entries become the
    tokens (x, ε) → (x, βᵀx + σε) in place, the rest is β. Leading axes (e.g. a model axis M)
    are kept, so prompts for M models drawn row by row equal M separate `sample_prompts` calls.
    The returned tensors are views of `normals`.
    """
    L = task.L if L is None else L
    d, T, D, B, nb = task.d, task.n_tasks, task.D, batch, _n_beta(task)
    lead = normals.shape[:-1]
    if normals.shape[-1] != n_normals(task, batch, L):
        raise ValueError(
            f"normals must have {n_normals(task, batch, L)} entries on the last axis, got {normals.shape[-1]}"
        )
    dt, dev = normals.dtype, normals.device
    n_tok = B * (L + 1) * D
    tokens = normals[..., :n_tok].view(*lead, B, L + 1, D)  # (…, B, L+1, D), the query last
    beta = normals[..., n_tok:].view(*lead, B, d, nb)
    if task.prior == "rademacher":  # by the sign bit, so that a draw of exactly ±0 still gives ±1
        beta = 1.0 - 2.0 * torch.signbit(beta).to(dt)
    if task.convention == "paper":
        beta = beta / math.sqrt(d)
    x, y = tokens[..., :d], tokens[..., d:]
    if task.covariance != "isotropic":
        chol = torch.linalg.cholesky(torch.as_tensor(covariance_matrix(task), dtype=dt, device=dev))
        x.copy_(x @ chol.T)
    if task.supports is not None:
        beta = beta * torch.as_tensor(task.support_mask(), dtype=dt, device=dev)  # (…, B, d, T)
    if task.convention == "paper":
        y.mul_(math.sqrt(task.sigma2)).add_(torch.matmul(x, beta))  # y = βᵀx + σε
    else:  # the authors' code: noise std √(|S_t| σ²) per task, noiseless query target
        y.mul_(torch.as_tensor(task.noise_std(), dtype=dt, device=dev)).add_(torch.matmul(x, beta))
        y[..., L, :] = torch.matmul(x[..., L : L + 1, :], beta)[..., 0, :]
    return Prompts(Z=tokens[..., :L, :], x_q=x[..., L, :], y_q=y[..., L, :], beta=beta.expand(*lead, B, d, T))


def sample_prompts(
    task: TaskConfig,
    batch: int,
    generator: torch.Generator,
    *,
    L: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> Prompts:
    """Draw `batch` prompts from `task` (with L context examples if given, else task.L).

    All randomness comes from `generator` (one `randn` call); its device decides where the
    prompts live.
    """
    _check_int("batch", batch, 1)
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    L = task.L if L is None else L
    _check_int("L", L, 1)
    normals = torch.randn(n_normals(task, batch, L), generator=generator, device=generator.device, dtype=dtype)
    return prompts_from_normals(task, normals, batch, L)
