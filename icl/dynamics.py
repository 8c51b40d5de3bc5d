"""Training dynamics on the approximate loss L̃ (4.1): gradient descent for H heads (§4.2), the
symmetric two-head gradient flow (App. B), and stages / phases detected from computed criteria.

Conventions as in `icl.theory`: c = (1 + σ²)/L, E = exp(d ωωᵀ) entrywise,
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
    "Trajectory",
    "approx_loss_and_grad",
    "small_init",
    "gd_approx",
    "gd_approx_heads",
    "StageTimes",
    "stage_times",
    "FlowSolution",
    "two_head_flow",
    "PhaseTimes",
    "flow_phases",
    "record_steps",
    "pattern_metrics",
    "symmetric_loss",
    "SymmetricReading",
    "symmetric_reading",
    "FlowStudy",
    "flow_study",
    "chapter_flow_study",
    "phase_table",
    "adam_opposite_start",
    "glue_flow",
    "add_flow_claims",
    "plot_flow_phases",
    "plot_adam_vs_flow",
    "words",
    "count",
    "power_of_ten",
]


_c = theory.c
approx_loss_and_grad = theory.approx_loss_and_grad  # re-exported: L̃ for many runs at once


# Text for glued numbers in prose: lists joined with "and", thousands separated by a narrow
# no-break space, powers of ten written with a superscript.
def words(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(x) for x in items]
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]


def count(n) -> str:
    """An integer with a narrow no-break space between thousands: 200 000."""
    return f"{int(n):,}".replace(",", "\u202f")


def power_of_ten(x) -> str:
    """10⁶ for 1e6 (a power of ten), else `count`."""
    k = math.log10(x)
    if x > 0 and abs(k - round(k)) < 1e-12:
        return "10" + str(int(round(k))).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return count(x)


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


def gd_approx_heads(starts: dict, d: int, L: int, sigma2: float, *, lr: float, steps: int,
                    n_records: int = 200) -> dict:
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
    return {H: Trajectory(rec, W[:, rows[H], :H].copy(), M[:, rows[H], :H].copy(), Ls[:, rows[H]].copy(), float(lr))
            for H in runs}


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


def symmetric_loss(omega, mu, d: int, L: int, sigma2: float) -> np.ndarray:
    """L̃ (4.1) at the symmetric two-head points (ω, −ω; μ, −μ) of Definition B.1, for arrays of
    (ω, μ) of one shape (through `theory.approx_loss_and_grad`, the one implementation of (4.1));
    equal to 1 + σ² − 4ωμ + 4μ²(ω² + c sinh(dω²))."""
    w, m = np.asarray(omega, float), np.asarray(mu, float)
    flat_w, flat_m = w.reshape(-1), m.reshape(-1)
    loss = theory.approx_loss_and_grad(np.stack([flat_w, -flat_w], -1), np.stack([flat_m, -flat_m], -1), d, L, sigma2)[0]
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


def two_head_flow(omega0: float, mu0: float, d: int, L: int, sigma2: float, *, t_max: float = 1e6, n_eval: int = 2000,
                  t_min: float = 1e-3, rtol: float = 1e-10, atol: float = 1e-13) -> FlowSolution:
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
    sol = solve_ivp(theory.ode_rhs, (0.0, t_max), [omega0, mu0], method="LSODA", t_eval=t_eval, events=peak,
                    args=(d, L, sigma2), rtol=rtol, atol=atol, dense_output=True)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    w, m = sol.y
    return FlowSolution(sol.t, w, m, symmetric_loss(w, m, d, L, sigma2), np.asarray(sol.t_events[0]), d, L, sigma2, sol.sol)


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


# --- App. B on the full model: Adam from the opposite small identity ----------------------------


@dataclass
class SymmetricReading:
    """A two-head run read on the symmetric family of Definition B.1, one value per snapshot.

    steps: (S,) snapshot steps; omega, mu: the symmetric parts (ω₁ − ω₂)/2, (μ₁ − μ₂)/2;
    asym_omega, asym_mu: how far the run leaves the family, |ω₁ + ω₂|/|ω₁ − ω₂| and
    |μ₁ + μ₂|/|μ₁ − μ₂|; off_pattern: the largest weight outside the pattern (3.1) at the last
    snapshot (off-diagonal KQ, key-y row, OV x-part, over both heads)."""

    steps: np.ndarray
    omega: np.ndarray
    mu: np.ndarray
    asym_omega: np.ndarray
    asym_mu: np.ndarray
    off_pattern: float

    @property
    def product(self) -> np.ndarray:
        return self.omega * self.mu

    @property
    def i_peak(self) -> int:
        return int(np.argmax(self.omega))

    @property
    def rises_after_peak(self) -> int:
        """Snapshots after ω's highest one that are higher than their predecessor (0: a single peak)."""
        return int(np.sum(np.diff(self.omega[self.i_peak:]) > 0))

    @property
    def mu_falls(self) -> int:
        """Snapshots at which μ is lower than at the previous one (0: μ rises monotonically)."""
        return int(np.sum(np.diff(self.mu) < 0))

    @property
    def max_asymmetry(self) -> float:
        return float(max(self.asym_omega.max(), self.asym_mu.max()))

    def reversals(self) -> tuple[float, float, int]:
        """The largest rise of ω after its peak and the largest fall of μ, each relative to the value
        it moves from (0.0 where there is none), and the step of the earliest such reversal (−1: none)."""
        dw = np.diff(self.omega[self.i_peak:]) / self.omega[self.i_peak:-1]
        dm = np.diff(self.mu) / np.abs(self.mu[:-1])
        at = [*self.steps[self.i_peak + 1:][dw > 0], *self.steps[1:][dm < 0]]
        return (float(max(dw.max(initial=0.0), 0.0)), float(max(-dm.min(initial=0.0), 0.0)),
                int(min(at)) if at else -1)

    def spread_after(self, step: int) -> float:
        """max over snapshots at or after `step` of |ω/ω_final − 1| and |μ/μ_final − 1|."""
        at = self.steps >= step
        return float(max(np.abs(self.omega[at] / self.omega[-1] - 1).max(), np.abs(self.mu[at] / self.mu[-1] - 1).max()))


