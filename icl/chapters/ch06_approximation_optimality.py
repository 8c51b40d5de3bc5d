"""Chapter 06 (Thm 4.2 (i), (ii)): the approximation error of S(ω) against debiased GD, and the
minimisers of L̃ over the larger space Θ (4.13); the chapter's numbers, claims and figures.

`Study(ch)` holds both parts, each computed on first use: `approximation` ((i), an `Approximation`)
and `optimality` ((ii), an `Optimality`, built on `fixed_scale_minima`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..core import theory
from ..core.optimality import (
    ThetaFit,
    approx_errors,
    leading_term_deviation,
    manifold_distance,
    minimise_mu,
    minimise_theta,
    one_sign_dummy_loss,
    pattern_kind,
    task_prompts,
)
from ..core.stats import loglog_slope

__all__ = [
    "Study",
    "numbers",
    "claims",
    "plot_approximation",
    "plot_joint_paths",
    "plot_components",
    "Approximation",
    "fixed_scale_minima",
    "Optimality",
]


@dataclass(frozen=True)
class Approximation:
    """Chapter 06's Theorem 4.2 (i). by_L: `ApproxErrors` at the chapter's d for each L; by_d: at
    L = dims_L for each d; slope_omega: exponent of ω in the error at the chapter's (d, L), fitted
    over ω ≤ fit_omega_max; lead_dev: `leading_term_deviation` at lead_omega; slope_L (± slope_L_se):
    exponent of L in E|R| over L ≥ large_L; slope_L_all: over every L; slope_d: exponent of d."""

    by_L: dict
    by_d: dict
    slope_omega: float
    lead_dev: float
    slope_L: float
    slope_L_se: float
    slope_L_all: float
    slope_d: float
    large_L: int

    @property
    def lengths(self) -> np.ndarray:
        return np.array(sorted(self.by_L))

    @property
    def dims(self) -> np.ndarray:
        return np.array(sorted(self.by_d))

    @property
    def ER_L(self) -> np.ndarray:
        return np.array([self.by_L[L].mean_abs_R for L in self.lengths])

    @property
    def ER_d(self) -> np.ndarray:
        return np.array([self.by_d[d].mean_abs_R for d in self.dims])


def fixed_scale_minima(heads, omegas, n_patterns: int, d: int, L: int, sigma2: float, seed: int = 0):
    """For each H and fixed scale ω: the best of `n_patterns` minimisations of L̃ over μ, each from a
    random sign pattern (uniform on {−1, 0, 1}^H) and a random μ. A DataFrame with H, omega, the
    best pattern's kind, its loss, L̃ on S(ω) (`theory.manifold_loss`) and its relative distance
    to S(ω)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for H in heads:
        for w in omegas:
            best = None
            for _ in range(n_patterns):
                signs = rng.integers(-1, 2, H)
                mu, val = minimise_mu(w, signs, d, L, sigma2, seed=int(rng.integers(1 << 31)))
                if best is None or val < best[2]:
                    best = (signs, mu, val)
            signs, mu, val = best
            rows.append(
                dict(
                    H=H,
                    omega=w,
                    pattern=pattern_kind(signs),
                    best_loss=val,
                    manifold_loss=float(theory.manifold_loss(w, d, L, sigma2)),
                    rel_distance=float(manifold_distance(w, signs, mu, d, L, sigma2)),
                )
            )
    return pd.DataFrame(rows)


