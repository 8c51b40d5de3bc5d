"""Chapter 03's analysis (the `Study`): the true loss of the structured two-head model (`true_loss`)
read against L̃ (4.1).

`landscape` (Fig. 6 on a grid), `valley_profile` (the two valleys and the river-valley test on
paired differences), `valley_floor` (the true valley near ω → 0), `limit_gap` (R − L̃ as ω → 0,
whose exact value η_eff/L is ours), `approx_error_table` and `error_trend` (the error against L),
`fig20_regimes` and `softmax_norm_sweep` (Fig. 20), `true_vs_approx_dynamics` (Fig. 21). `Study`
computes each at the chapter's budget on first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ...core import theory
from ...core.data import TaskConfig
from ...core.dynamics import gd_approx
from ...runs.config import run_config
from ...runs.load import load_or_train
from .true_loss import LossGrid, TwoKernelSample, _sq_norms, approx_loss_two_head, two_kernel_sample

__all__ = [
    "Landscape",
    "landscape",
    "Valley",
    "valley_profile",
    "ValleyFloor",
    "valley_floor",
    "LimitGap",
    "limit_gap",
    "ERROR_COLUMNS",
    "approx_error_table",
    "ErrorTrend",
    "error_trend",
    "fig20_regimes",
    "fig20_titles",
    "NORM_COLUMNS",
    "NormSweep",
    "softmax_norm_sweep",
    "TrueVsApprox",
    "configs",
    "true_vs_approx_dynamics",
    "Study",
]


# --- Fig. 6: the two landscapes and their valleys -------------------------------------------


@dataclass
class Landscape:
    """Fig. 6 on one grid. sample: the Monte Carlo kernel outputs on shared prompts; true: R(ω, μ)
    with standard errors; approx: L̃ (4.1), exact; d, L, sigma2: the task. Grids are (n_ω, n_μ)."""

    sample: TwoKernelSample
    true: LossGrid
    approx: LossGrid
    d: int
    L: int
    sigma2: float

    @property
    def omega(self) -> np.ndarray:
        return self.true.omega

    @property
    def mu(self) -> np.ndarray:
        return self.true.mu

    @property
    def rel(self) -> np.ndarray:
        """(R − L̃)/R on the grid, (n_ω, n_μ)."""
        return (self.true.mean - self.approx.mean) / self.true.mean

    def slices(self, mus) -> tuple[LossGrid, LossGrid]:
        """(R, L̃) on the landscape's ω grid × `mus` (the same prompts)."""
        return self.sample.loss_grid(mus), approx_loss_two_head(self.omega, mus, self.d, self.L, self.sigma2)


def landscape(task: TaskConfig, omegas, mus, n_prompts: int, *, seed: int = 0, device="cpu") -> Landscape:
    """R (Monte Carlo, one set of `n_prompts` prompts for every ω) and L̃ (4.1) on omegas × mus."""
    sample = two_kernel_sample(omegas, task, n_prompts, seed=seed, device=device)
    return Landscape(
        sample,
        sample.loss_grid(mus),
        approx_loss_two_head(omegas, mus, task.d, task.L, task.sigma2),
        task.d,
        task.L,
        task.sigma2,
    )


@dataclass(frozen=True)
class Valley:
    """The two valleys of Fig. 6 along the ω grid: arrays (n_ω,), steps (n_ω − 1,).

    mu, mu_se: argmin_μ R (Monte Carlo) and its standard error; loss, loss_se: R there;
    mu_approx, loss_approx: μ*(ω) of (4.6) and L̃ on S(ω); step, step_se: mean and standard error
    of the paired per-prompt differences of R between adjacent ω along the true valley; rise,
    rise_se: the same between the largest and the smallest ω.
    """

    omega: np.ndarray
    mu: np.ndarray
    mu_se: np.ndarray
    loss: np.ndarray
    loss_se: np.ndarray
    mu_approx: np.ndarray
    loss_approx: np.ndarray
    step: np.ndarray
    step_se: np.ndarray
    rise: float
    rise_se: float

    def position_gap(self, omega_max: float) -> float:
        """max |μ_R(ω)/μ*(ω) − 1| over ω ≤ omega_max: how far apart the two valleys lie."""
        inside = self.omega <= omega_max
        if not inside.any():
            raise ValueError(f"no grid point has omega <= {omega_max}")
        return float(np.max(np.abs(self.mu[inside] / self.mu_approx[inside] - 1)))

    def drops(self, n_se: float) -> int:
        """Steps along the true valley (ω growing) that fall by more than n_se paired standard errors."""
        return int(np.sum(self.step < -n_se * self.step_se))

    @property
    def rise_z(self) -> float:
        """The rise of the true valley across the grid in paired standard errors."""
        return self.rise / self.rise_se

    @property
    def limit_ratio(self) -> tuple[float, float]:
        """μ_R/μ* at the smallest ω and its standard error (the two valleys' positions as ω → 0)."""
        return float(self.mu[0] / self.mu_approx[0]), float(self.mu_se[0] / self.mu_approx[0])