def symmetric_reading(history, steps, final=None) -> SymmetricReading:
    """Read a two-head run's snapshots (`history`: a `circuits.HeadPattern` with leading axis S,
    e.g. `TrainedRun.history()`) on the symmetric family; `final`: its last pattern for the
    off-pattern weights (default: the last snapshot)."""
    w, m = np.asarray(history.omega, float), np.asarray(history.mu, float)
    if w.ndim != 2 or w.shape[1] != 2:
        raise ValueError(f"symmetric_reading needs a two-head history of shape (S, 2), got {w.shape}")
    dw, dm = w[:, 0] - w[:, 1], m[:, 0] - m[:, 1]
    last = final if final is not None else history
    off = max(float(np.max(np.asarray(x).reshape(-1, 2)[-1])) for x in (last.offdiag_max, last.key_y_row, last.ov_x_part))
    return SymmetricReading(np.asarray(steps), dw / 2, dm / 2, np.abs(w.sum(1)) / np.abs(dw), np.abs(m.sum(1)) / np.abs(dm), off)


# --- Chapter 05: the flows, the Adam run, their claims and figures -------------------------------


@dataclass
class FlowStudy:
    """The App. B flows of one chapter. For each (d, L) in `cases`: `flows[dl]` from Definition
    B.1's start ω₀ = μ₀ (our ω₀; the paper's is lost) and `unequal[(dl, r)]` from μ₀ = r·ω₀ (ours:
    a start off the line ω = μ, so that "μ/ω → 1 in Phase I" is something the flow could fail);
    `phases` / `unequal_phases`: their `PhaseTimes`."""

    sigma2: float
    omega0: float
    t_max: float
    cases: tuple
    flows: dict
    phases: dict
    unequal: dict
    unequal_phases: dict

    @property
    def ratio_at_t1_unequal(self) -> float:
        """max |μ/ω − 1| at the end of Phase I over the unequal starts and the cases."""
        return max(abs(p.ratio_at_t1 - 1) for p in self.unequal_phases.values())

    @property
    def product_gap(self) -> float:
        """max over the cases of |ωμ(t_max)/(η_eff/2) − 1|."""
        return max(abs(p.product_final / p.product_limit - 1) for p in self.phases.values())


