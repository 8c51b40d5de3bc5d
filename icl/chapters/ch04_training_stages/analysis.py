"""Chapter 04's analysis of §4.2: gradient descent on the approximate loss L̃ (4.1) from a small
initialisation for several head counts, and what it says about the two training stages and the
solution manifold S(ω) (4.6–4.7).

- `descend`: GD runs for each head count, with the stage times of `dynamics.stage_times`;
- `stage_summary`, `zero_sum_rates`: when each pattern is reached, and why zero-sum OV is late
  (the decay rate of |Σ_h μ_h| after Stage I against 2cH);
- `trap_population`, `trap_point`: small random starts that never split into ± heads, and the
  two-head copy of the single-head optimum (4.12) where they end;
- `mu_star_any`, `mu_star_signed`, `excess_at_fixed_omega`, `homogeneity_table`, `two_level_stays`:
  min over μ of L̃ at fixed KQ scales, with and without sign matching (homogeneity comes from the
  path, not from L̃ alone);
- `end_points`, `manifold_deviations`: where the runs end against S(ω); `hessian`, `sharpness`:
  the curvature of L̃ there (the edge of stability 2/step);
- `Study`: all of it with the chapter's task, budget and tolerances, each part computed on first use.

Conventions as in `icl.core.theory` and `icl.core.dynamics`: ω, μ ∈ R^H per run; arrays (R, H) over R runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...core import theory
from ...core.circuits import dummy_heads
from ...core.dynamics import (
    StageTimes,
    Trajectory,
    gd_approx,
    gd_approx_heads,
    pattern_metrics,
    small_init,
    stage_times,
)
from .later import inner_after_stage1, valley_slide, zero_sum_at_stage1_end

__all__ = [
    "Criteria",
    "ends_split",
    "hessian",
    "sharpness",
    "HeadCountRuns",
    "descend",
    "stage_table",
    "StageSummary",
    "stage_summary",
    "zero_sum_rates",
    "trap_point",
    "TrapPopulation",
    "trap_population",
    "mu_star_any",
    "mu_star_signed",
    "excess_at_fixed_omega",
    "homogeneity_table",
    "two_level_stays",
    "end_points",
    "manifold_deviations",
    "recent_deviations",
    "settled_deviations",
    "Study",
]


@dataclass(frozen=True)
class Criteria:
    """When a pattern counts as reached (our thresholds; see `dynamics.stage_times`): Stage I ends at
    ⟨ω, μ⟩ ≥ (1 − opt_tol) η_eff; zero-sum OV is |Σμ_h|/Σ|μ_h| ≤ zero_sum_tol; homogeneity is a
    relative spread of |ω_h| over non-dummy heads ≤ homogeneity_tol."""

    opt_tol: float
    zero_sum_tol: float
    homogeneity_tol: float

    def kwargs(self) -> dict:
        return dict(opt_tol=self.opt_tol, zero_sum_tol=self.zero_sum_tol, homogeneity_tol=self.homogeneity_tol)


def ends_split(omega, mu, d: int, L: int, sigma2: float, crit: Criteria) -> np.ndarray:
    """Per run, whether it ends with positive and negative heads, zero-sum OV and (4.3):
    omega, mu (R, H) → (R,) bools."""
    w, m = np.atleast_2d(np.asarray(omega, float)), np.atleast_2d(np.asarray(mu, float))
    _, zs, _ = pattern_metrics(w, m)
    both = (w > 0).any(-1) & (w < 0).any(-1)
    opt = np.einsum("rh,rh->r", w, m) >= (1 - crit.opt_tol) * theory.eta_eff(d, L, sigma2)
    return both & (zs <= crit.zero_sum_tol) & opt


def hessian(omega, mu, d: int, L: int, sigma2: float, h: float = 1e-6) -> np.ndarray:
    """Hessian of L̃ in x = (ω, μ) ∈ R^{2H}: central differences of the exact gradient
    (`theory.approx_loss_and_grad`, all 4H perturbed points in one batched call), symmetrised."""
    x = np.r_[np.asarray(omega, float), np.asarray(mu, float)]
    n, H = len(x), len(x) // 2
    pts = np.concatenate([x + h * np.eye(n), x - h * np.eye(n)])  # (2n, n)
    _, gw, gm = theory.approx_loss_and_grad(pts[:, :H], pts[:, H:], d, L, sigma2)
    g = np.concatenate([gw, gm], 1)
    M = (g[:n] - g[n:]) / (2 * h)
    return (M + M.T) / 2


def sharpness(omega, mu, d: int, L: int, sigma2: float) -> float:
    """Largest Hessian eigenvalue of L̃ at (ω, μ): GD with step η cannot settle where it exceeds 2/η."""
    return float(np.linalg.eigvalsh(hessian(omega, mu, d, L, sigma2)).max())


@dataclass
class HeadCountRuns:
    """GD on L̃ for one head count: traj (S records, R runs), times (its `StageTimes`), split (R,)."""

    H: int
    traj: Trajectory
    times: StageTimes
    split: np.ndarray


def descend(
    heads,
    runs: int,
    d: int,
    L: int,
    sigma2: float,
    *,
    lr: float,
    steps: int,
    init_scale: float,
    seed: int,
    crit: Criteria,
    n_records: int = 300,
) -> dict[int, HeadCountRuns]:
    """For each H in `heads`: `runs` GD runs from i.i.d. N(0, init_scale²) (ω, μ) (seed + H)."""
    starts = {int(H): small_init(int(H), runs, init_scale, seed=seed + int(H)) for H in heads}
    trajs = gd_approx_heads(starts, d, L, sigma2, lr=lr, steps=steps, n_records=n_records)
    return {
        H: HeadCountRuns(
            H,
            tr,
            stage_times(tr, d, L, sigma2, **crit.kwargs()),
            ends_split(tr.omega[-1], tr.mu[-1], d, L, sigma2, crit),
        )
        for H, tr in trajs.items()
    }


def stage_table(results: dict[int, HeadCountRuns]):
    """One row per run: the GD step at which each pattern is reached (−1: never) and whether it splits."""
    import pandas as pd

    rows = [
        {
            "H": H,
            "run": r,
            "sign matching": int(x.times.sign[r]),
            "end of Stage I": int(x.times.stage1_end[r]),
            "zero-sum OV": int(x.times.zero_sum[r]),
            "homogeneous |ω_h|": int(x.times.homogeneous[r]),
            "ends with ± heads": bool(x.split[r]),
        }
        for H, x in results.items()
        for r in range(len(x.split))
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class StageSummary:
    """n_runs starts, n_split of which split, n_stage1 of which end Stage I. Over all starts (a run
    whose Stage I never ends counts as not showing it): sign_in_stage1_all, zero_sum_in_stage1_all,
    the fractions with sign matching and with zero-sum OV by the end of Stage I. Over the runs that
    split (None when none does): the same two fractions, with homogeneity only after Stage I, and
    with homogeneity at all; early_homogeneous: (H, run) of split runs homogeneous before Stage I ends."""

    n_runs: int
    n_split: int
    n_stage1: int
    sign_in_stage1_all: float
    zero_sum_in_stage1_all: float
    sign_in_stage1: float | None
    zero_sum_in_stage1: float | None
    homogeneous_after_stage1: float | None
    homogeneous_reached: float | None
    early_homogeneous: tuple


def stage_summary(results: dict[int, HeadCountRuns]) -> StageSummary:
    t = stage_table(results)
    s = t[t["ends with ± heads"]]
    frac = (lambda ok: float(np.mean(ok))) if len(s) else (lambda ok: None)

    def by_stage1(x, col):  # reached, and by the end of Stage I (which must end)
        return (x[col] >= 0) & (x["end of Stage I"] >= 0) & (x[col] <= x["end of Stage I"])

    early = s[(s["homogeneous |ω_h|"] >= 0) & (s["homogeneous |ω_h|"] <= s["end of Stage I"])]
    return StageSummary(
        len(t),
        len(s),
        int((t["end of Stage I"] >= 0).sum()),
        float(by_stage1(t, "sign matching").mean()),
        float(by_stage1(t, "zero-sum OV").mean()),
        frac(by_stage1(s, "sign matching")),
        frac(by_stage1(s, "zero-sum OV")),
        frac(s["homogeneous |ω_h|"] > s["end of Stage I"]),
        frac(s["homogeneous |ω_h|"] >= 0),
        tuple(zip(early["H"].tolist(), early["run"].tolist())),
    )


def zero_sum_rates(results: dict[int, HeadCountRuns], d: int, L: int, sigma2: float):
    """Per run that reaches zero-sum OV after Stage I: the decay rate of |Σ_h μ_h| in flow time
    (least-squares slope of its log) between the end of Stage I and the zero-sum time, beside the
    rate 2cH the zero-sum term alone predicts once (4.3) holds."""
    import pandas as pd

    c, rows = theory.c(L, sigma2), []
    for H, x in results.items():
        tr, st = x.traj, x.times
        for r in range(len(x.split)):
            a, b = st.stage1_end[r], st.zero_sum[r]
            sel = (tr.steps >= a) & (tr.steps <= max(b, a + 1))
            if a < 0 or b < 0 or sel.sum() < 3:
                continue
            slope = -np.polyfit(tr.time[sel], np.log(np.abs(tr.mu[sel, r].sum(-1))), 1)[0]
            rows.append(
                {"H": H, "run": r, "decay rate of |Σμ_h|": slope, "2cH": 2 * c * H, "ratio": slope / (2 * c * H)}
            )
    return pd.DataFrame(rows, columns=["H", "run", "decay rate of |Σμ_h|", "2cH", "ratio"])


# --- the two-head trap -----------------------------------------------------------------------


def trap_point(d: int, L: int, sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """Two heads at the single-head optimum (4.12): ω₁ = ω₂ = 1/√d with the optimal OV weight split
    equally. With ω₁ = ω₂ the loss depends on μ₁ + μ₂ only, so L̃ there is the single head's."""
    w, m, _ = theory.single_head_optimum(d, L, sigma2)
    return np.array([w, w]), np.array([m / 2, m / 2])