def valley_profile(ls: Landscape) -> Valley:
    """The valleys of R and L̃ on `ls`'s ω grid, with paired differences along R's valley."""
    smp = ls.sample
    mu, loss, loss_se = smp.valley()
    per_prompt = smp.losses_at(mu)  # (n_ω, n): the same prompts at every ω
    steps, rise = np.diff(per_prompt, axis=0), per_prompt[-1] - per_prompt[0]
    sqn = np.sqrt(smp.n)
    return Valley(
        ls.omega,
        mu,
        smp.mu_star_se(),
        loss,
        loss_se,
        theory.manifold_mu(ls.omega, ls.d, ls.L, ls.sigma2),
        theory.manifold_loss(ls.omega, ls.d, ls.L, ls.sigma2),
        steps.mean(1),
        steps.std(1) / sqn,
        float(rise.mean()),
        float(rise.std() / sqn),
    )


@dataclass(frozen=True)
class ValleyFloor:
    """The true valley near ω → 0, every ω paired with the smallest on the same prompts.

    omega, mu: (n_ω,) the scales and argmin_μ R there; delta, delta_se: (n_ω,) the mean and standard
    error of the per-prompt R(ω, μ_R(ω)) − R(ω₀, μ_R(ω₀)), ω₀ = omega[0] (0 at ω₀)."""

    omega: np.ndarray
    mu: np.ndarray
    delta: np.ndarray
    delta_se: np.ndarray
    n_prompts: int

    @property
    def lowest(self) -> int:
        """Index of the ω where the valley's loss is lowest."""
        return int(np.argmin(self.delta))

    @property
    def z(self) -> np.ndarray:
        """delta / delta_se (0 at ω₀)."""
        return np.concatenate([[0.0], self.delta[1:] / self.delta_se[1:]])

    @property
    def most_significant(self) -> int:
        """Index of the ω whose loss lies most standard errors below ω₀'s (the most negative z)."""
        return int(np.argmin(self.z))

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "ω": self.omega,
                "μ_R(ω)": self.mu,
                f"R − R(ω = {self.omega[0]:g})": self.delta,
                "paired s.e.": self.delta_se,
                "z": self.z,
            }
        )


def valley_floor(task: TaskConfig, omegas, n_prompts: int, *, seed: int = 0, device="cpu") -> ValleyFloor:
    """The true valley's loss at `omegas` (increasing, the first the reference) on `n_prompts` shared prompts."""
    omegas = np.atleast_1d(np.asarray(omegas, dtype=float))
    if omegas.ndim != 1 or len(omegas) < 2 or np.any(np.diff(omegas) <= 0) or omegas[0] <= 0:
        raise ValueError(f"omegas must be at least two increasing positive scales, got {omegas.tolist()}")
    smp = two_kernel_sample(omegas, task, n_prompts, seed=seed, device=device)
    mu = smp.mu_star()
    per = smp.losses_at(mu)  # (n_ω, n)
    diff = per - per[:1]  # paired with ω₀
    return ValleyFloor(omegas, mu, diff.mean(1), diff.std(1) / np.sqrt(smp.n), smp.n)


@dataclass(frozen=True)
class LimitGap:
    """R − L̃ at the smallest ω on the approximate valley, (ω, μ*(ω)) of (4.6): true ± se (Monte
    Carlo), approx (4.1, exact); exact: its ω → 0 limit, dGD's risk at η_eff minus 1 + σ² − η_eff
    (= η_eff/L, ours)."""

    omega: float
    mu: float
    true: float
    se: float
    approx: float
    exact: float

    @property
    def gap(self) -> float:
        return self.true - self.approx


