"""Out-of-distribution prompts: test-time shifts of the task and debiased GD's exact risk under each.

Training prompts (the isotropic single task): x_l, x_q ~ N(0, I_d), β ~ N(0, I_d/d), y = βᵀx + ε,
ε ~ N(0, σ²), L context pairs. A `Shift` changes one or more of these at test time:

    x_scale s            x → s x (context and query), so x ~ N(0, s² I_d)
    beta_mean            β ~ N(m, I_d/d), m = beta_mean · (1, …, 1)/√d
    beta_spectrum λ      β ~ N(0, diag(λ)/d), λ normalised to mean 1 (tr E[ββᵀ] = 1 as in training)
    sigma2 σ'²           label noise ε ~ N(0, σ'²)
    orthogonal_query     x_q → ‖x_q‖ Q⊥x_q / ‖Q⊥x_q‖, Q⊥ the projection orthogonal to span(x_1 … x_L)
    L                    L' context pairs

With B = E[ββᵀ] = m mᵀ + diag(λ)/d (both parts together when both are set), tr B = 1 + beta_mean².
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from .data import Prompts, TaskConfig, n_normals, prompts_from_normals

__all__ = ["Shift", "sample_shifted", "shifted_errors", "dgd_shift_risk", "mean_predictor_risk", "linear_kernel_offset"]


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


@dataclass(frozen=True)
class Shift:
    """Test-time changes of the prompt distribution, each at its identity by default (see the module).

    x_scale: s > 0, every covariate multiplied by s. beta_mean: ‖m‖ for the prior mean m = beta_mean · 1/√d
    (a negative value points m the other way). beta_spectrum: λ (d entries ≥ 0, not all 0; stored
    normalised to mean 1; its length is checked against the task's d where the task is known).
    sigma2: the test noise variance σ'² (None: the task's). orthogonal_query: the query projected
    orthogonally to the context covariates and rescaled to its norm (needs L' < d). L: the test length
    L' (None: the task's).
    """

    x_scale: float = 1.0
    beta_mean: float = 0.0
    beta_spectrum: tuple[float, ...] | None = None
    sigma2: float | None = None
    orthogonal_query: bool = False
    L: int | None = None

    def __post_init__(self):
        if not (_is_real(self.x_scale) and math.isfinite(self.x_scale) and self.x_scale > 0):
            raise ValueError(f"x_scale must be a finite number > 0, got {self.x_scale!r}")
        if not (_is_real(self.beta_mean) and math.isfinite(self.beta_mean)):
            raise ValueError(f"beta_mean must be a finite number, got {self.beta_mean!r}")
        if self.beta_spectrum is not None:
            lam = self.beta_spectrum
            if isinstance(lam, (str, bytes)) or not hasattr(lam, "__iter__"):
                raise ValueError(f"beta_spectrum must be a sequence of numbers (or None), got {lam!r}")
            lam = tuple(lam)
            if not (len(lam) > 0 and all(_is_real(v) and math.isfinite(v) and v >= 0 for v in lam) and sum(lam) > 0):
                raise ValueError(
                    "beta_spectrum must be a non-empty sequence of finite numbers >= 0, not all 0, "
                    f"got {self.beta_spectrum!r}"
                )
            mean = sum(float(v) for v in lam) / len(lam)
            object.__setattr__(self, "beta_spectrum", tuple(float(v) / mean for v in lam))
        if self.sigma2 is not None and not (_is_real(self.sigma2) and math.isfinite(self.sigma2) and self.sigma2 >= 0):
            raise ValueError(f"sigma2 must be a finite number >= 0 (or None), got {self.sigma2!r}")
        if not isinstance(self.orthogonal_query, (bool, np.bool_)):
            raise ValueError(f"orthogonal_query must be a bool, got {self.orthogonal_query!r}")
        if self.L is not None and (
            isinstance(self.L, (bool, np.bool_)) or not isinstance(self.L, (int, np.integer)) or self.L < 1
        ):
            raise ValueError(f"L must be an integer >= 1 (or None), got {self.L!r}")

    @property
    def label(self) -> str:
        """A short readable name, e.g. "x × 2", "β mean 1, σ² = 0.5"; "no shift" at the identity."""
        parts = []
        if self.x_scale != 1:
            parts.append(f"x × {self.x_scale:g}")
        if self.beta_mean != 0:
            parts.append(f"β mean {self.beta_mean:g}")
        if self.beta_spectrum is not None:
            parts.append(f"β spectrum [{min(self.beta_spectrum):.2g}, {max(self.beta_spectrum):.2g}]")
        if self.sigma2 is not None:
            parts.append(f"σ² = {self.sigma2:g}")
        if self.orthogonal_query:
            parts.append("query ⊥ context")
        if self.L is not None:
            parts.append(f"L' = {self.L}")
        return ", ".join(parts) or "no shift"


def _resolve(task: TaskConfig, shift: Shift) -> tuple[int, float]:
    """Check that `shift` applies to `task`; return (L', σ'²)."""
    if not isinstance(task, TaskConfig):
        raise ValueError(f"task must be a TaskConfig, got {type(task).__name__}")
    if not isinstance(shift, Shift):
        raise ValueError(f"shift must be a Shift, got {type(shift).__name__}")
    if task.covariance != "isotropic" or task.supports is not None:
        raise ValueError(f"shifts are defined for the isotropic single-task problem only, got task {task!r}")
    L = task.L if shift.L is None else shift.L
    if shift.beta_spectrum is not None and len(shift.beta_spectrum) != task.d:
        raise ValueError(f"beta_spectrum must have d = {task.d} entries, got {len(shift.beta_spectrum)}")
    if shift.orthogonal_query and L >= task.d:
        raise ValueError(
            f"orthogonal_query needs L' < d (else the context spans R^d and no orthogonal query is left), "
            f"got L' = {L}, d = {task.d}"
        )
    return L, task.sigma2 if shift.sigma2 is None else shift.sigma2


def _orthogonal_part(X: torch.Tensor, x_q: torch.Tensor) -> torch.Tensor:
    """x_q − Q Qᵀ x_q, Q an orthonormal basis of span(x_1 … x_L) (projected twice, for orthogonality
    to rounding). X: (B, L, d), x_q: (B, d) → (B, d)."""
    Q = torch.linalg.qr(X.transpose(-1, -2)).Q  # (B, d, L)
    r = x_q
    for _ in range(2):
        r = r - torch.einsum("bdl,bl->bd", Q, torch.einsum("bdl,bd->bl", Q, r))
    return r


def sample_shifted(
    task: TaskConfig, shift: Shift, batch: int, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> Prompts:
    """Draw `batch` prompts of `task` (isotropic, single task) under `shift`.

    The same normals as `sample_prompts(task, batch, generator, L=L', dtype=dtype)` (one `randn` call,
    the same generator consumption), transformed before they become prompts: the covariates scaled by s
    and the query orthogonalised, β's normals z turned into √λ z + √d m (so β = √(λ/d) z + m), and
    the noise σ'². The identity shift gives `sample_prompts`' prompts bit for bit.
    """
    L, sigma2 = _resolve(task, shift)
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    d, D = task.d, task.D
    normals = torch.randn(n_normals(task, batch, L), generator=generator, device=generator.device, dtype=dtype)
    n_tok = batch * (L + 1) * D
    x = normals[:n_tok].view(batch, L + 1, D)[..., :d]  # (B, L+1, d): becomes the covariates as they are
    z_beta = normals[n_tok:].view(batch, d)  # (B, d): β = z_beta / √d in `prompts_from_normals`
    if shift.x_scale != 1:
        x.mul_(shift.x_scale)
    if shift.orthogonal_query:
        xq = x[:, L]  # (B, d)
        r = _orthogonal_part(x[:, :L], xq)
        xq.copy_(r * (xq.norm(dim=-1, keepdim=True) / r.norm(dim=-1, keepdim=True)))
    if shift.beta_spectrum is not None:
        z_beta.mul_(torch.tensor(shift.beta_spectrum, dtype=dtype, device=normals.device).sqrt())
    if shift.beta_mean != 0:
        z_beta.add_(shift.beta_mean)  # √d · m = beta_mean · (1, …, 1)
    return prompts_from_normals(replace(task, sigma2=sigma2), normals, batch, L)


def shifted_errors(
    predictors: dict, task: TaskConfig, shift: Shift, n_prompts: int, *, seed: int = 0, batch: int = 5_000
) -> dict:
    """Per-prompt squared errors (averaged over tasks) of every predictor on the same shifted prompts
    (common random numbers): id → (n,) float64 tensor. At the identity shift these are
    `estimators.paired_errors`' errors (same seed, batch and L) exactly."""
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, (int, np.integer)) or n_prompts < 2:
        raise ValueError(f"n_prompts must be an integer >= 2, got {n_prompts!r}")
    _resolve(task, shift)
    g = torch.Generator().manual_seed(seed)
    errs = {k: [] for k in predictors}
    left = n_prompts
    while left > 0:
        P = sample_shifted(task, shift, min(batch, left), g)
        left -= len(P)
        for k, f in predictors.items():
            errs[k].append(((f(P) - P.y_q) ** 2).mean(-1).double().cpu())
    return {k: torch.cat(v) for k, v in errs.items()}