@dataclass
class Optimality:
    """Chapter 06's Theorem 4.2 (ii). fixed: `fixed_scale_minima`; fits: H → the `ThetaFit`s of
    the joint minimisation; floor: 1 + σ² − 1/(1 + cd); eta_eff; best_pred_gap: E|ŷ_best − ŷ_dGD| /
    E|ŷ_dGD| for the best joint minimiser; on_manifold: the relative distance counted as "on S"."""

    fixed: object
    fits: dict
    floor: float
    eta_eff: float
    best_pred_gap: float
    on_manifold: float

    @property
    def joint(self):
        """One row per start: H, kind, final ω, L̃ − floor, Σ ω_h μ_h, relative distance, iterations."""
        import pandas as pd

        return pd.DataFrame(
            [
                dict(
                    H=H,
                    kind=f.kind,
                    omega_end=f.omega,
                    excess=f.loss - self.floor,
                    eta=f.eta,
                    rel_distance=float(f.path_distance[-1]),
                    iterations=f.nit,
                )
                for H, fs in self.fits.items()
                for f in fs
            ]
        )

    def summary(self):
        """The joint starts grouped by (H, kind of sign pattern)."""
        return self.joint.groupby(["H", "kind"]).agg(
            starts=("excess", "size"),
            max_excess=("excess", "max"),
            max_omega_end=("omega_end", "max"),
            eta_min=("eta", "min"),
            eta_max=("eta", "max"),
            median_rel_distance=("rel_distance", "median"),
            max_rel_distance=("rel_distance", "max"),
        )

    @property
    def best(self) -> ThetaFit:
        return min((f for fs in self.fits.values() for f in fs), key=lambda f: f.loss)

    @property
    def fixed_on_S(self) -> float:
        return float(self.fixed.rel_distance.max())

    @property
    def fixed_loss_gap(self) -> float:
        return float((self.fixed.best_loss - self.fixed.manifold_loss).abs().max())

    @property
    def profile_increasing(self) -> bool:
        return bool(
            all(np.all(np.diff(g.sort_values("omega").best_loss.to_numpy()) > 0) for _, g in self.fixed.groupby("H"))
        )

    @property
    def pm(self):
        """The starts whose sign pattern has both signs (they can reach S(ω))."""
        j = self.joint
        return j[j.kind == "±"]

    @property
    def stalled(self) -> list:
        """± starts that end farther than `on_manifold` from S(ω̂)."""
        return [f for fs in self.fits.values() for f in fs if f.kind == "±" and f.path_distance[-1] > self.on_manifold]

    @property
    def stalled_with_dummy(self) -> bool:
        return all((f.signs == 0).any() for f in self.stalled)

    @property
    def stalled_excess(self) -> float:
        return max((f.loss - self.floor for f in self.stalled), default=0.0)