def flow_study(cases, sigma2: float, *, omega0: float, mu0: float, unequal_ratios=(), t_max: float = 1e6,
               n_eval: int = 2000, rate_drop: float = 0.5) -> FlowStudy:
    """Solve (B.4) for every (d, L) in `cases` from (ω₀, μ₀) and from (ω₀, r·ω₀) for r in `unequal_ratios`."""
    cases = tuple(dict.fromkeys((int(d), int(L)) for d, L in cases))  # unique, in order
    flows = {dl: two_head_flow(omega0, mu0, *dl, sigma2, t_max=t_max, n_eval=n_eval) for dl in cases}
    unequal = {(dl, r): two_head_flow(omega0, r * omega0, *dl, sigma2, t_max=t_max, n_eval=n_eval)
               for dl in cases for r in unequal_ratios}
    ph = {k: flow_phases(s, rate_drop=rate_drop) for k, s in flows.items()}
    uph = {k: flow_phases(s, rate_drop=rate_drop) for k, s in unequal.items()}
    return FlowStudy(sigma2, omega0, t_max, cases, flows, ph, unequal, uph)


def chapter_flow_study(ch) -> FlowStudy:
    """Chapter 05's flows: the task's (d, L) and the budget's `extra_cases`, σ² of the task."""
    b = ch.budget
    cases = ((ch.d, ch.L),) + tuple(tuple(dl) for dl in b.extra_cases)
    return flow_study(cases, ch.sigma2, omega0=b.omega0, mu0=b.mu0, unequal_ratios=b.unequal_ratios, t_max=b.t_max,
                      n_eval=b.n_eval, rate_drop=ch.tol.rate_drop)


def phase_table(study: FlowStudy):
    """One column per (d, L): the phase boundaries and what App. B says about each phase."""
    import pandas as pd

    rows = {}
    for dl in study.cases:
        sol, p = study.flows[dl], study.phases[dl]
        w_end = sol.omega[-1]
        rows[f"(d, L) = ({dl[0]}, {dl[1]})"] = {
            "end of Phase I, t₁": p.t1, "peak of ω, t_peak": p.t_peak, "peak ω": sol.omega.max(),
            "μ/ω at t₁": p.ratio_at_t1, "peaks of ω": p.n_peaks, "ω decreasing after the peak": p.decreasing_after_peak,
            "μ increasing throughout": p.mu_increasing, "ω at t_max": w_end, "ωμ at t_max": p.product_final,
            "η_eff/2 = 1/(2(1+cd))": p.product_limit,
            "|μ/μ*(ω) − 1| at t_max": abs(sol.mu[-1] / theory.manifold_mu(w_end, *dl, study.sigma2) - 1),
            **{f"μ/ω at t₁ from μ₀ = {r:g}ω₀": study.unequal_phases[(dl, r)].ratio_at_t1
               for (dl2, r) in study.unequal_phases if dl2 == dl}}
    show = lambda v: ("yes" if v else "no") if isinstance(v, (bool, np.bool_)) else f"{v:.4g}"  # noqa: E731
    return pd.DataFrame(rows).map(show)


def adam_opposite_start(ch) -> SymmetricReading:
    """Adam on the full two-head model (the chapter's task and profile) from the opposite small
    identity with the budget's (ω₀, μ₀), read on the symmetric family."""
    from .runs.load import load_or_train

    run = load_or_train(configs(ch)[0], device=ch.device)
    return symmetric_reading(run.history(), run.snapshot_steps, run.pattern())


def configs(ch) -> list:
    """The one model chapter 05 trains: two heads from the opposite small identity (ω₀, μ₀)."""
    from .runs.config import run_config

    b = ch.budget
    return [run_config(ch.prof, heads=2, seed=b.seed, task=ch.task, init="opposite_identity", omega0=b.omega0, mu0=b.mu0)]