@dataclass
class TrapPopulation:
    """Small random starts per head count, run for a few thousand steps.

    table: per H the fraction that ends split / one-signed, the median L̃ of the one-signed ends, the
    fraction that starts with one sign of ω_h + μ_h and 2^(1−H) (that fraction for i.i.d. signs);
    min_split: the smallest split fraction over H; agree: for H = 2, the fraction of starts whose
    one-signed start (ω_h + μ_h) and one-signed end agree (None without H = 2); trapped: the end
    points (ω, μ) of the two-head runs that end one-signed (n, 2) each; example: a two-head
    trajectory, from the first drawn start that ends one-signed (else the first that starts one-signed,
    else ω₀ = μ₀ = (s, 2s) with s the initial scale)."""

    table: object
    min_split: float
    agree: float | None
    trapped_omega: np.ndarray
    trapped_mu: np.ndarray
    example: Trajectory


def trap_population(
    heads,
    n_starts: int,
    steps: int,
    d: int,
    L: int,
    sigma2: float,
    *,
    lr: float,
    init_scale: float,
    seed: int,
    crit: Criteria,
    example_records: int = 120,
) -> TrapPopulation:
    """Where `n_starts` small random starts per head count end after `steps` GD steps (seed + H)."""
    import pandas as pd

    rows, agree, tw, tm, ex0 = [], None, np.empty((0, 2)), np.empty((0, 2)), None
    for H in heads:
        w0, m0 = small_init(int(H), n_starts, init_scale, seed=seed + int(H))
        pop = gd_approx(w0, m0, d, L, sigma2, lr=lr, steps=steps, n_records=5)
        w, m = pop.omega[-1], pop.mu[-1]
        one_sign = np.all(np.sign(w) == np.sign(w[:, :1]), axis=1)
        start_one = np.all(np.sign(w0 + m0) == np.sign((w0 + m0)[:, :1]), axis=1)
        rows.append(
            {
                "H": int(H),
                "starts": n_starts,
                "end with ± heads": ends_split(w, m, d, L, sigma2, crit).mean(),
                "end with one sign": one_sign.mean(),
                "median L̃ of those": float(np.median(pop.loss[-1, one_sign])) if one_sign.any() else np.nan,
                "start with one sign of ω_h+μ_h": start_one.mean(),
                "2^(1−H)": 2.0 ** (1 - int(H)),
            }
        )
        if int(H) == 2:
            agree = float(np.mean(one_sign == start_one))
            tw, tm = w[one_sign], m[one_sign]
            pick = one_sign if one_sign.any() else start_one
            if pick.any():
                r = int(np.flatnonzero(pick)[0])
                ex0 = (w0[r], m0[r])
    if ex0 is None:
        ex0 = (np.array([init_scale, 2 * init_scale]), np.array([init_scale, 2 * init_scale]))
    example = gd_approx(*ex0, d, L, sigma2, lr=lr, steps=steps, n_records=example_records)
    table = pd.DataFrame(rows)
    return TrapPopulation(table, float(table["end with ± heads"].min()), agree, tw, tm, example)