def limit_gap(ls: Landscape) -> LimitGap:
    """`LimitGap` at the smallest ω of the landscape (L̃ by `theory.approx_loss`, the general (4.1))."""
    d, L, s2 = ls.d, ls.L, ls.sigma2
    w = float(ls.omega[0])
    m = float(theory.manifold_mu(w, d, L, s2))
    g = ls.sample.loss_grid([m])
    approx = theory.approx_loss([w, -w], [m, -m], d, L, s2)
    exact = float(theory.dgd_risk(theory.eta_eff(d, L, s2), d, L, s2) - theory.approx_floor(d, L, s2))
    return LimitGap(w, m, float(g.mean[0, 0]), float(g.se[0, 0]), approx, exact)


# --- the error against L (Prop. 4.1) --------------------------------------------------------

ERROR_COLUMNS = {
    "L": "L",
    "omega": "ω",
    "mu_star": "μ*(ω)",
    "true": "R",
    "se": "s.e.",
    "approx": "L̃",
    "error": "R − L̃",
    "limit": "η_eff/L",
}  # id → display name


def approx_error_table(
    task: TaskConfig, lengths, omegas, n_prompts: int, *, seed: int = 0, device="cpu"
) -> pd.DataFrame:
    """R and L̃ at (ω, μ*_L(ω)) of (4.6) for every L in `lengths` and ω in `omegas`; prompts of
    length L drawn with seed + L. Columns: the keys of ERROR_COLUMNS (limit: η_eff/L, ours)."""
    d, s2 = task.d, task.sigma2
    rows = []
    for L_ in lengths:
        smp = two_kernel_sample(omegas, task.with_length(L_), n_prompts, seed=seed + L_, device=device)
        for j, w in enumerate(omegas):
            m = float(theory.manifold_mu(w, d, L_, s2))
            g = smp.loss_grid([m])
            rows.append(
                {
                    "L": L_,
                    "omega": w,
                    "mu_star": m,
                    "true": g.mean[j, 0],
                    "se": g.se[j, 0],
                    "approx": float(theory.manifold_loss(w, d, L_, s2)),
                    "limit": theory.eta_eff(d, L_, s2) / L_,
                }
            )
    table = pd.DataFrame(rows)
    table["error"] = table["true"] - table["approx"]
    return table[list(ERROR_COLUMNS)]


@dataclass(frozen=True)
class ErrorTrend:
    """|R − L̃| against L at one ω: lengths, error, se, limit (η_eff/L): arrays; slope: of log error
    against log L; decreasing: strictly, over the grid; max_z: max |(R − L̃) − η_eff/L| / se."""

    omega: float
    lengths: np.ndarray
    error: np.ndarray
    se: np.ndarray
    limit: np.ndarray
    slope: float
    decreasing: bool
    max_z: float


def error_trend(table: pd.DataFrame, omega: float) -> ErrorTrend:
    """The rows of `approx_error_table` at `omega`, summarised."""
    e = table[table["omega"] == omega]
    if e.empty:
        raise ValueError(f"the table has no rows at omega = {omega}")
    lengths, err = e["L"].to_numpy(), e["error"].abs().to_numpy()
    se, lim = e["se"].to_numpy(), e["limit"].to_numpy()
    slope = float(np.polyfit(np.log(lengths), np.log(err), 1)[0])
    max_z = float(np.max(np.abs(e["error"].to_numpy() - lim) / se))
    return ErrorTrend(float(omega), lengths, err, se, lim, slope, bool(np.all(np.diff(err) < 0)), max_z)


# --- Fig. 20: softmax-vector norms ----------------------------------------------------------


def fig20_regimes(d: int, omega: float, xi: float, lengths_fixed_d, lengths_proportional) -> dict:
    """Fig. 20's three regimes as id → [(L, d, ω)]: "fixed_d" (the task's d, fixed ω);
    "proportional" (d = ξL rounded, fixed ω); "proportional_scaled" (d = ξL, ω·√(d_task/d), so that
    dω² keeps the fixed-d value)."""
    dims = [(L_, max(1, round(xi * L_))) for L_ in lengths_proportional]
    return {
        "fixed_d": [(L_, d, omega) for L_ in lengths_fixed_d],
        "proportional": [(L_, d_, omega) for L_, d_ in dims],
        "proportional_scaled": [(L_, d_, omega * math.sqrt(d / d_)) for L_, d_ in dims],
    }