def _tr_B(shift: Shift) -> float:
    """tr E[ββᵀ] = ‖m‖² + tr diag(λ)/d = beta_mean² + 1 (λ has mean 1)."""
    return shift.beta_mean**2 + 1.0


def dgd_shift_risk(eta, task: TaskConfig, shift: Shift):
    """Exact risk E(ŷ − y_q)² of debiased GD ŷ = (η/L') Σ_l y_l (x_l − x̄)ᵀ x_q under `shift` (no Monte Carlo).

    With P = I − 11ᵀ/L' (centring), S = XᵀPX ~ Wishart(Σ, n), Σ = s² I, n = L' − 1, and y = Xβ + ε:
        ŷ − y_q = x_qᵀ (ηS/L' − I) β + (η/L') x_qᵀ XᵀP ε − ε_q.
    β, ε, x_q are independent of X (x_q of S), so with B = E[ββᵀ] and E[S A S] = n(n+1) ΣAΣ + n tr(AΣ) Σ:
        R = tr(Σ E[(ηS/L' − I) B (ηS/L' − I)]) + (η²σ'²/L'²) E[x_qᵀ S x_q] + σ'²
          = tr(Σ [(η²/L'²)(n(n+1) ΣBΣ + n tr(BΣ) Σ) − (ηn/L')(ΣB + BΣ) + B]) + (η²σ'²/L'²) n tr Σ² + σ'²
          = s² tr B · [1 − 2ηn s²/L' + η² n(n + d + 1) s⁴/L'²] + η² σ'² n d s⁴/L'² + σ'²,
    tr B = 1 + beta_mean²: the spectrum λ and the direction of m drop out (x is isotropic). The identity
    shift gives `theory.dgd_risk(η, d, L, σ²)`.
    Orthogonal query: every x_l − x̄ lies in span(x_1 … x_L') ⟂ x_q, so ŷ = 0 exactly and
    R = E[(βᵀx_q)²] + σ'² = s² tr B + σ'² (given X the query's direction is uniform on the unit sphere of
    the orthogonal complement, independent of its norm, and E[Q⊥] = (1 − L'/d) I; see `mean_predictor_risk`).
    eta: a number (→ float) or an array (→ array).
    """
    L, sigma2 = _resolve(task, shift)
    eta = np.asarray(eta, float)
    d, n, s2, trB = task.d, L - 1, shift.x_scale**2, _tr_B(shift)
    if shift.orthogonal_query:
        r = np.full_like(eta, s2 * trB + sigma2)
    else:
        r = s2 * trB * (1 - 2 * eta * n * s2 / L + eta**2 * n * (n + d + 1) * s2**2 / L**2)
        r = r + eta**2 * sigma2 * n * d * s2**2 / L**2 + sigma2
    return float(r) if r.ndim == 0 else r