# --- homogeneity: min over μ at fixed KQ scales ----------------------------------------------


def _levels(omega):
    """Distinct values of ω, the index of each head's value, and how many heads share it."""
    u, inv, cnt = np.unique(np.asarray(omega, float), return_inverse=True, return_counts=True)
    return u, inv, cnt


def mu_star_any(omega, d: int, L: int, sigma2: float) -> np.ndarray:
    """argmin_μ L̃(ω, μ) of minimum norm, also when heads share a KQ scale (then ωωᵀ + cE is singular
    and only the sum of their μ_h matters): `theory.mu_star` on the distinct scales, split equally."""
    u, inv, cnt = _levels(omega)
    return (theory.mu_star(u, d, L, sigma2) / cnt)[inv]


def mu_star_signed(omega, d: int, L: int, sigma2: float) -> np.ndarray:
    """argmin_μ L̃(ω, μ) subject to sign matching, μ_h ω_h ≥ 0 (heads sharing a scale as in `mu_star_any`).
    L̃ − const = μᵀAμ − 2μᵀω = ‖Rμ − R⁻ᵀω‖² − ωᵀA⁻¹ω with A = ωωᵀ + cE = RᵀR: a bounded least squares."""
    from scipy.optimize import lsq_linear

    u, inv, cnt = _levels(omega)
    A = np.outer(u, u) + theory.c(L, sigma2) * np.exp(d * np.outer(u, u))
    R = np.linalg.cholesky(A).T
    lb, ub = np.where(u > 0, 0, -np.inf), np.where(u > 0, np.inf, 0)
    m = lsq_linear(R, np.linalg.solve(R.T, u), bounds=(lb, ub), tol=1e-14).x
    return (m / cnt)[inv]