class Study:
    """Chapter 06's evidence, each part computed on first use from `ch` (the chapter's task and budget)."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def approximation(self) -> Approximation:
        """Theorem 4.2 (i) with `ch`'s task and budget (seeds: budget.seed + 1 for the L sweep, + 2 for
        the d sweep, + 4 for the leading-term check)."""
        import dataclasses

        ch = self.ch
        b, task = ch.budget, ch.task
        omegas = np.geomspace(1e-3, 0.5, b.omegas)
        lengths = sorted(set(b.lengths) | {task.L})
        by_L = {L: approx_errors(dataclasses.replace(task, L=L), omegas, b.prompts, b.seed + 1) for L in lengths}
        by_d = {
            d: approx_errors(dataclasses.replace(task, d=d, L=b.dims_L), omegas, b.prompts, b.seed + 2) for d in b.dims
        }
        sel = omegas <= b.fit_omega_max
        slope_omega = loglog_slope(omegas[sel], by_L[task.L].error[sel])[0]
        big = [L for L in lengths if L >= b.large_L]
        slope_L, slope_L_se = loglog_slope(
            big, [by_L[L].mean_abs_R for L in big], [by_L[L].mean_abs_R_rel_se for L in big]
        )
        slope_L_all = loglog_slope(lengths, [by_L[L].mean_abs_R for L in lengths])[0]
        slope_d = loglog_slope(b.dims, [by_d[d].mean_abs_R for d in b.dims])[0] if len(b.dims) > 1 else float("nan")
        lead = leading_term_deviation(task, b.lead_omega, b.prompts, b.seed + 4)
        return Approximation(by_L, by_d, slope_omega, lead, slope_L, slope_L_se, slope_L_all, slope_d, b.large_L)

    @cached_property
    def optimality(self) -> Optimality:
        """Theorem 4.2 (ii) with `ch`'s task and budget (seeds: budget.seed + 10 for the fixed scales,
        + 100 + H for the joint starts of H heads, + 5 for the predictor check)."""
        from ..core.estimators import DebiasedGD, KernelSum

        ch = self.ch
        b, d, L, s2 = ch.budget, ch.d, ch.L, ch.sigma2
        fixed = fixed_scale_minima(b.theta_heads, b.fixed_omegas, b.patterns, d, L, s2, seed=b.seed + 10)
        fits = {H: minimise_theta(H, d, L, s2, b.starts, seed=b.seed + 100 + H) for H in b.theta_heads}
        best = min((f for fs in fits.values() for f in fs), key=lambda f: f.loss)
        P = task_prompts(ch.task, b.best_prompts, b.seed + 5)
        y_best = KernelSum(best.omega * best.signs, best.mu, name="best minimiser")(P)[:, 0]
        y_dgd = DebiasedGD(ch.eta_eff)(P)[:, 0]
        gap = ((y_best - y_dgd).abs().mean() / y_dgd.abs().mean()).item()
        return Optimality(fixed, fits, theory.approx_floor(d, L, s2), ch.eta_eff, gap, ch.tol.on_manifold_joint)


def numbers(st: Study) -> dict:
    """Every number chapter 06's prose quotes (keys opt-*): key → (value, format) or key → text."""
    return {**_approximation_numbers(st), **_optimality_numbers(st)}


def _approximation_numbers(st: Study) -> dict:
    """The numbers about (i)."""
    ch, a = st.ch, st.approximation
    b = ch.budget
    return {
        "opt-d": (ch.d, "{}"),
        "opt-L": (ch.L, "{}"),
        "opt-dims-L": (b.dims_L, "{}"),
        "opt-slope-omega": (a.slope_omega, "{:.3f}"),
        "opt-fit-omega-max": (b.fit_omega_max, "{:g}"),
        "opt-lead-omega": (b.lead_omega, "{:g}"),
        "opt-lead-dev": (a.lead_dev, "{:.1e}"),
        "opt-large-L": (a.large_L, "{}"),
        "opt-slope-L": (a.slope_L, "{:.3f}"),
        "opt-slope-L-se": (a.slope_L_se, "{:.3f}"),
        "opt-slope-L-all": (a.slope_L_all, "{:.3f}"),
        "opt-slope-d": (a.slope_d, "{:.2f}"),
    }


def _optimality_numbers(st: Study) -> dict:
    """The numbers about (ii)."""
    o = st.optimality
    pm, best = o.pm, o.best
    return {
        "opt-floor": (o.floor, "{:.6f}"),
        "opt-eta-eff": (o.eta_eff, "{:.5f}"),
        "opt-fixed-on-S": (o.fixed_on_S, "{:.1e}"),
        "opt-fixed-loss-gap": (o.fixed_loss_gap, "{:.1e}"),
        "opt-pm-n": (len(pm), "{}"),
        "opt-pm-excess": (float(pm.excess.max()) if len(pm) else float("nan"), "{:.1e}"),
        "opt-pm-omega": (float(pm.omega_end.max()) if len(pm) else float("nan"), "{:.4f}"),
        "opt-pm-eta-dev": (float(np.abs(pm.eta / o.eta_eff - 1).max()) if len(pm) else float("nan"), "{:.1e}"),
        "opt-stalled-n": (len(o.stalled), "{}"),
        "opt-stalled-excess": (o.stalled_excess, "{:.1e}"),
        "opt-stalled-dummy": "all" if o.stalled_with_dummy else "not all",
        "opt-best-H": (len(best.signs), "{}"),
        "opt-best-pattern": (" ".join(f"{int(s):+d}" if s else "0" for s in best.signs), "({})"),
        "opt-best-omega": (best.omega, "{:.1e}"),
        "opt-best-excess": (best.loss - o.floor, "{:.1e}"),
        "opt-best-distance": (float(best.path_distance[-1]), "{:.1e}"),
        "opt-best-pred-gap": (o.best_pred_gap, "{:.1e}"),
    }