def glue_flow(ch, study: FlowStudy, adam: SymmetricReading | None = None):
    """The chapter's numbers (keys flow-*)."""
    main = study.cases[0]
    sol, p = study.flows[main], study.phases[main]
    ch.glue("flow-omega0", study.omega0, "{:g}")
    ch.glue("flow-mu0", ch.budget.mu0, "{:g}")
    ch.glue("flow-ratios", words(f"{r:g}" for r in ch.budget.unequal_ratios), "{}")
    ch.glue("flow-tmax", power_of_ten(study.t_max), "{}")
    ch.glue("flow-cases", words(f"({d}, {L})" for d, L in study.cases), "{}")
    ch.glue("flow-t1", p.t1, "{:.2f}")
    ch.glue("flow-tpeak", p.t_peak, "{:.2f}")
    ch.glue("flow-peak", sol.omega.max(), "{:.3f}")
    ch.glue("flow-ratio-t1", p.ratio_at_t1, "{:.3f}")
    ch.glue("flow-ratio-peak", float(np.interp(p.t_peak, sol.t, sol.ratio)), "{:.2f}")
    ch.glue("flow-ratio-dev-unequal", study.ratio_at_t1_unequal, "{:.3f}")
    ch.glue("flow-ratio-end", sol.ratio[-1], "{:.0f}")
    ch.glue("flow-product-end", p.product_final, "{:.4f}")
    ch.glue("flow-product-limit", p.product_limit, "{:.4f}")
    ch.glue("flow-omega-end", sol.omega[-1], "{:.4f}")
    ch.glue("flow-peaks", words(f"{study.flows[dl].omega.max():.3f}" for dl in study.cases), "{}")
    if adam is not None:
        i = adam.i_peak
        ch.glue("flow-adam-peak", adam.omega[i], "{:.3f}")
        ch.glue("flow-adam-peak-step", count(adam.steps[i]), "{}")
        ch.glue("flow-adam-omega-end", adam.omega[-1], "{:.3f}")
        ch.glue("flow-adam-mu-end", adam.mu[-1], "{:.3f}")
        ch.glue("flow-adam-product-end", adam.product[-1], "{:.4f}")
        ch.glue("flow-adam-product-max", adam.product.max(), "{:.4f}")
        ch.glue("flow-flow-product-max", sol.product.max(), "{:.4f}")
        ch.glue("flow-adam-asym", adam.max_asymmetry, "{:.4f}")
        ch.glue("flow-adam-off", adam.off_pattern, "{:.4f}")
        ch.glue("flow-adam-valley", float(adam.omega[-1] * theory.manifold_mu(adam.omega[-1], ch.d, ch.L, ch.sigma2)), "{:.4f}")