def excess_at_fixed_omega(omega, d: int, L: int, sigma2: float, signed: bool = False) -> tuple[float, np.ndarray]:
    """min over μ (sign-matched if `signed`) of L̃(ω, μ) − (1 + σ² − η_eff), and the minimising μ."""
    m = (mu_star_signed if signed else mu_star_any)(omega, d, L, sigma2)
    return theory.approx_loss(omega, m, d, L, sigma2) - theory.approx_floor(d, L, sigma2), m


def homogeneity_table(d: int, L: int, sigma2: float, scales=(0.3, 0.2, 0.15, 0.1)):
    """For each largest scale a: the excess of min_μ L̃ over its floor at the homogeneous
    (a, −a, a, −a) and at two levels (a, −a, a/2, −a/2), free and sign-matched, with the μ."""
    import pandas as pd

    rows = []
    for a in scales:
        hom, _ = excess_at_fixed_omega([a, -a, a, -a], d, L, sigma2)
        two, m_two = excess_at_fixed_omega([a, -a, a / 2, -a / 2], d, L, sigma2)
        two_s, m_two_s = excess_at_fixed_omega([a, -a, a / 2, -a / 2], d, L, sigma2, signed=True)
        rows.append(
            {
                "a": a,
                "homogeneous (a, −a, a, −a)": hom,
                "two levels, free μ": two,
                "μ at two levels, free": np.round(m_two, 2),
                "two levels, matched signs": two_s,
                "μ at two levels, matched": np.round(m_two_s, 2),
            }
        )
    return pd.DataFrame(rows)


def two_level_stays(d: int, L: int, sigma2: float, *, steps: int, lr: float, omega=(0.2, -0.2, 0.1, -0.1)) -> dict:
    """GD from a two-level, sign-mismatched point at its best μ: how far ω moves in `steps` steps,
    the spread of |ω_h| and the excess L̃ at the end (tiny moves: GD does not homogenise it)."""
    w = np.asarray(omega, float)
    _, m = excess_at_fixed_omega(w, d, L, sigma2)
    tr = gd_approx(w, m, d, L, sigma2, lr=lr, steps=steps, n_records=20)
    return {
        "omega": w,
        "steps": steps,
        "moved": float(np.abs(tr.omega[-1, 0] - w).max()),
        "spread": float(pattern_metrics(tr.omega[-1, 0], tr.mu[-1, 0])[2]),
        "excess": float(tr.loss[-1, 0] - theory.approx_floor(d, L, sigma2)),
    }