def claims(ch, st: Study):
    """Theorem 4.2 (i) and (ii): the chapter's claims."""
    _approximation_claims(ch, st.approximation)
    _optimality_claims(ch, st.optimality)


def _approximation_claims(ch, a: Approximation):
    """Theorem 4.2 (i): the error decays with ω (the paper's words) and shrinks with L (our rate; the printed
    bound is lost). The ω² law of our expansion is a unit test (`tests/core/test_optimality.py`): its measured
    exponent checks our derivation, not the paper."""
    t = ch.tol
    sweeps = {**{("L", L): e for L, e in a.by_L.items()}, **{("d", d): e for d, e in a.by_d.items()}}
    bad = [f"{k} = {v}" for (k, v), e in sweeps.items() if not np.all(np.diff(e.error) > 0)]
    ch.claims.add(
        "error_decays_with_omega",
        "on S(ω) with 2ωμ = η_eff, the two-kernel model's error against debiased GD, E|ŷ_TF − ŷ_dGD|, decays as ω "
        f"decreases: strictly increasing in ω over the grid [{a.by_L[ch.L].omegas[0]:g}, "
        f"{a.by_L[ch.L].omegas[-1]:g}], for every L and d of the sweeps",
        "Thm 4.2 (i), §4.3",
        not bad,
        kind="true",
        target_origin="the paper: 'the approximation error decays with ω, i.e., when ω is small, the multi-head "
        "attention model is a good approximation of the debiased GD predictor' (§4.3, after Thm 4.2)",
        tol_origin="'decays' read as strictly monotone on our grid; every ω of a sweep shares its prompts",
        note_if_fail="not monotone at " + ", ".join(bad),
        finding="paper",
    )
    ch.claims.add(
        "error_rate_in_length",
        f"the error's coefficient E|R| shrinks like L^(−1/2) (d = {ch.d}, slope over L ≥ {a.large_L})",
        "Thm 4.2 (i)",
        a.slope_L,
        -0.5,
        tol=t.exponent,
        target_origin="ours: at L → ∞ the error vanishes by Stein's lemma, so only the O(L^(−1/2)) "
        "fluctuation of a sample mean remains ('L sufficiently large'); measured on the exact model by Monte Carlo",
        tol_origin=f"an exponent read to one decimal (±{t.exponent:g}); the fit's Monte Carlo s.e. is "
        f"{a.slope_L_se:.3f}",
        finding="reading",
    )