def add_flow_claims(ch, study: FlowStudy, adam: SymmetricReading):
    """App. B's statements about the flow (B.4) and about the full model from the matching start. The
    flow's claims need no trained model and have no Monte Carlo error: evaluated under every profile."""
    from .budgets.ch01_setup import TOLERANCES as ch01

    t, cl = ch.tol, ch.claims
    both = f"every (d, L) of {', '.join(map(str, study.cases))}"
    ph = study.phases.values()
    cl.add("phase1_synchronises", f"Phase I: μ/ω ≈ 1 at its end, also from unequal starts μ₀/ω₀ = "
           f"{', '.join(f'{r:g}' for r in ch.budget.unequal_ratios)} (max |μ/ω − 1| at t₁ over {both})",
           "App. B Phase I, (B.5)–(B.6), Fig. 22(c)", study.ratio_at_t1_unequal, t.ratio_rel, kind="max",
           target_origin="the paper (ratio close to one); the unequal starts are ours (Def. B.1 has ω₀ = μ₀)",
           tol_origin=f"'close to one' read as within {t.ratio_rel:.0%}: μ/ω sets ω's growth rate 2μ/ω, and we ask it to "
                      f"move that rate by at most a tenth of the {1 - t.rate_drop:.0%} drop that ends Phase I",
           note_if_fail="the ratio is still off one when the exponential growth stops", always=True)
    cl.add("flow_single_peak", f"ω has a single peak ({both})", "App. B Phase II, Fig. 22(b)",
           all(p.n_peaks == 1 for p in ph), kind="true", target_origin="the paper", always=True)
    cl.add("flow_omega_decreases", f"after its peak ω decreases ({both})", "App. B Phase III",
           all(p.decreasing_after_peak for p in ph), kind="true", target_origin="the paper", always=True)
    cl.add("flow_mu_increases", f"μ increases throughout ({both})", "App. B, Obs. 4",
           all(p.mu_increasing for p in ph), kind="true", target_origin="the paper", always=True)
    cl.add("flow_product_limit", f"ωμ → η_eff/2 = 1/(2(1+cd)): max |ωμ(t_max)/(η_eff/2) − 1| over {both}",
           "App. B Phase III, Fig. 22(d)", study.product_gap, t.product_flow_rel, kind="max",
           target_origin="the paper's limit 1/(2(1+cd)), computed by theory.eta_eff",
           tol_origin=f"'converges' read as within {t.product_flow_rel:.1%} at t_max = {study.t_max:.0e} (ours)", always=True)
    cl.add("adam_symmetric", "Adam from the opposite small identity stays symmetric: max |ω₁+ω₂|/|ω₁−ω₂|, "
           "|μ₁+μ₂|/|μ₁−μ₂| over snapshots", "App. B, Def. B.1", adam.max_asymmetry, t.symmetry, kind="max",
           target_origin="the paper (symmetry is preserved under the flow)",
           tol_origin=f"for two heads of opposite signs |μ₁+μ₂|/|μ₁−μ₂| is the zero-sum measure of Obs. 2, so 'preserved' "
                      f"gets chapter 01's reading of '≈ 0': at most {t.symmetry:.0%}")
    rise, fall, first = adam.reversals()
    spread = adam.spread_after(first) if first >= 0 else float("nan")
    late = (f"every counted snapshot comes at step {first:,} or later, when ω and μ are within {spread:.1%} of their "
            f"final values: fluctuations of Adam's stochastic steps as the run comes to rest (largest rise of ω after "
            f"its peak {rise:.1%}, largest fall of μ {fall:.1%}), not a second peak") if spread <= 0.05 else ""
    cl.add("adam_single_peak", "Adam: ω has a single peak (snapshots after the peak where ω rises)", "Obs. 4, App. B",
           adam.rises_after_peak, 0, kind="max", target_origin="the paper (ω first rises, then falls)", note_if_fail=late)
    cl.add("adam_mu_monotone", "Adam: |μ| rises monotonically (snapshots where μ falls)", "Obs. 4", adam.mu_falls, 0,
           kind="max", target_origin="the paper", note_if_fail=late)
    limit = study.phases[study.cases[0]].product_limit
    cl.add("adam_product_limit", "Adam: ωμ at the end ≈ η_eff/2 = 1/(2(1+cd))", "App. B Phase III", adam.product[-1], limit,
           tol=t.product_adam_rel, kind="rel", target_origin="the paper's limit, computed by theory.eta_eff",
           tol_origin=f"'≈' read as {t.product_adam_rel:.0%} (ours), tighter than the {ch01.eta_rel:.0%} chapter 01 "
                      "allows Σ_h ω_h μ_h ≈ η_eff from a random start")