# --- the end points against the solution manifold ---------------------------------------------


def end_points(results: dict[int, HeadCountRuns], d: int, L: int, sigma2: float, at: int = -1):
    """One row per run: its scale ω (mean |ω_h| over non-dummy heads), OV weights of the + and −
    heads, μ*(ω) (4.6), L̃ at the end and on S(ω), ⟨ω, μ⟩, dummy heads, whether it splits, and the
    sharpness λ_max of L̃ there. at: the record read as the end (−1: the last)."""
    import pandas as pd

    rows = []
    for H, x in results.items():
        for r in range(len(x.split)):
            w, m = x.traj.omega[at, r], x.traj.mu[at, r]
            live = ~dummy_heads(w, m)
            scale = float(np.abs(w[live]).mean())
            rows.append(
                {
                    "H": H,
                    "run": r,
                    "ω (mean |ω_h|)": scale,
                    "Σ₊ μ_h": m[w > 0].sum(),
                    "−Σ₋ μ_h": -m[w < 0].sum(),
                    "μ*(ω)": float(theory.manifold_mu(scale, d, L, sigma2)),
                    "L̃ at the end": x.traj.loss[-1, r],
                    "L̃ on S(ω)": float(theory.manifold_loss(scale, d, L, sigma2)),
                    "⟨ω, μ⟩": float(w @ m),
                    "dummy heads": int((~live).sum()),
                    "± heads": bool(x.split[r]),
                    "sharpness λ_max": sharpness(w, m, d, L, sigma2),
                }
            )
    return pd.DataFrame(rows)


def manifold_deviations(ends, d: int, L: int, sigma2: float) -> dict:
    """Over the runs that split: max |Σ_± μ_h/μ*(ω) − 1|, max |L̃ − L̃ on S(ω)| and
    max |⟨ω, μ⟩/η_eff − 1| (None each when no run splits)."""
    s = ends[ends["± heads"]]
    if not len(s):
        return {"ov": None, "loss": None, "inner": None}
    ov = np.r_[s["Σ₊ μ_h"], s["−Σ₋ μ_h"]] / np.r_[s["μ*(ω)"], s["μ*(ω)"]] - 1
    return {
        "ov": float(np.abs(ov).max()),
        "loss": float(np.abs(s["L̃ at the end"] - s["L̃ on S(ω)"]).max()),
        "inner": float(np.abs(s["⟨ω, μ⟩"] / theory.eta_eff(d, L, sigma2) - 1).max()),
    }


def recent_deviations(results: dict[int, HeadCountRuns], d: int, L: int, sigma2: float, last: int = 10) -> dict:
    """`manifold_deviations` at each of the last `last` records, read as end points: {"steps": (first,
    last step), "ov"/"loss"/"inner": (min, max) or None}. A run oscillating about S(ω) shows a range."""
    x = next(iter(results.values()))
    last = min(int(last), len(x.traj.steps))
    devs = [manifold_deviations(end_points(results, d, L, sigma2, at=-k), d, L, sigma2) for k in range(last, 0, -1)]
    out = {"steps": (int(x.traj.steps[-last]), int(x.traj.steps[-1]))}
    for k in ("ov", "loss", "inner"):
        v = [dv[k] for dv in devs if dv[k] is not None]
        out[k] = (min(v), max(v)) if v else None
    return out


def settled_deviations(
    results: dict[int, HeadCountRuns], d: int, L: int, sigma2: float, *, lr: float, steps: int
) -> dict:
    """`manifold_deviations` after continuing every run's end point for `steps` GD steps of size
    `lr`: with a step well below the edge of stability, whether the end points settle on S(ω)."""
    ends = {H: (x.traj.omega[-1], x.traj.mu[-1]) for H, x in results.items()}
    trajs = gd_approx_heads(ends, d, L, sigma2, lr=lr, steps=steps, n_records=2)
    cont = {H: HeadCountRuns(H, trajs[H], x.times, x.split) for H, x in results.items()}
    return manifold_deviations(end_points(cont, d, L, sigma2), d, L, sigma2)