def _optimality_claims(ch, o: Optimality):
    """Theorem 4.2 (ii) (App. D.2) with our reading of Θ (4.13): where the numerical minimisers of L̃ over the
    non-convex Θ lie. The values the minimisers reach (the floor 1 + σ² − 1/(1 + cd), Σ ω_h μ_h = η_eff, the
    predictor = debiased GD, the fixed-scale loss increasing in ω) are closed forms of our own derivation of L̃ on
    S(ω), checked against the minimisation in the unit tests (tests/chapters/test_ch06_approximation_optimality.py)."""
    t, pm = ch.tol, o.pm
    theta = "Θ (4.13) is our reading: ω_h ∈ {±ω, 0}, μ free"
    ch.claims.add(
        "fixed_scale_minimiser_on_manifold",
        "at fixed ω the minimiser of L̃ over Θ(ω) lies on S(ω) (max relative distance)",
        "Thm 4.2 (ii), App. D.2",
        o.fixed_on_S,
        t.on_manifold_fixed,
        kind="max",
        note=theta,
        target_origin="the paper: 'within [Θ], [L̃] is minimized by the predictor in (4.9)' (§4.3; symbols lost "
        "in our text), i.e. on S(ω); found by random sign patterns and starts over the non-convex Θ(ω)",
        tol_origin="numerical: BFGS stops at gradient norm 1e-12; components that cannot reach S(ω) sit at "
        "relative distance ≥ 1/√2",
        finding="paper",
    )
    ch.claims.add(
        "joint_minimiser_omega_to_zero",
        "joint minimisation pushes ω → 0: max final ω of ± starts",
        "Thm 4.2 (ii)",
        float(pm.omega_end.max()),
        t.omega_end,
        kind="max",
        target_origin="the paper: '[L̃ on S(ω)] is monotonically increasing in [ω]' (§4.3), so the infimum over Θ is "
        "approached as ω → 0",
        tol_origin="2.5 times below the smallest starting scale (starts log-uniform in [0.05, 1])",
        finding="paper",
    )
    ch.claims.add(
        "joint_minimisers_on_manifold",
        "every ± start ends on S(ω̂) (fraction within 1 % relative distance)",
        "Thm 4.2 (ii)",
        float((pm.rel_distance <= o.on_manifold).mean()),
        1.0,
        kind="min",
        target_origin="our reading of Thm 4.2 (ii) ('within [Θ], [L̃] is minimized by the predictor in (4.9)'): "
        "every joint minimisation that can reach S ends on it",
        tol_origin="'on S' read as within 1 % relative distance (components that cannot reach S(ω) sit at ≥ 71 %)",
        note_if_fail=f"{len(o.stalled)} ± starts, {'all' if o.stalled_with_dummy else 'not all'} with dummy "
        "heads, stall between S(ω) and the 'one sign + dummy' valley, which reaches the same "
        "infimum as ω → 0 (excess O(ω²) against O(ω⁴)); their L̃ is within "
        f"{o.stalled_excess:.0e} of the floor; at fixed ω S(ω) is strictly better. The infimum over Θ is not "
        "attained, and the theorem's words (the minimum over Θ(ω) is on S(ω), the infimum is approached as ω → 0) "
        "hold; only our reading that every route to the infimum ends on S fails.",
        finding="reading",
    )


# --- chapter 06's figures ---------------------------------------------------------------------------


def plot_approximation(st: Study):
    """Three panels: the error against ω for each L (with the leading term dotted) and for each d,
    and the coefficient E|R| against L with an L^(−1/2) guide. Returns the figure."""
    import matplotlib.pyplot as plt

    a = st.approximation
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for col, L in zip(plt.cm.viridis(np.linspace(0, 0.9, len(a.lengths))), a.lengths):
        e = a.by_L[L]
        axes[0].plot(e.omegas, e.error, "o-", color=col, ms=4, label=f"$L = {L}$")
        axes[0].plot(e.omegas, e.leading, ":", color=col, lw=1)
    d = next(iter(a.by_L.values())).d
    axes[0].set(
        xscale="log",
        yscale="log",
        xlabel=r"KQ scale $\omega$",
        title=f"error vs $\\omega$ ($d = {d}$)",
        ylabel=r"$\mathbb{E}|\hat y_{\mathrm{TF}} - \hat y_{\mathrm{dGD}}(\eta)|$",
    )
    axes[0].legend(fontsize=8, title=r"dotted: $\eta\omega^2\,\mathbb{E}|R|$", title_fontsize=8)
    for col, dd in zip(plt.cm.magma(np.linspace(0.1, 0.8, len(a.dims))), a.dims):
        axes[1].plot(a.by_d[dd].omegas, a.by_d[dd].error, "s-", color=col, ms=4, label=f"$d = {dd}$")
    L_d = next(iter(a.by_d.values())).L
    axes[1].set(xscale="log", yscale="log", xlabel=r"KQ scale $\omega$", title=f"error vs $\\omega$ ($L = {L_d}$)")
    axes[1].legend(fontsize=8)
    Ls = a.lengths
    axes[2].plot(Ls, a.ER_L, "o-", label=f"$d = {d}$: slope {a.slope_L:.2f} for $L \\geq {a.large_L}$")
    axes[2].plot(Ls, a.ER_L[0] * (Ls / Ls[0]) ** -0.5, "k--", lw=1, label=r"$\propto L^{-1/2}$")
    axes[2].set(
        xscale="log",
        yscale="log",
        xlabel="number of examples $L$",
        ylabel=r"$\mathbb{E}|R|$",
        title=r"the $\omega^2$ coefficient vs $L$",
    )
    axes[2].legend(fontsize=8)
    return fig


