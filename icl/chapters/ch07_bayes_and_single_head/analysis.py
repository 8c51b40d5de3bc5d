"""Chapter 07's analysis (Thm 4.2 (iii), (4.12)): trained risks against GD, debiased GD and Bayes,
the proportional regime, vanilla against debiased GD, and the single head.

`Study(ch)` holds the parts, each computed on first use: the trained runs and their `RiskTable`,
the proportional grid and its d → ∞ limits, vanilla against debiased GD (exact curves and a Monte
Carlo), and the `SingleHead`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...core import theory
from ...core.optimality import nw_moment_tensors, nw_moments, task_prompts

__all__ = [
    "Study",
    "configs",
    "AuthorsRisk",
    "AUTHORS_BAYES",
    "AUTHORS_SINGLE_HEAD",
    "AUTHORS_PROPORTIONAL_POINT",
    "RiskTable",
    "authors_se",
    "extrapolate_in_1_over_d",
    "proportional_grid",
    "proportional_limits",
    "gd_dgd_mean_square_difference",
    "dgd_gd_risk_gap",
    "gd_dgd_curves",
    "approx_moments",
    "SingleHead",
    "nw_moment_table",
]


@dataclass(frozen=True)
class AuthorsRisk:
    """A risk printed by the authors' own code, cited as such: a squared-error Monte Carlo over
    `n_prompts` prompts at (d, L, σ²) = `task`, printed in `where`."""

    value: float
    task: tuple
    n_prompts: int
    where: str

    def applies_to(self, task) -> bool:
        """Whether `task` is the setting the value was computed in (isotropic, one task)."""
        from ...core.data import TaskConfig

        d, L, s2 = self.task
        return task == TaskConfig(d=d, L=L, sigma2=s2)


_AUTHORS_NB = "github.com/XintianPan/ICL_linear, plots.ipynb, second cell's output, line 'L: 40'"
# the Bayes predictor: ridge with λ = dσ² ("ridge loss")
AUTHORS_BAYES = AuthorsRisk(0.11463523593597445, (5, 40, 0.1), 50_000, _AUTHORS_NB + ", 'ridge loss'")
# one head at ω = 1/√d, μ = √d/(1 + (1 + σ²) d e / L) = μ*(ω) of (4.1) ("kernel loss")
AUTHORS_SINGLE_HEAD = AuthorsRisk(0.4048458405129611, (5, 40, 0.1), 50_000, _AUTHORS_NB + ", 'kernel loss'")
# (ξ, σ²) where the authors' notebook compares GD with ridge in the proportional setting
# (plots.ipynb, the cell starting "xi = 0.2; L = 100; d=int(L*xi); var = 3")
AUTHORS_PROPORTIONAL_POINT = (0.2, 3.0)


# --- the risks at the chapter's (d, L, σ²) -------------------------------------------------------------


def configs(ch) -> list:
    """The models of chapter 07's risk table: `ch.budget`'s heads × seeds at `ch.task`."""
    from ...runs.config import run_config

    b = ch.budget
    return [run_config(ch.prof, heads=H, seed=s, task=ch.task) for H in b.heads for s in b.seeds]


_DISPLAY = {
    "gd": "vanilla GD at η* = L/(L + d(1+σ²) + 1)",
    "dgd": "debiased GD at η_eff = L/(L + d(1+σ²))",
    "nw": "single head NW at ω = 1/√d, μ = μ*(ω) of (4.1)",
    "bayes": "Bayes: ridge with λ = dσ² (squared errors)",
}


@dataclass
class RiskTable:
    """Risks on common prompts at the chapter's task. risks: id → `Risk`, ids "trained_h{H}_s{seed}",
    "gd", "dgd", "nw", "bayes"; bayes_pv: (mean, s.e.) of the Bayes risk by its posterior variance
    (`theory.bayes_risk_mc`); exact: id → closed-form risk where one exists; bayes_limit: the
    Marchenko–Pastur limit at ξ = d/L."""

    risks: dict
    bayes_pv: tuple
    exact: dict
    bayes_limit: float
    heads: tuple
    seeds: tuple

    def trained(self, H: int) -> tuple[float, float]:
        """Mean risk of the H-head models over seeds and its standard error."""
        rs = [self.risks[f"trained_h{H}_s{s}"] for s in self.seeds]
        return float(np.mean([r.mean for r in rs])), float(np.sqrt(np.mean([r.se**2 for r in rs]) / len(rs)))

    @property
    def multi_head(self) -> float:
        """Mean risk of the trained models with H ≥ 2 (mean over head counts of the seed means)."""
        return float(np.mean([self.trained(H)[0] for H in self.heads if H >= 2]))

    def table(self):
        import pandas as pd

        rows = [
            (f"trained softmax attention, H = {H} (mean of {len(self.seeds)} seeds)", *self.trained(H), np.nan)
            for H in self.heads
        ]
        rows += [(_DISPLAY[k], self.risks[k].mean, self.risks[k].se, self.exact.get(k, np.nan)) for k in _DISPLAY]
        rows.append(("Bayes: ridge with λ = dσ² (posterior-variance MC)", *self.bayes_pv, np.nan))
        return pd.DataFrame(rows, columns=["predictor", "risk (MC)", "± s.e.", "exact"]).set_index("predictor")


def authors_se(risk, cited: AuthorsRisk) -> float:
    """The standard error of `cited` (a squared-error Monte Carlo over cited.n_prompts prompts),
    estimated from the spread of our own squared errors of the same predictor (`risk`, a `Risk`)."""
    return float(risk.se * math.sqrt(risk.n / cited.n_prompts))


# --- proportional regime ---------------------------------------------------------------------------


def extrapolate_in_1_over_d(dims, means, ses) -> tuple[float, float]:
    """Weighted least-squares fit of means ≈ a + b/d over `dims` (weights 1/s.e.²): (a, s.e. of a),
    the d → ∞ value. Finite-size corrections to the proportional limits are O(1/d)."""
    x = 1 / np.asarray(dims, float)
    if x.size < 2:
        raise ValueError(f"extrapolating in 1/d needs at least two dimensions, got {x.size}")
    A = np.stack([np.ones_like(x), x], 1)
    W = 1 / np.asarray(ses, float) ** 2
    cov = np.linalg.inv(A.T @ (W[:, None] * A))
    coef = cov @ A.T @ (W * np.asarray(means, float))
    return float(coef[0]), float(math.sqrt(cov[0, 0]))


def proportional_grid(xis, sigma2s, dims, n_draws: int, seed: int = 0):
    """At each (ξ, σ², d), L = round(d/ξ): the exact risk of debiased GD at η_eff(d, L) and its
    limit (D.33), the Bayes risk by posterior-variance Monte Carlo over `n_draws` contexts (seed
    `seed + d`) and its Marchenko–Pastur limit (D.36), and their ratio (the "factor") with its s.e."""
    import pandas as pd

    rows = []
    for xi in xis:
        for s2 in sigma2s:
            for d in dims:
                L = int(round(d / xi))
                b, se = theory.bayes_risk_mc(d, L, s2, n_prompts=n_draws, seed=seed + d, batch=500)
                g = float(theory.dgd_risk(theory.eta_eff(d, L, s2), d, L, s2))
                rows.append(dict(xi=xi, sigma2=s2, d=d, L=L, dgd_exact=g, bayes_mc=b, bayes_se=se))
    p = pd.DataFrame(rows)
    p["dgd_limit"] = theory.gd_risk_asymptotic(p.xi, p.sigma2)
    p["bayes_limit"] = theory.bayes_risk_asymptotic(p.xi, p.sigma2)
    p["factor"] = p.dgd_exact / p.bayes_mc
    p["factor_se"] = p.factor * p.bayes_se / p.bayes_mc
    p["factor_limit"] = p.dgd_limit / p.bayes_limit
    return p


def proportional_limits(grid):
    """Per (ξ, σ²): the Bayes risk and the factor extrapolated to d → ∞ (`extrapolate_in_1_over_d`),
    their s.e., their limits and the deviation in s.e. (z)."""
    import pandas as pd

    rows = []
    for (xi, s2), g in grid.groupby(["xi", "sigma2"], sort=False):
        b, b_se = extrapolate_in_1_over_d(g.d, g.bayes_mc, g.bayes_se)
        f, f_se = extrapolate_in_1_over_d(g.d, g.factor, g.factor_se)
        bl, fl = float(g.bayes_limit.iloc[0]), float(g.factor_limit.iloc[0])
        rows.append(
            dict(
                xi=xi,
                sigma2=s2,
                bayes_extrap=b,
                bayes_extrap_se=b_se,
                bayes_limit=bl,
                z_bayes=(b - bl) / b_se,
                factor_extrap=f,
                factor_extrap_se=f_se,
                factor_limit=fl,
                z_factor=(f - fl) / f_se,
            )
        )
    return pd.DataFrame(rows)


# --- vanilla versus debiased GD -----------------------------------------------------------------------


def gd_dgd_mean_square_difference(eta, d: int, L: int, sigma2: float):
    """E(ŷ_dGD − ŷ_GD)² = η² (d(1 + σ²) + 2) / L² at the same rate η (ours: ŷ_dGD − ŷ_GD = −η ȳ x̄ᵀx_q
    with x̄ ~ N(0, I/L), ȳ = x̄ᵀβ + ε̄)."""
    return np.asarray(eta, float) ** 2 * (d * (1 + sigma2) + 2) / np.asarray(L, float) ** 2


def dgd_gd_risk_gap(d: int, L: int, sigma2: float):
    """R_dGD(η_eff) − R_GD(η*) = (D + 1) / ((L + D)(L + D + 1)), D = d(1 + σ²): debiased GD at its
    optimal rate η_eff against vanilla GD at its optimal rate η* (ours, from `theory.dgd_risk` and
    `theory.gd_risk`)."""
    D, L = d * (1 + sigma2), np.asarray(L, float)
    return (D + 1) / ((L + D) * (L + D + 1))


def gd_dgd_curves(sigma2: float, dims=(2, 5, 20, 80), lengths=None, threshold: float = 0.01):
    """For each d (lengths: default 80 log-spaced integers in [4, 2000]): the lengths L > d + 2, the relative
    excess risk R_dGD(η_eff)/R_GD(η*) − 1 and the
    mean-square difference of the two predictors over R_GD(η*), both exact; and a table of the
    first L where the relative excess falls below `threshold`. Returns (curves, table)."""
    import pandas as pd

    lengths = np.unique(np.geomspace(4, 2000, 80).astype(int)) if lengths is None else lengths
    curves, rows = {}, []
    for d in dims:
        Lk = np.asarray(lengths)[np.asarray(lengths) > d + 2]
        r_gd = theory.gd_risk(theory.gd_optimal_eta(d, Lk, sigma2), d, Lk, sigma2)
        rel = theory.dgd_risk(theory.eta_eff(d, Lk, sigma2), d, Lk, sigma2) / r_gd - 1
        curves[d] = (Lk, rel, gd_dgd_mean_square_difference(theory.eta_eff(d, Lk, sigma2), d, Lk, sigma2) / r_gd)
        i = int(np.argmax(rel < threshold))
        rows.append(dict(d=d, L_gap_below_1pct=int(Lk[i]), d_over_L=d / Lk[i]))
    return curves, pd.DataFrame(rows)


# --- the single head (4.12) ---------------------------------------------------------------------------


def approx_moments(omega, d: int, L: int, sigma2: float):
    """(A, B) as the approximate loss (4.1) has them for one head: A ≈ ω, B ≈ ω² + c e^{dω²}."""
    w = np.asarray(omega, float)
    return w, w**2 + theory.c(L, sigma2) * np.exp(d * w**2)


@dataclass
class SingleHead:
    """The single head at the chapter's task. omegas: (W,) scan; A, B: (W + 1,) moments of NW_ω on
    the scan and, last, at ω = 1/√d; best_mu_risk: (W + 1,) true risk at the best μ for each ω
    (1 + σ² − A²/B); w, mu, approx: (4.12)'s optimum of (4.1) and L̃ there; at_approx: (mean, s.e.)
    true risk at (w, mu); lengths: the table of A and B at ω = 1/√d for growing L."""

    omegas: np.ndarray
    A: np.ndarray
    B: np.ndarray
    best_mu_risk: np.ndarray
    w: float
    mu: float
    approx: float
    at_approx: tuple
    lengths: object

    @property
    def i_best(self) -> int:
        return int(np.argmin(self.best_mu_risk[:-1]))

    @property
    def best(self) -> tuple[float, float, float]:
        """(ω, μ, true risk) at the best ω of the scan, best μ."""
        i = self.i_best
        return float(self.omegas[i]), float(self.A[i] / self.B[i]), float(self.best_mu_risk[i])

    def table(self, trained_patterns=(), trained_risks=()):
        """The single head's risks: (4.1) at its optimum, the true risk there, at the best μ, at the
        best ω; then one row per trained single head (|ω|, |μ| extracted)."""
        import pandas as pd

        rows = [
            ("approximate loss L̃ at ω = 1/√d (closed form)", self.w, self.mu, self.approx),
            ("true risk at ω = 1/√d, μ = μ*(ω) of L̃", self.w, self.mu, self.at_approx[0]),
            ("true risk at ω = 1/√d, best μ", self.w, self.A[-1] / self.B[-1], self.best_mu_risk[-1]),
            ("true risk at the best ω on the grid, best μ", *self.best),
        ]
        rows += [
            (f"trained single head {k} (|ω|, |μ| extracted)", abs(p.omega[0]), abs(p.mu[0]), r)
            for k, (p, r) in enumerate(zip(trained_patterns, trained_risks))
        ]
        return pd.DataFrame(rows, columns=["", "ω", "μ", "risk"]).set_index("")


def nw_moment_table(task, omega: float, length_factors, n_prompts: int, n_batches: int, seed: int = 0):
    """A and B of NW_ω at L·k for k in `length_factors` (n_batches batches of n_prompts prompts, one
    generator seeded `seed` per length), against (4.1)'s ω and ω² + c e^{dω²}, and the true and
    approximate risks at the best μ."""
    import dataclasses

    import pandas as pd
    import torch

    from ...core.data import sample_prompts

    rows = []
    for k in length_factors:
        t = dataclasses.replace(task, L=task.L * k)
        g = torch.Generator().manual_seed(seed)
        mom = [
            nw_moments([omega], sample_prompts(t, n_prompts, g, dtype=torch.float64), t.sigma2)
            for _ in range(n_batches)
        ]
        a, b = np.mean([m[0][0] for m in mom]), np.mean([m[1][0] for m in mom])
        a_apx, b_apx = approx_moments(omega, t.d, t.L, t.sigma2)
        c = theory.c(t.L, t.sigma2)
        rows.append(
            {
                "L": t.L,
                "A / ω": a / omega,
                "(B − ω²) / c": (b - omega**2) / c,
                "(4.1): e^{dω²}": math.exp(t.d * omega**2),
                "B / B(4.1)": b / b_apx,
                "true risk": 1 + t.sigma2 - a**2 / b,
                "approximate risk (4.1)": 1 + t.sigma2 - a_apx**2 / b_apx,
            }
        )
    tab = pd.DataFrame(rows)
    tab["gap"] = tab["true risk"] - tab["approximate risk (4.1)"]
    return tab


# --- chapter 07's study -------------------------------------------------------------------------------


class Study:
    """Chapter 07's evidence, each part computed on first use from `ch` (the chapter's task and budget)."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def runs(self) -> dict:
        """H → the trained runs of `ch.budget.heads` × `ch.budget.seeds` at `ch.task` (from the cache
        when trained already; the observations chapter trains the same configurations)."""
        from ...runs.load import load_or_train_many

        ch = self.ch
        cfgs = configs(ch)
        runs = dict(zip(cfgs, load_or_train_many(cfgs, device=ch.device)))
        return {H: [r for c, r in runs.items() if c.model.heads == H] for H in ch.budget.heads}

    @cached_property
    def risks(self) -> RiskTable:
        """Every predictor's risk on `ch.budget.mc_prompts` common prompts (seed budget.seed + 7); the
        Bayes risk also by its posterior variance (seed + 8)."""
        from ...core.estimators import DebiasedGD, VanillaGD, bayes, icl_risks, nadaraya_watson

        ch, runs = self.ch, self.runs
        b, d, L, s2 = ch.budget, ch.d, ch.L, ch.sigma2
        w, mu, _ = theory.single_head_optimum(d, L, s2)
        eta_star = theory.gd_optimal_eta(d, L, s2)
        preds = {
            f"trained_h{H}_s{s}": r.predictor(device=ch.device) for H, rs in runs.items() for s, r in zip(b.seeds, rs)
        }
        preds.update(
            gd=VanillaGD(eta_star), dgd=DebiasedGD(ch.eta_eff), nw=nadaraya_watson(w, mu), bayes=bayes(ch.task)
        )
        risks = icl_risks(preds, ch.task, b.mc_prompts, seed=b.seed + 7)
        pv = theory.bayes_risk_mc(d, L, s2, n_prompts=b.mc_prompts, seed=b.seed + 8)
        exact = {"gd": float(theory.gd_risk(eta_star, d, L, s2)), "dgd": float(theory.dgd_risk(ch.eta_eff, d, L, s2))}
        return RiskTable(
            risks, pv, exact, float(theory.bayes_risk_asymptotic(d / L, s2)), tuple(b.heads), tuple(b.seeds)
        )

    @cached_property
    def grid(self):
        """`proportional_grid` over the budget's ξ and the σ² grid (the chapter's σ² first, then the budget's)."""
        b = self.ch.budget
        sigma2s = tuple(dict.fromkeys((self.ch.sigma2, *b.prop_sigma2s)))
        return proportional_grid(b.prop_xis, sigma2s, b.prop_dims, b.prop_draws, seed=b.seed)

    @cached_property
    def limits(self):
        """`proportional_limits` of the grid: the d → ∞ extrapolations against the limits."""
        return proportional_limits(self.grid)

    @cached_property
    def gd_dgd(self) -> tuple:
        """`gd_dgd_curves` at the chapter's σ²: (curves, table)."""
        return gd_dgd_curves(self.ch.sigma2)

    @cached_property
    def gd_dgd_mc(self) -> dict:
        """Monte Carlo at the chapter's task (budget.mc_prompts prompts, seed budget.seed + 9) of the
        mean-square difference of the predictors at η_eff and of R_dGD(η_eff) − R_GD(η*) on common
        prompts: {"msd": (mean, s.e.), "gap": (mean, s.e.)}."""
        from ...core.estimators import DebiasedGD, VanillaGD

        ch = self.ch
        P = task_prompts(ch.task, ch.budget.mc_prompts, ch.budget.seed + 9)
        dgd, gd_eff, gd_star = (
            DebiasedGD(ch.eta_eff)(P),
            VanillaGD(ch.eta_eff)(P),
            VanillaGD(theory.gd_optimal_eta(ch.d, ch.L, ch.sigma2))(P),
        )
        out = {}
        for k, v in (("msd", (dgd - gd_eff) ** 2), ("gap", (dgd - P.y_q) ** 2 - (gd_star - P.y_q) ** 2)):
            v = v[:, 0]
            out[k] = (v.mean().item(), (v.std() / math.sqrt(len(v))).item())
        return out

    @cached_property
    def single_head(self) -> SingleHead:
        """`SingleHead` with `ch`'s task and budget (seeds budget.seed + 11 for the scan, + 12 for the
        table over L)."""
        ch = self.ch
        b, d, L, s2 = ch.budget, ch.d, ch.L, ch.sigma2
        w, mu, approx = theory.single_head_optimum(d, L, s2)
        omegas = np.linspace(0.2, 1.0, b.nw_omegas)
        P = task_prompts(ch.task, b.mc_prompts, b.seed + 11)
        A_s, B_s = nw_moment_tensors(np.r_[omegas, w], P, s2)  # (W + 1, n) each
        A, B = A_s.mean(1).numpy(), B_s.mean(1).numpy()
        r = (1 + s2 - 2 * mu * A_s[-1] + mu**2 * B_s[-1]).numpy()  # (n,) conditional risk at (w, mu) per prompt
        at_approx = (float(1 + s2 - 2 * mu * A[-1] + mu**2 * B[-1]), float(r.std() / math.sqrt(r.size)))
        tab = nw_moment_table(
            ch.task, w, b.nw_length_factors, max(b.mc_prompts // 10, 200), b.nw_batches, seed=b.seed + 12
        )
        return SingleHead(omegas, A, B, 1 + s2 - A**2 / B, w, mu, approx, at_approx, tab)

    @cached_property
    def trained_single_heads(self) -> tuple[list, list]:
        """The trained single heads (H = 1, if trained): their patterns and their risks in the risk table."""
        runs = self.runs
        patterns = [r.pattern() for r in runs.get(1, [])]
        risks = [self.risks.risks[f"trained_h1_s{s}"].mean for s in self.ch.budget.seeds] if 1 in runs else []
        return patterns, risks