# --- Chapter 04's study: the parts above with the chapter's task, budget and tolerances -----------


class Study:
    """Chapter 04's evidence, each part computed on first use from `ch` (the chapter's task,
    budget and tolerances)."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def crit(self) -> Criteria:
        t = self.ch.tol
        return Criteria(t.opt_tol, t.zero_sum_tol, t.homogeneity_tol)

    @cached_property
    def runs(self) -> dict[int, HeadCountRuns]:
        """GD on L̃ from small starts for each of the budget's head counts (`descend`)."""
        ch, b = self.ch, self.ch.budget
        return descend(
            b.heads,
            b.runs,
            ch.d,
            ch.L,
            ch.sigma2,
            lr=b.lr,
            steps=b.steps,
            init_scale=b.init_scale,
            seed=b.seed,
            crit=self.crit,
            n_records=b.n_records,
        )

    @cached_property
    def table(self):
        """`stage_table` of the runs: the step at which each run reaches each pattern."""
        return stage_table(self.runs)

    @cached_property
    def summary(self) -> StageSummary:
        return stage_summary(self.runs)

    @cached_property
    def inner_after(self):
        """`inner_after_stage1`: how far ⟨ω, μ⟩ strays from η_eff once (4.3) is first met."""
        ch = self.ch
        return inner_after_stage1(self.runs, ch.d, ch.L, ch.sigma2, ch.tol.opt_tol)

    @cached_property
    def zs_at_stage1(self) -> np.ndarray:
        """The zero-sum ratio at the end of Stage I of every run whose Stage I ends (`zero_sum_at_stage1_end`)."""
        return zero_sum_at_stage1_end(self.runs)

    @cached_property
    def slide(self):
        """`valley_slide`: whether the runs that split slide down the valley after Stage I and homogeneity."""
        return valley_slide(self.runs)

    @cached_property
    def rates(self):
        """`zero_sum_rates` of the runs: the decay of |Σ_h μ_h| after Stage I against 2cH."""
        return zero_sum_rates(self.runs, self.ch.d, self.ch.L, self.ch.sigma2)

    @cached_property
    def trap(self) -> TrapPopulation:
        """Where the budget's small random starts per head count end (`trap_population`)."""
        ch, b = self.ch, self.ch.budget
        return trap_population(
            b.heads,
            b.pop_starts,
            b.pop_steps,
            ch.d,
            ch.L,
            ch.sigma2,
            lr=b.lr,
            init_scale=b.init_scale,
            seed=b.pop_seed,
            crit=self.crit,
        )

    @cached_property
    def trap_eigenvalues(self) -> np.ndarray:
        """(2H,) eigenvalues of the Hessian of L̃ at the two-head trap point (`trap_point`)."""
        ch = self.ch
        w, m = trap_point(ch.d, ch.L, ch.sigma2)
        return np.linalg.eigvalsh(hessian(w, m, ch.d, ch.L, ch.sigma2))

    @cached_property
    def homogeneity(self):
        """`homogeneity_table`: min over μ of L̃ at homogeneous and two-level KQ scales."""
        return homogeneity_table(self.ch.d, self.ch.L, self.ch.sigma2)

    @cached_property
    def stay(self) -> dict:
        """`two_level_stays` with the budget's stay_steps and stay_lr."""
        ch, b = self.ch, self.ch.budget
        return two_level_stays(ch.d, ch.L, ch.sigma2, steps=b.stay_steps, lr=b.stay_lr)

    @cached_property
    def ends(self):
        """`end_points` of the runs against S(ω)."""
        return end_points(self.runs, self.ch.d, self.ch.L, self.ch.sigma2)

    @cached_property
    def deviations(self) -> dict:
        """`manifold_deviations` of the end points."""
        return manifold_deviations(self.ends, self.ch.d, self.ch.L, self.ch.sigma2)

    @cached_property
    def settled(self) -> dict:
        """`settled_deviations` with the budget's settle_lr and settle_steps."""
        ch, b = self.ch, self.ch.budget
        return settled_deviations(self.runs, ch.d, ch.L, ch.sigma2, lr=b.settle_lr, steps=b.settle_steps)

    @cached_property
    def recent(self) -> dict:
        """`recent_deviations`: the end-point measures over the last records."""
        return recent_deviations(self.runs, self.ch.d, self.ch.L, self.ch.sigma2)