def plot_flow_phases(study: FlowStudy):
    """Fig. 22 for every (d, L): ω and μ with the Phase-I solution ω₀e^{2t} (B.6); μ/ω (also from the
    unequal starts); the loss with its floor; ωμ with η_eff/2 and ωμ*(ω) (B.17). Phases shaded."""
    import matplotlib.pyplot as plt

    n = len(study.cases)
    fig, axes = plt.subplots(n, 4, figsize=(17, 3.9 * n), squeeze=False)
    for row, dl in enumerate(study.cases):
        sol, p = study.flows[dl], study.phases[dl]
        t, sl, ax = sol.t[1:], slice(1, None), axes[row]
        for a in ax:
            for lo, hi, col, al in ((t[0], p.t1, "tab:blue", 0.08), (p.t1, p.t_peak, "tab:orange", 0.12),
                                    (p.t_peak, t[-1], "tab:green", 0.06)):
                a.axvspan(lo, hi, color=col, alpha=al)
            a.set(xscale="log", xlabel="flow time $t$")
        early = t < p.t_peak
        ax[0].plot(t, sol.omega[sl], lw=2, label=r"$\omega$")
        ax[0].plot(t, sol.mu[sl], lw=2, label=r"$\mu$")
        ax[0].plot(t[early], study.omega0 * np.exp(2 * t[early]), "k:", lw=1.2, label=r"$\omega_0 e^{2t}$ (B.6)")
        ax[0].plot(p.t_peak, sol.omega.max(), "v", color="tab:red", ms=8, label=rf"peak $\omega$ = {sol.omega.max():.3f}")
        ax[0].set(yscale="log", ylabel=rf"$d$ = {dl[0]}, $L$ = {dl[1]}" + "\nparameter",
                  ylim=(study.omega0 / 2, sol.mu.max() * 2))
        ax[1].plot(t, sol.ratio[sl], color="tab:purple", lw=2, label=r"$\mu_0 = \omega_0$ (Def. B.1)")
        for (dl2, r), s in study.unequal.items():
            if dl2 == dl:
                ax[1].plot(s.t[1:], s.ratio[1:], lw=1.2, ls="--", label=rf"$\mu_0 = {r:g}\,\omega_0$ (ours)")
        ax[1].axhline(1, color="k", lw=0.8, ls=":")
        ax[1].set(yscale="log", ylabel=r"$\mu/\omega$")
        ax[2].plot(t, sol.loss[sl], color="k", lw=2, label=r"$\tilde{\mathcal{L}}(t)$")
        ax[2].axhline(theory.approx_floor(*dl, study.sigma2), color="tab:blue", ls="--", lw=1,
                      label=r"$1+\sigma^2-\eta_\mathrm{eff}$")
        ax[2].set(ylabel="approximate loss")
        ax[3].plot(t, sol.product[sl], color="tab:red", lw=2, label=r"$\omega\mu$")
        ax[3].plot(t, sol.omega[sl] * theory.manifold_mu(sol.omega[sl], *dl, study.sigma2), color="k", lw=1.2, ls="--",
                   label=r"$\omega\mu^*(\omega)$ (B.17)")
        ax[3].axhline(p.product_limit, color="tab:blue", ls=":", lw=1.2, label=r"$\eta_\mathrm{eff}/2$")
        ax[3].set(ylabel=r"$\omega\mu$", ylim=(0, 0.5))
        for a in ax:
            a.legend(fontsize=8, loc="best")
    for a, title in zip(axes[0], ("KQ and OV weight", "ratio μ/ω", "loss", "effective step / 2")):
        a.set_title(title)
    return fig


def plot_adam_vs_flow(adam: SymmetricReading, sol: FlowSolution, limit: float):
    """The full model under Adam from the opposite small identity beside the flow (B.4) of the same
    (d, L): ω and μ, and ωμ with the symmetry measures."""
    import matplotlib.pyplot as plt

    x = np.maximum(adam.steps, 1)
    i = adam.i_peak
    fig, ax = plt.subplots(1, 3, figsize=(16, 4))
    ax[0].plot(x, adam.omega, lw=2, label=r"$\omega = (\omega_1-\omega_2)/2$")
    ax[0].plot(x, adam.mu, lw=2, label=r"$\mu = (\mu_1-\mu_2)/2$")
    ax[0].plot(x[i], adam.omega[i], "v", color="tab:red", ms=8, label=rf"peak $\omega$ = {adam.omega[i]:.3f}")
    ax[0].set(xscale="log", yscale="log", xlabel="Adam step", ylabel="parameter", title="full model, Adam (true loss)")
    ax[1].plot(sol.t[1:], sol.omega[1:], lw=2, label=r"$\omega$")
    ax[1].plot(sol.t[1:], sol.mu[1:], lw=2, label=r"$\mu$")
    ax[1].set(xscale="log", yscale="log", xlabel="flow time $t$", ylabel="parameter", xlim=(1e-2, sol.t[-1]),
              title=r"gradient flow on $\tilde{\mathcal{L}}$ (B.4)")
    ax[2].plot(x, adam.product, color="tab:red", lw=2, label=r"$\omega\mu$, Adam")
    ax[2].plot(x, adam.asym_omega, color="tab:gray", lw=1.2, label=r"$|\omega_1+\omega_2|/|\omega_1-\omega_2|$")
    ax[2].plot(x, adam.asym_mu, color="tab:brown", lw=1.2, ls="--", label=r"$|\mu_1+\mu_2|/|\mu_1-\mu_2|$")
    ax[2].axhline(limit, color="tab:blue", ls=":", lw=1.2, label=r"$\eta_\mathrm{eff}/2$")
    ax[2].set(xscale="log", xlabel="Adam step", ylim=(0, 0.5), title="product and symmetry, Adam")
    for a in ax:
        a.legend(fontsize=8)
    return fig