def mean_predictor_risk(c, task: TaskConfig, shift: Shift):
    """Exact risk of ŷ = c ȳ (ȳ = mean_l y_l) under `shift`: c² E[ȳ²] − 2c E[ȳ y_q] + E[y_q²] with
        E[ȳ²] = (s² tr B + σ'²)/L',   E[ȳ y_q] = E[x̄ᵀ B x_q] = 0,   E[y_q²] = s² tr B + σ'².
    E[ȳ y_q] = 0 also for the orthogonal query, which is odd in x_q (so E[x_q | X] = 0); its E[y_q²] holds
    since its direction u is uniform on the sphere of span(X)⊥ given X, independent of ‖x_q‖, and the
    span is uniform, E[Q⊥] = (1 − L'/d) I: E[(βᵀx_q)²] = E‖x_q‖² tr(E[Q⊥]B)/(d − L') = s² tr B.

    This is the model's exact risk when the query is orthogonal to the context and each head's KQ
    circuit is ω_h I on the x-block: all softmax weights are then 1/L', so Σ_h μ_h NW_{ω_h} = (Σ_h μ_h) ȳ;
    c = Σ_h μ_h (0 for zero-sum heads, whose prediction is then 0, as debiased GD's).
    c: a number (→ float) or an array (→ array).
    """
    L, sigma2 = _resolve(task, shift)
    c = np.asarray(c, float)
    ey2 = shift.x_scale**2 * _tr_B(shift) + sigma2  # E[y_q²] = E[y_l²]
    r = c**2 * ey2 / L + ey2
    return float(r) if r.ndim == 0 else r


def linear_kernel_offset(mu_sum, task: TaskConfig, shift: Shift):
    """The extra risk of the zero-order term (Σ_h μ_h) ȳ over predicting 0 (debiased GD's prediction for an
    orthogonal query): `mean_predictor_risk(mu_sum) − mean_predictor_risk(0)` = (Σμ)² (s² tr B + σ'²)/L'."""
    return mean_predictor_risk(mu_sum, task, shift) - mean_predictor_risk(0.0, task, shift)