def fig20_titles(d: int, omega: float, xi: float) -> dict:
    """Panel titles of `fig20_regimes`' regimes."""
    return {
        "fixed_d": f"fixed d = {d}, ω = {omega:g}",
        "proportional": f"d = {xi:g}·L, ω = {omega:g}",
        "proportional_scaled": f"d = {xi:g}·L, ω = {omega:g}·√({d}/d)",
    }


NORM_COLUMNS = {
    "regime": "regime",
    "L": "L",
    "d": "d",
    "omega": "ω",
    "median": "median ‖p‖²",
    "predicted": "e^{dω²}/L",
    "median_ratio": "median ratio",
    "median_ratio_exact": "median L‖p‖²/e^{ω²‖x_q‖²}",
}  # id → display name


@dataclass
class NormSweep:
    """regimes: as `fig20_regimes`; norms: id → [(n,) samples of ‖p‖², one per (L, d, ω)];
    table: one row per (regime, L), columns the keys of NORM_COLUMNS."""

    regimes: dict
    norms: dict
    table: pd.DataFrame

    def display_table(self, titles: dict) -> pd.DataFrame:
        """The table with display names: regimes by `titles` (id → name), columns by NORM_COLUMNS."""
        return self.table.replace({"regime": titles}).rename(columns=NORM_COLUMNS)

    def growth(self, regime: str) -> float:
        """Median ‖p‖² at the regime's largest L over its median at the smallest L."""
        med = self.table[self.table["regime"] == regime]["median"].to_numpy()
        return float(med[-1] / med[0])


def softmax_norm_sweep(regimes: dict, n_prompts: int, *, seed: int = 0, device="cpu") -> NormSweep:
    """`softmax_sq_norms` for every (L, d, ω) of every regime (the k-th of a regime with seed + k)."""
    # points of different regimes with the same (L, d) and seed share their prompts: drawn once
    shared = {}
    for points in regimes.values():
        for k, (L_, d_, w_) in enumerate(points):
            shared.setdefault((int(L_), int(d_), seed + k), []).append(float(w_))
    drawn = {
        key: _sq_norms(ws, key[1], key[0], n_prompts, seed=key[2], batch=2_000, device=device)
        for key, ws in shared.items()
    }
    norms, rows = {}, []
    for name, points in regimes.items():
        norms[name] = []
        for k, (L_, d_, w_) in enumerate(points):
            key = (int(L_), int(d_), seed + k)
            p2, r = drawn[key][0][shared[key].index(float(w_))], drawn[key][1]
            pred = math.exp(d_ * w_**2) / L_
            norms[name].append(p2)
            rows.append(
                {
                    "regime": name,
                    "L": L_,
                    "d": d_,
                    "omega": w_,
                    "median": float(np.median(p2)),
                    "predicted": pred,
                    "median_ratio": float(np.median(p2 / pred)),
                    "median_ratio_exact": float(np.median(L_ * p2 / np.exp(w_**2 * r))),
                }
            )
    return NormSweep(regimes, norms, pd.DataFrame(rows)[list(NORM_COLUMNS)])


# --- Fig. 21: training on the true loss and on L̃ --------------------------------------------


@dataclass
class TrueVsApprox:
    """steps: (S,) Adam steps of the full model; omega, mu: (S, H) its (ω_h, μ_h) read off the
    circuits; traj: gradient descent on L̃ from the full model's values at step 0 (one run)."""

    steps: np.ndarray
    omega: np.ndarray
    mu: np.ndarray
    traj: object

    @property
    def end(self) -> dict:
        """id → (ω, μ) at the end: "full" (true loss) and "approx" (L̃)."""
        return {"full": (self.omega[-1], self.mu[-1]), "approx": (self.traj.omega[-1, 0], self.traj.mu[-1, 0])}

    def end_table(self) -> pd.DataFrame:
        (wf, mf), (wa, ma) = self.end["full"], self.end["approx"]
        return pd.DataFrame(
            {"ω_h full": wf, "μ_h full": mf, "ω_h on L̃": wa, "μ_h on L̃": ma},
            index=[f"head {h + 1}" for h in range(len(wf))],
        )

    @property
    def same_signs(self) -> bool:
        """The runs end with the same positive and negative heads (signs of every ω_h and μ_h)."""
        (wf, mf), (wa, ma) = self.end["full"], self.end["approx"]
        return bool(np.all(np.sign(wf) == np.sign(wa)) and np.all(np.sign(mf) == np.sign(ma)))

    def rates(self) -> dict:
        """id → Σ_h ω_h μ_h at the end (the debiased-GD step of (4.3))."""
        return {k: float(w @ m) for k, (w, m) in self.end.items()}

    def peak_end_omega(self) -> dict:
        """id → (peak over the run, end) of max_h |ω_h|."""
        full, apx = np.abs(self.omega), np.abs(self.traj.omega[:, 0])
        return {"full": (float(full.max()), float(full[-1].max())), "approx": (float(apx.max()), float(apx[-1].max()))}


