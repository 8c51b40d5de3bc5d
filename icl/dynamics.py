"""Training dynamics on the approximate loss L̃ (4.1): gradient descent for H heads (§4.2), the
symmetric two-head gradient flow (App. B), and stages / phases detected from computed criteria.

Conventions as in `icl.theory`: c = (1 + σ²)/L, E = exp(d ωωᵀ) entrywise,
L̃(ω, μ) = 1 + σ² − 2μᵀω + μᵀ(ωωᵀ + cE)μ. Arrays carry a run axis R so that several
initialisations descend together: omega, mu are (R, H); trajectories are (S, R, H) over S records.

Stage criteria (§4.2; thresholds are arguments, the chapter states its choice):
  Stage I ends at the first record with ⟨ω, μ⟩ ≥ (1 − opt_tol) · η_eff, η_eff = 1/(1 + cd)   (4.3);
  sign matching, zero-sum OV and homogeneous |ω_h| are each "reached" at the first record from
  which they hold at every later record (so a transient does not count).
Phase criteria (App. B), on the ODE solution:
  Phase I ends when the growth rate d ln ω/dt falls below half its initial value;
  Phase II ends at the peak of ω (an event of the solver, dω/dt = 0);
  Phase III is the rest: ω decays while ωμ → 1/(2(1 + cd)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import theory
from .circuits import dummy_heads, settled_index, sign_matching, zero_sum_ratio

__all__ = [
    "Trajectory",
    "approx_loss_and_grad",
    "small_init",
    "gd_approx",
    "StageTimes",
    "stage_times",
    "FlowSolution",
    "two_head_flow",
    "PhaseTimes",
    "flow_phases",
    "record_steps",
    "pattern_metrics",
]


_c = theory.c
approx_loss_and_grad = theory.approx_loss_and_grad  # re-exported: L̃ for many runs at once


def _check_problem(d, L, sigma2):
    for name, v in (("d", d), ("L", L)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if not (isinstance(sigma2, (int, float)) and math.isfinite(sigma2) and sigma2 >= 0):
        raise ValueError(f"sigma2 must be a finite number >= 0, got {sigma2!r}")


def small_init(heads: int, runs: int, scale: float, seed: int):
    """i.i.d. N(0, scale²) entries for ω and μ: two (runs, heads) arrays (§4.2's small initialisation)."""
    for name, v in (("heads", heads), ("runs", runs)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((runs, heads)), scale * rng.standard_normal((runs, heads))


def record_steps(steps: int, n: int) -> np.ndarray:
    """0 and about n log-spaced steps up to `steps` (the iterations at which a run is recorded)."""
    return np.unique(np.r_[0, np.round(np.logspace(0, np.log10(max(steps, 1)), n)).astype(int)])


@dataclass
class Trajectory:
    """GD on L̃. steps: (S,) iterations; omega, mu: (S, R, H); loss: (S, R); lr: the step size.
    `time` = steps · lr is the gradient-flow clock the GD run approximates."""

    steps: np.ndarray
    omega: np.ndarray
    mu: np.ndarray
    loss: np.ndarray
    lr: float

    @property
    def time(self) -> np.ndarray:
        return self.steps * self.lr

    def run(self, r: int) -> "Trajectory":
        """Run r alone (the run axis kept, of length 1)."""
        return Trajectory(self.steps, self.omega[:, r : r + 1], self.mu[:, r : r + 1], self.loss[:, r : r + 1], self.lr)


def gd_approx(omega0, mu0, d: int, L: int, sigma2: float, *, lr: float, steps: int, n_records: int = 200) -> Trajectory:
    """Gradient descent ω ← ω − lr ∇_ω L̃, μ ← μ − lr ∇_μ L̃ for `steps` iterations, from (R, H)
    (or (H,)) starting points, recording about `n_records` log-spaced iterations."""
    _check_problem(d, L, sigma2)
    w, m = np.atleast_2d(np.asarray(omega0, float)).copy(), np.atleast_2d(np.asarray(mu0, float)).copy()
    if w.shape != m.shape or w.ndim != 2:
        raise ValueError(f"omega0 and mu0 must have the same shape (R, H) or (H,), got {w.shape} and {m.shape}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    rec = record_steps(int(steps), n_records)
    S = len(rec)
    W, M, Ls = np.empty((S,) + w.shape), np.empty((S,) + w.shape), np.empty((S, w.shape[0]))
    j = 0
    for t in range(int(steps) + 1):
        loss, g_w, g_mu = approx_loss_and_grad(w, m, d, L, sigma2)
        if t == rec[j]:
            W[j], M[j], Ls[j] = w, m, loss
            j += 1
            if not np.all(np.isfinite(loss)):
                raise RuntimeError(f"gradient descent on L̃ diverged at step {t} (lr = {lr} too large?)")
            if j == S:
                break
        w -= lr * g_w
        m -= lr * g_mu
    return Trajectory(rec, W, M, Ls, float(lr))


@dataclass
class StageTimes:
    """Per run (arrays of length R), the iteration at which each pattern is reached (−1: never).

    stage1_end: ⟨ω, μ⟩ first ≥ (1 − opt_tol) η_eff. sign, zero_sum, homogeneous: first record from
    which the pattern holds at every later record."""

    stage1_end: np.ndarray
    sign: np.ndarray
    zero_sum: np.ndarray
    homogeneous: np.ndarray


def _settled(ok: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """ok: (S, R) booleans → per run the first step from which ok holds to the end (−1 if not at the end)."""
    i = settled_index(ok)
    return np.where(i >= 0, np.asarray(steps)[np.maximum(i, 0)], -1).astype(np.int64)


def pattern_metrics(omega, mu):
    """Per record and run: sign-matching fraction over non-dummy heads, |Σμ_h|/Σ|μ_h|, and the relative
    spread (max − min)/max of |ω_h| over non-dummy heads. omega, mu: (..., H) → three (...,) arrays."""
    w, m = np.asarray(omega, float), np.asarray(mu, float)
    dummy = dummy_heads(w, m)
    sign, zs = sign_matching(w, m, dummy), zero_sum_ratio(m)
    a = np.where(dummy, np.nan, np.abs(w))
    spread = (np.nanmax(a, -1) - np.nanmin(a, -1)) / np.nanmax(a, -1)
    return sign, zs, spread


def stage_times(traj: Trajectory, d: int, L: int, sigma2: float, *, opt_tol: float = 0.05, zero_sum_tol: float = 0.05,
                homogeneity_tol: float = 0.05) -> StageTimes:
    """Stage boundaries of a GD run on L̃ (see the module docstring for the criteria)."""
    for name, v in (("opt_tol", opt_tol), ("zero_sum_tol", zero_sum_tol), ("homogeneity_tol", homogeneity_tol)):
        if not (0 < v < 1):
            raise ValueError(f"{name} must lie in (0, 1), got {v!r}")
    eta = theory.eta_eff(d, L, sigma2)
    inner = np.einsum("srh,srh->sr", traj.omega, traj.mu)
    reached = inner >= (1 - opt_tol) * eta
    first = np.where(reached.any(0), traj.steps[np.argmax(reached, 0)], -1)
    sign, zs, spread = pattern_metrics(traj.omega, traj.mu)
    return StageTimes(
        stage1_end=first.astype(np.int64),
        sign=_settled(sign == 1.0, traj.steps),
        zero_sum=_settled(zs <= zero_sum_tol, traj.steps),
        homogeneous=_settled(spread <= homogeneity_tol, traj.steps),
    )


# --- App. B: the symmetric two-head gradient flow ------------------------------------------------


@dataclass
class FlowSolution:
    """Solution of the App. B ODE (ω_1 = −ω_2 = ω, μ_1 = −μ_2 = μ). t, omega, mu, loss: (S,) on a
    log-spaced grid; t_peak: the time of ω's maxima found by the solver's event (all of them)."""

    t: np.ndarray
    omega: np.ndarray
    mu: np.ndarray
    loss: np.ndarray
    t_peak: np.ndarray
    d: int
    L: int
    sigma2: float

    @property
    def product(self) -> np.ndarray:
        """ωμ (→ 1/(2(1 + cd)))."""
        return self.omega * self.mu

    @property
    def ratio(self) -> np.ndarray:
        """μ/ω."""
        return self.mu / self.omega

    def rhs(self) -> tuple[np.ndarray, np.ndarray]:
        """(dω/dt, dμ/dt) along the solution."""
        dw, dm = theory.ode_rhs(0.0, [self.omega, self.mu], self.d, self.L, self.sigma2)
        return np.asarray(dw), np.asarray(dm)


def two_head_flow(omega0: float, mu0: float, d: int, L: int, sigma2: float, *, t_max: float = 1e6, n_eval: int = 2000,
                  t_min: float = 1e-3, rtol: float = 1e-10, atol: float = 1e-13) -> FlowSolution:
    """Gradient flow of the per-head L̃ on the symmetric two-head family (notes §10, `theory.ode_rhs`),
    solved with scipy.integrate.solve_ivp (LSODA) on [0, t_max], sampled at 0 and log-spaced times."""
    from scipy.integrate import solve_ivp

    _check_problem(d, L, sigma2)
    for name, v in (("omega0", omega0), ("mu0", mu0)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    if not (isinstance(t_max, (int, float)) and t_max > t_min > 0):
        raise ValueError(f"t_max must exceed t_min > 0, got t_max={t_max!r}, t_min={t_min!r}")

    def peak(t, y, *args):  # dω/dt = 0 with ω decreasing through it: the maximum of ω
        return theory.ode_rhs(t, y, *args)[0]

    peak.direction = -1
    t_eval = np.r_[0.0, np.logspace(math.log10(t_min), math.log10(t_max), n_eval)]
    sol = solve_ivp(theory.ode_rhs, (0.0, t_max), [omega0, mu0], method="LSODA", t_eval=t_eval, events=peak,
                    args=(d, L, sigma2), rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    w, m = sol.y
    c = _c(L, sigma2)
    loss = 1 + sigma2 - 4 * w * m + 4 * m**2 * (w**2 + c * np.sinh(d * w**2))
    return FlowSolution(sol.t, w, m, loss, np.asarray(sol.t_events[0]), d, L, sigma2)


@dataclass
class PhaseTimes:
    """Phase boundaries of a `FlowSolution`: t1 (end of Phase I), t_peak (end of Phase II), and the
    checks the chapter reports: max |μ/ω − 1| over Phase I, the number of maxima of ω, whether ω
    decreases throughout Phase III, the limit 1/(2(1 + cd)) of ωμ and ωμ at the last time."""

    t1: float
    t_peak: float
    ratio_dev_phase1: float
    n_peaks: int
    decreasing_after_peak: bool
    product_limit: float
    product_final: float


def flow_phases(sol: FlowSolution, *, rate_drop: float = 0.5) -> PhaseTimes:
    """Phases of the App. B flow: Phase I ends when d ln ω/dt first falls below `rate_drop` times its
    value at t = 0; Phase II ends at ω's (first) peak."""
    if not (0 < rate_drop < 1):
        raise ValueError(f"rate_drop must lie in (0, 1), got {rate_drop!r}")
    dw, _ = sol.rhs()
    rate = dw / sol.omega
    below = np.flatnonzero(rate < rate_drop * rate[0])
    i1 = below[0] if len(below) else len(sol.t) - 1
    n_peaks = len(sol.t_peak)
    t_peak = float(sol.t_peak[0]) if n_peaks else float("nan")
    after = sol.t > t_peak if n_peaks else np.zeros_like(sol.t, bool)
    c = _c(sol.L, sol.sigma2)
    return PhaseTimes(
        t1=float(sol.t[i1]),
        t_peak=t_peak,
        ratio_dev_phase1=float(np.max(np.abs(sol.ratio[: i1 + 1] - 1))),
        n_peaks=n_peaks,
        decreasing_after_peak=bool(after.any() and np.all(dw[after] < 0)),
        product_limit=1 / (2 * (1 + c * sol.d)),
        product_final=float(sol.product[-1]),
    )