_KIND_STYLE = {
    "±": ("C0", "±: both signs"),
    "one sign + dummy": ("C3", "one sign + dummy"),
    "one sign": ("C2", "one sign (a single head)"),
    "all dummy": ("0.5", "all dummy"),
}


def plot_joint_paths(st: Study, H: int | None = None):
    """Three panels along the L-BFGS-B iterations of every start with H heads (None: the largest H
    searched): L̃ − floor, ω, and the relative distance to S(ω) (± and one-sign-plus-dummy starts).
    Returns the figure."""
    import matplotlib.pyplot as plt

    o, H = st.optimality, max(st.ch.budget.theta_heads) if H is None else H
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    seen = set()
    for f in o.fits[H]:
        col, lab = _KIND_STYLE[f.kind]
        lab, it = (None if f.kind in seen else lab), np.arange(1, len(f.path_loss) + 1)
        seen.add(f.kind)
        axes[0].plot(it, np.maximum(f.path_loss - o.floor, 1e-16), color=col, lw=1, alpha=0.8, label=lab)
        axes[1].plot(it, f.path_omega, color=col, lw=1, alpha=0.8)
        if f.kind in ("±", "one sign + dummy"):
            axes[2].plot(it, f.path_distance, color=col, lw=1, alpha=0.8)
    axes[0].set(ylabel=r"$\tilde{\mathcal{L}} - (1 + \sigma^2 - \frac{1}{1 + cd})$", title=f"loss, $H = {H}$")
    axes[0].legend(fontsize=8)
    axes[1].set(ylabel=r"scale $\omega$", title=r"$\omega$ is pushed towards 0")
    axes[2].set(ylabel=r"relative distance to $S(\omega)$", title="distance to $S(\\omega)$ (± and one sign + dummy)")
    for ax in axes:
        ax.set(xscale="log", yscale="log", xlabel="L-BFGS-B iteration")
    return fig


def plot_components(st: Study):
    """min_μ L̃ − floor against ω in each component of Θ(ω) (closed forms) with the numerical best
    over Θ(ω) at the fixed scales. Returns the figure."""
    import matplotlib.pyplot as plt

    o, d, L, sigma2 = st.optimality, st.ch.d, st.ch.L, st.ch.sigma2
    ww = np.geomspace(1e-3, 1, 100)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(ww, theory.manifold_loss(ww, d, L, sigma2) - o.floor, label=r"± heads on $S(\omega)$ (4.6)")
    ax.plot(ww, one_sign_dummy_loss(ww, d, L, sigma2) - o.floor, "C3", label="one sign + dummy (closed form)")
    ax.plot(ww, theory.single_head_loss(ww, d, L, sigma2) - o.floor, "C2", label="one sign, no dummy (a single head)")
    ax.plot(o.fixed.omega, o.fixed.best_loss - o.floor, "k.", ms=8, label=r"best over $\Theta(\omega)$ (numerical)")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"scale $\omega$",
        ylabel=r"$\min_\mu \tilde{\mathcal{L}} - $ floor",
        title=r"best loss in each component of $\Theta(\omega)$",
    )
    ax.legend(fontsize=8)
    return fig