def configs(ch) -> list:
    """The one model chapter 03 trains (Fig. 21's): `ch.budget.heads` heads, seed `ch.budget.seed`."""
    return [run_config(ch.prof, heads=ch.budget.heads, seed=ch.budget.seed, task=ch.task)]


def true_vs_approx_dynamics(
    run, d: int, L: int, sigma2: float, *, lr: float, steps: int, n_records: int = 150
) -> TrueVsApprox:
    """The trained `run`'s (ω_h, μ_h) history, and GD on L̃ (`dynamics.gd_approx`) from its step-0 values."""
    hist = run.history()
    traj = gd_approx(hist.omega[0], hist.mu[0], d, L, sigma2, lr=lr, steps=steps, n_records=n_records)
    return TrueVsApprox(np.asarray(run.snapshot_steps), np.asarray(hist.omega), np.asarray(hist.mu), traj)


# --- everything at once ---------------------------------------------------------------------


class Study:
    """The chapter's evidence at `ch`'s task and budget, each part computed on first use: the Fig. 6
    landscape and what is read off it, the valley floor, the error against L, the Fig. 20 sweep, and
    the Fig. 21 runs. A test may set a part (e.g. `st.landscape`) before reading what depends on it."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def landscape(self) -> Landscape:
        """R and L̃ on the budget's (ω, μ) grid, `mc_prompts` prompts shared by every ω."""
        ch, b = self.ch, self.ch.budget
        return landscape(
            ch.task,
            np.linspace(*b.omega_range, b.n_grid),
            np.linspace(0.0, b.mu_max, b.n_grid),
            b.mc_prompts,
            seed=b.seed,
            device=ch.device,
        )

    @cached_property
    def valley(self) -> Valley:
        return valley_profile(self.landscape)

    @cached_property
    def gap(self) -> LimitGap:
        return limit_gap(self.landscape)

    @cached_property
    def floor(self) -> ValleyFloor:
        """The true valley at the budget's `floor_omegas`, on other prompts (seed + 1)."""
        ch, b = self.ch, self.ch.budget
        return valley_floor(ch.task, b.floor_omegas, b.floor_prompts, seed=b.seed + 1, device=ch.device)

    @cached_property
    def errors(self) -> pd.DataFrame:
        """`approx_error_table` at the budget's lengths and ω."""
        ch, b = self.ch, self.ch.budget
        return approx_error_table(ch.task, b.error_lengths, b.error_omegas, b.mc_prompts, seed=b.seed, device=ch.device)

    @cached_property
    def trend(self) -> ErrorTrend:
        """The error against L at the first of the budget's `error_omegas`."""
        return error_trend(self.errors, self.ch.budget.error_omegas[0])

    @cached_property
    def regimes(self) -> dict:
        b = self.ch.budget
        return fig20_regimes(self.ch.d, b.norm_omega, b.norm_xi, b.norm_lengths_fixed_d, b.norm_lengths_proportional)

    @cached_property
    def titles(self) -> dict:
        """The panel titles of `regimes`."""
        return fig20_titles(self.ch.d, self.ch.budget.norm_omega, self.ch.budget.norm_xi)

    @cached_property
    def sweep(self) -> NormSweep:
        b = self.ch.budget
        return softmax_norm_sweep(self.regimes, b.norm_prompts, seed=b.seed, device=self.ch.device)

    @cached_property
    def run(self):
        """The trained model of `configs(ch)` (loaded from the cache, or trained)."""
        return load_or_train(configs(self.ch)[0], device=self.ch.device)

    @cached_property
    def tva(self) -> TrueVsApprox:
        """Fig. 21: the model's dynamics and GD on L̃ from its step-0 values, at the budget's step size."""
        ch, b = self.ch, self.ch.budget
        return true_vs_approx_dynamics(
            self.run, ch.d, ch.L, ch.sigma2, lr=b.gd_lr, steps=b.gd_steps, n_records=b.gd_records
        )
