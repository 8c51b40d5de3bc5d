"""Training dynamics on the approximate loss L̃ (4.1): gradient descent for H heads (§4.2), the
symmetric two-head gradient flow (App. B), and stages / phases detected from computed criteria.

Conventions as in `icl.core.theory`: c = (1 + σ²)/L, E = exp(d ωωᵀ) entrywise,
L̃(ω, μ) = 1 + σ² − 2μᵀω + μᵀ(ωωᵀ + cE)μ. Arrays carry a run axis R so that several
initialisations descend together: omega, mu are (R, H); trajectories are (S, R, H) over S records.

Stage criteria (§4.2; thresholds are arguments, the chapter states its choice):
  Stage I ends at the first record with ⟨ω, μ⟩ ≥ (1 − opt_tol) · η_eff, η_eff = 1/(1 + cd)   (4.3);
  sign matching, zero-sum OV and homogeneous |ω_h| are each "reached" at the first record from
  which they hold at every later record (so a transient does not count).
Phase criteria (App. B), on the ODE solution (thresholds are arguments):
  Phase I ends when the growth rate d ln(ω + μ)/dt of the growing mode of the linearised flow
  (B.5) falls below half its initial value (located on the solver's continuous solution);
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
    "small_init",
    "record_steps",
    "Trajectory",
    "gd_approx",
    "gd_approx_heads",
    "StageTimes",
    "pattern_metrics",
    "stage_times",
    "symmetric_loss",
    "FlowSolution",
    "two_head_flow",
    "PhaseTimes",
    "flow_phases",
    "approx_loss_and_grad",
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

    def run(self, r: int) -> Trajectory:
        """Run r alone (the run axis kept, of length 1)."""
        return Trajectory(self.steps, self.omega[:, r : r + 1], self.mu[:, r : r + 1], self.loss[:, r : r + 1], self.lr)


def _check_gd(lr, steps):
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")


def _starts(omega0, mu0, name="omega0 and mu0"):
    w, m = np.atleast_2d(np.asarray(omega0, float)).copy(), np.atleast_2d(np.asarray(mu0, float)).copy()
    if w.shape != m.shape or w.ndim != 2:
        raise ValueError(f"{name} must have the same shape (R, H) or (H,), got {w.shape} and {m.shape}")
    return w, m


def _steps(w, m, live, d: int, c: float, lr: float, n: int) -> None:
    """n GD steps on L̃, in place, for (R, H) arrays w, m: the gradient of `theory.approx_grad`
    with its terms fused, (ω, μ) ← (ω, μ) − 2 lr (μ ∘ (μᵀω − 1 + cd E(μ∘ω)), (μᵀω − 1) ω + c Eμ).
    live: None, or (R, H) 0/1 floats; heads with 0 are padding, held at ω = μ = 0 (they then add
    nothing to the other heads' sums)."""
    a, cd = 2 * lr, c * d
    B = np.empty(w.shape + (2,))  # (R, H, 2): μ, μ∘ω
    ones = np.ones(w.shape[1])
    for _ in range(n):
        E = np.exp((d * w)[:, :, None] * w[:, None, :])  # (R, H, H)
        B[..., 0] = m
        wm = np.multiply(m, w, out=B[..., 1])
        s1 = (wm @ ones)[:, None] - 1  # μᵀω − 1, (R, 1)
        X = E @ B  # Eμ, E(μ∘ω)
        dw = m * (s1 + cd * X[..., 1])
        dm = s1 * w + c * X[..., 0]
        if live is not None:
            dm *= live
        w -= a * dw
        m -= a * dm


def _descend(w, m, live, d, L, sigma2, lr, steps, n_records):
    """GD from (R, H) starts w, m (modified), recording about n_records log-spaced steps:
    (record steps, ω (S, R, H), μ (S, R, H), L̃ (S, R))."""
    rec = record_steps(int(steps), n_records)
    W, M, Ls = np.empty((len(rec),) + w.shape), np.empty((len(rec),) + w.shape), np.empty((len(rec), w.shape[0]))
    c = _c(L, sigma2)
    for j, t in enumerate(rec):
        _steps(w, m, live, d, c, lr, int(t - (rec[j - 1] if j else 0)))
        W[j], M[j] = w, m
        Ls[j] = approx_loss_and_grad(w, m, d, L, sigma2)[0]  # padding (ω = μ = 0) adds nothing to L̃
        if not np.all(np.isfinite(Ls[j])):
            raise RuntimeError(f"gradient descent on L̃ diverged at step {t} (lr = {lr} too large?)")
    return rec, W, M, Ls


def gd_approx(omega0, mu0, d: int, L: int, sigma2: float, *, lr: float, steps: int, n_records: int = 200) -> Trajectory:
    """Gradient descent ω ← ω − lr ∇_ω L̃, μ ← μ − lr ∇_μ L̃ for `steps` iterations, from (R, H)
    (or (H,)) starting points, recording about `n_records` log-spaced iterations."""
    _check_problem(d, L, sigma2)
    w, m = _starts(omega0, mu0)
    _check_gd(lr, steps)
    rec, W, M, Ls = _descend(w, m, None, d, L, sigma2, lr, steps, n_records)
    return Trajectory(rec, W, M, Ls, float(lr))


def gd_approx_heads(
    starts: dict, d: int, L: int, sigma2: float, *, lr: float, steps: int, n_records: int = 200
) -> dict:
    """`gd_approx` for several head counts in one loop: starts {H: (omega0, mu0) of shape (R_H, H)}
    → {H: Trajectory}. The runs are padded with inert zero heads to the largest H and descend
    together (the same iterates as separate `gd_approx` calls, to rounding; one Python loop)."""
    _check_problem(d, L, sigma2)
    _check_gd(lr, steps)
    if not starts:
        raise ValueError("starts must name at least one head count")
    runs = {H: _starts(*x, name=f"starts[{H}]") for H, x in starts.items()}
    for H, (w, _) in runs.items():
        if w.shape[1] != H:
            raise ValueError(f"starts[{H}] must have {H} heads (columns), got {w.shape[1]}")
    Hmax, R = max(runs), sum(w.shape[0] for w, _ in runs.values())
    w, m, live = np.zeros((R, Hmax)), np.zeros((R, Hmax)), np.zeros((R, Hmax))
    rows, r = {}, 0
    for H, (w0, m0) in runs.items():
        rows[H] = slice(r, r + w0.shape[0])
        w[rows[H], :H], m[rows[H], :H], live[rows[H], :H] = w0, m0, 1.0
        r += w0.shape[0]
    rec, W, M, Ls = _descend(w, m, live, d, L, sigma2, lr, steps, n_records)
    return {
        H: Trajectory(rec, W[:, rows[H], :H].copy(), M[:, rows[H], :H].copy(), Ls[:, rows[H]].copy(), float(lr))
        for H in runs
    }


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


def stage_times(
    traj: Trajectory,
    d: int,
    L: int,
    sigma2: float,
    *,
    opt_tol: float = 0.05,
    zero_sum_tol: float = 0.05,
    homogeneity_tol: float = 0.05,
) -> StageTimes:
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


def symmetric_loss(omega, mu, d: int, L: int, sigma2: float) -> np.ndarray:
    """L̃ (4.1) at the symmetric two-head points (ω, −ω; μ, −μ) of Definition B.1, for arrays of
    (ω, μ) of one shape (through `theory.approx_loss_and_grad`, the one implementation of (4.1));
    equal to 1 + σ² − 4ωμ + 4μ²(ω² + c sinh(dω²))."""
    w, m = np.asarray(omega, float), np.asarray(mu, float)
    flat_w, flat_m = w.reshape(-1), m.reshape(-1)
    loss = theory.approx_loss_and_grad(np.stack([flat_w, -flat_w], -1), np.stack([flat_m, -flat_m], -1), d, L, sigma2)[
        0
    ]
    return loss.reshape(w.shape)


@dataclass
class FlowSolution:
    """Solution of the App. B ODE (B.4) (ω_1 = −ω_2 = ω, μ_1 = −μ_2 = μ). t, omega, mu, loss: (S,)
    at 0 and log-spaced times; t_peak: the times of ω's maxima found by the solver's event (all of
    them); dense: the solver's continuous solution t ↦ (ω, μ) on [0, t_max] (None if not kept)."""

    t: np.ndarray
    omega: np.ndarray
    mu: np.ndarray
    loss: np.ndarray
    t_peak: np.ndarray
    d: int
    L: int
    sigma2: float
    dense: object = None

    @property
    def product(self) -> np.ndarray:
        """ωμ (→ η_eff/2 = 1/(2(1 + cd)))."""
        return self.omega * self.mu

    @property
    def ratio(self) -> np.ndarray:
        """μ/ω."""
        return self.mu / self.omega

    def rhs(self) -> tuple[np.ndarray, np.ndarray]:
        """(dω/dt, dμ/dt) along the solution."""
        dw, dm = theory.ode_rhs(0.0, [self.omega, self.mu], self.d, self.L, self.sigma2)
        return np.asarray(dw), np.asarray(dm)

    def growth_rate(self, omega=None, mu=None) -> np.ndarray:
        """d ln(ω + μ)/dt: the rate of the growing mode ω + μ of the linearised flow (B.5), which is 2
        while (B.5) holds, whatever the start (the other mode, ω − μ, decays at rate 2)."""
        w = self.omega if omega is None else np.asarray(omega, float)
        m = self.mu if mu is None else np.asarray(mu, float)
        dw, dm = theory.ode_rhs(0.0, [w, m], self.d, self.L, self.sigma2)
        return (np.asarray(dw) + np.asarray(dm)) / (w + m)

    def at(self, t: float) -> tuple[float, float]:
        """(ω, μ) at time t from the solver's continuous solution."""
        if self.dense is None:
            raise ValueError("this FlowSolution kept no continuous solution (dense=None)")
        w, m = self.dense(t)
        return float(w), float(m)


def two_head_flow(
    omega0: float,
    mu0: float,
    d: int,
    L: int,
    sigma2: float,
    *,
    t_max: float = 1e6,
    n_eval: int = 2000,
    t_min: float = 1e-3,
    rtol: float = 1e-10,
    atol: float = 1e-13,
) -> FlowSolution:
    """Gradient flow (B.4) of L̃ on the symmetric two-head family (`theory.ode_rhs`) from (ω₀, μ₀),
    solved with scipy.integrate.solve_ivp (LSODA) on [0, t_max], sampled at 0 and log-spaced times;
    the continuous solution is kept for times between the samples."""
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
    sol = solve_ivp(
        theory.ode_rhs,
        (0.0, t_max),
        [omega0, mu0],
        method="LSODA",
        t_eval=t_eval,
        events=peak,
        args=(d, L, sigma2),
        rtol=rtol,
        atol=atol,
        dense_output=True,
    )
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    w, m = sol.y
    return FlowSolution(
        sol.t, w, m, symmetric_loss(w, m, d, L, sigma2), np.asarray(sol.t_events[0]), d, L, sigma2, sol.sol
    )


@dataclass
class PhaseTimes:
    """Phase boundaries of a `FlowSolution` and what App. B says about each phase.

    t1: end of Phase I; t_peak: end of Phase II (ω's first maximum); ratio_at_t1: μ/ω at t1;
    ratio_dev_phase1: max |μ/ω − 1| over [0, t1]; n_peaks: the number of maxima of ω;
    decreasing_after_peak: dω/dt < 0 at every output time after the peak; mu_increasing: dμ/dt > 0
    at every output time; product_limit: η_eff/2 = 1/(2(1 + cd)); product_final: ωμ at the last time."""

    t1: float
    t_peak: float
    ratio_at_t1: float
    ratio_dev_phase1: float
    n_peaks: int
    decreasing_after_peak: bool
    mu_increasing: bool
    product_limit: float
    product_final: float


def flow_phases(sol: FlowSolution, *, rate_drop: float = 0.5) -> PhaseTimes:
    """Phases of the App. B flow. Phase I ends when the growth rate d ln(ω + μ)/dt of the growing
    mode first falls below `rate_drop` times its value at t = 0 (the exponential growth (B.6) has
    stopped), located between output times on the continuous solution (so t1 does not depend on the
    sampling); Phase II ends at ω's first peak (the solver's event dω/dt = 0)."""
    from scipy.optimize import brentq

    if not (0 < rate_drop < 1):
        raise ValueError(f"rate_drop must lie in (0, 1), got {rate_drop!r}")
    dw, dm = sol.rhs()
    rate = sol.growth_rate()
    level = rate_drop * rate[0]
    below = np.flatnonzero(rate < level)
    if len(below) == 0:
        i1, t1, r1 = len(sol.t) - 1, float(sol.t[-1]), float(sol.ratio[-1])
    else:
        i1 = int(below[0])
        t1 = float(sol.t[i1])
        if sol.dense is not None and i1 > 0:
            t1 = brentq(lambda t: float(sol.growth_rate(*sol.at(t))) - level, sol.t[i1 - 1], sol.t[i1], xtol=1e-12)
        w1, m1 = sol.at(t1) if sol.dense is not None else (sol.omega[i1], sol.mu[i1])
        r1 = m1 / w1
    before = sol.t < t1
    n_peaks = len(sol.t_peak)
    t_peak = float(sol.t_peak[0]) if n_peaks else float("nan")
    after = sol.t > t_peak if n_peaks else np.zeros_like(sol.t, bool)
    return PhaseTimes(
        t1=t1,
        t_peak=t_peak,
        ratio_at_t1=float(r1),
        ratio_dev_phase1=float(max(np.max(np.abs(sol.ratio[before] - 1), initial=0.0), abs(r1 - 1))),
        n_peaks=n_peaks,
        decreasing_after_peak=bool(after.any() and np.all(dw[after] < 0)),
        mu_increasing=bool(np.all(dm > 0)),
        product_limit=theory.eta_eff(sol.d, sol.L, sol.sigma2) / 2,
        product_final=float(sol.product[-1]),
    )
