"""Chapter 06 (Thm 4.2 (i), (ii)): the approximation error of S(ω) against debiased GD, and the
minimisers of L̃ over the larger space Θ (4.13); the chapter's numbers, claims and figures.

`Study(ch)` holds both parts, each computed on first use: `approximation` ((i), an `Approximation`)
and `optimality` ((ii), an `Optimality`, built on `fixed_scale_minima`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..book import style
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


# --- chapter 06's figures (in icl.book.style's visual language) ---------------------------------------


def _legend(subfig, handles):
    """One legend beside a row of panels (a subfigure), outside the data."""
    return subfig.legend(handles=handles, loc="outside right upper")


def plot_approximation(st: Study):
    """Four panels. Top: the error against ω for each L (one colour each) with our leading term
    ηω²E|R| drawn above it as a reference, and the departure from it, 1 − error / leading term.
    Bottom: the error against ω for each d (L = dims_L), and the coefficient E|R| against L with an
    L^(−1/2) guide through the first point of the fit. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    a = st.approximation
    d, L_d = next(iter(a.by_L.values())).d, next(iter(a.by_d.values())).L
    fig = plt.figure(figsize=style.figsize(2, 2, width=style.FULL_WIDTH, aspect=0.7))
    top, bottom = fig.subfigures(2, 1)
    ax_e, ax_r = top.subplots(1, 2)
    ax_d, ax_R = bottom.subplots(1, 2)
    cols = dict(zip(a.lengths, style.config_colours(len(a.lengths))))
    err_label = r"$\mathbb{E}|\hat y_{\mathrm{TF}} - \hat y_{\mathrm{dGD}}|$"
    for L in a.lengths:
        e = a.by_L[L]
        ax_e.plot(e.omegas, e.error, "o-", color=cols[L], ms=3.5, lw=1.4)
        style.reference(ax_e, e.omegas, e.leading, "theory", label="", lw=1.2)
        dev = 1 - e.error / e.leading
        ok = dev > 0
        ax_r.plot(e.omegas[ok], dev[ok], "o-", color=cols[L], ms=3.5, lw=1.4)
    ax_e.set(xscale="log", yscale="log", xlabel=r"KQ scale $\omega$", ylabel=err_label, title=f"error ($d = {d}$)")
    ax_r.set(
        xscale="log",
        yscale="log",
        xlabel=r"KQ scale $\omega$",
        ylabel=r"$1 - $ error / leading term",
        title="against the leading term",
    )
    handles = [Line2D([], [], color=c, lw=2.2, label=f"$L = {L}$") for L, c in cols.items()]
    handles.append(style.reference_handle("theory", r"leading term $\eta\omega^2\,\mathbb{E}|R|$"))
    _legend(top, handles)
    dcols = dict(zip(a.dims, style.config_colours(len(a.dims))))
    for dd in a.dims:
        ax_d.plot(a.by_d[dd].omegas, a.by_d[dd].error, "s-", color=dcols[dd], ms=3.5, lw=1.4)
    ax_d.set(xscale="log", yscale="log", xlabel=r"KQ scale $\omega$", ylabel=err_label, title=f"error ($L = {L_d}$)")
    Ls, col = a.lengths, dcols.get(d, style.config_colours(1)[0])
    ax_R.plot(Ls, a.ER_L, "o-", color=col, ms=4)
    k = int(np.searchsorted(Ls, a.large_L))
    style.reference(ax_R, Ls, a.ER_L[k] * (Ls / Ls[k]) ** -0.5, "theory", label="")
    style.mark(ax_R, a.large_L, f"fit from $L = {a.large_L}$")
    ax_R.set(xscale="log", yscale="log", xlabel="number of examples $L$", ylabel=r"$\mathbb{E}|R|$")
    ax_R.set_title(r"the $\omega^2$ coefficient", pad=16)
    handles = [Line2D([], [], color=c, lw=2.2, label=f"$d = {dd}$") for dd, c in dcols.items()]
    handles.append(
        Line2D([], [], color=col, marker="o", label=f"$\\mathbb{{E}}|R|$ ($d = {d}$): slope {a.slope_L:.2f}")
    )
    handles.append(style.reference_handle("theory", r"$\propto L^{-1/2}$"))
    _legend(bottom, handles)
    return fig


_KINDS = ("±", "one sign + dummy", "one sign", "all dummy")
_KIND_COLOUR = dict(zip(_KINDS, style.config_colours(2) + ["0.45", "0.45"]))  # patterns that cannot reach S: grey


def _held(paths) -> np.ndarray:
    """(n, K) from n paths of different lengths: a path that has stopped keeps its last value."""
    K = max(len(p) for p in paths)
    return np.array([np.r_[p, np.full(K - len(p), p[-1])] for p in paths])


def _band(ax, paths, colour, label):
    """The median over starts and the 10–90 % band, per iteration (stopped starts held at their last value)."""
    P = _held(paths)
    it = np.arange(1, P.shape[1] + 1)
    lo, med, hi = np.quantile(P, [0.1, 0.5, 0.9], axis=0)
    ax.fill_between(it, lo, hi, color=colour, alpha=0.25, lw=0)
    ax.plot(it, med, color=colour, lw=2, label=label)


def plot_joint_paths(st: Study, H: int | None = None):
    """The joint minimisations with H heads (None: the largest H searched), grouped: ± starts that end
    on S(ω̂) (within `on_manifold`), ± starts that stall off it, and the other kinds of sign pattern.
    Left: L̃ − floor against ω along every path, with the closed forms on S(ω) and in the
    one-sign-plus-dummy component as references above them; middle and right: ω and the relative
    distance to S(ω) against the L-BFGS-B iteration (median and 10–90 % band of the ± starts on S,
    the others one line each), with the optimiser's lower bound on ω and the 1 % "on S" tolerance.
    Returns the figure."""
    import inspect

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    o, H = st.optimality, max(st.ch.budget.theta_heads) if H is None else H
    d, L, s2 = st.ch.d, st.ch.L, st.ch.sigma2
    lo = inspect.signature(minimise_theta).parameters["omega_bounds"].default[0]  # the box the Study used
    fits = o.fits[H]
    on = [f for f in fits if f.kind == "±" and f.path_distance[-1] <= o.on_manifold]
    off = [f for f in fits if f.kind == "±" and f.path_distance[-1] > o.on_manifold]
    rest = [f for f in fits if f.kind != "±"]
    fig = plt.figure(figsize=style.figsize(2, 2, width=style.FULL_WIDTH, aspect=0.72))
    ax_l, ax_w, ax_d, ax_leg = fig.subplots(2, 2).flat
    c_pm = _KIND_COLOUR["±"]
    for group, ls, alpha in ((on, "-", 0.35), (off, "--", 0.9), (rest, "-", 0.9)):
        for f in group:
            c = _KIND_COLOUR[f.kind]
            ax_l.plot(f.path_omega, np.maximum(f.path_loss - o.floor, 1e-16), color=c, ls=ls, lw=0.9, alpha=alpha)
            ax_l.plot(f.path_omega[-1], max(f.loss - o.floor, 1e-16), "o", color=c, ms=4, zorder=7)
            if group is not on:
                it = np.arange(1, len(f.path_loss) + 1)
                ax_w.plot(it, f.path_omega, color=c, ls=ls, lw=1.2)
                ax_d.plot(it, f.path_distance, color=c, ls=ls, lw=1.2)
    if on:
        _band(ax_w, [f.path_omega for f in on], c_pm, None)
        _band(ax_d, [f.path_distance for f in on], c_pm, None)
    ww = np.geomspace(lo, 1.0, 200)
    style.reference(ax_l, ww, theory.manifold_loss(ww, d, L, s2) - o.floor, "theory", label="")
    osd = _KIND_COLOUR["one sign + dummy"]
    style.reference(ax_l, ww, one_sign_dummy_loss(ww, d, L, s2) - o.floor, "theory", label="", color=osd)
    for ax in (ax_l, ax_w):
        style.reference(ax, lo, kind="floor", label="") if ax is ax_w else ax.axvline(lo, **_floor_kw())
    style.reference(ax_d, o.on_manifold, kind="floor", label="", color="k", ls=":")
    ax_l.set(
        xscale="log",
        yscale="log",
        ylim=(1e-13, None),
        xlabel=r"scale $\omega$",
        ylabel=r"$\tilde{\mathcal{L}} - (1 + \sigma^2 - \frac{1}{1 + cd})$",
        title=f"loss along the paths, $H = {H}$",
    )
    ax_w.set(xscale="log", yscale="log", xlabel="L-BFGS-B iteration", ylabel=r"scale $\omega$", title="the scale falls")
    ax_d.set(
        xscale="log",
        yscale="log",
        xlabel="L-BFGS-B iteration",
        ylabel=r"relative distance to $S(\omega)$",
        title=r"distance to $S(\omega)$",
    )
    n = {"one sign + dummy": sum(f.kind == "one sign + dummy" for f in rest)}
    n["one sign" if all(f.kind != "all dummy" for f in rest) else "one sign or all dummy"] = len(rest) - sum(n.values())
    handles = [
        Patch(color=c_pm, alpha=0.5, label=f"± on $S$ ({len(on)}): median, 10–90 %"),
        Line2D([], [], color=c_pm, ls="--", label=f"± stalled off $S$ ({len(off)})"),
    ][: 2 if off else 1]
    handles += [Line2D([], [], color=_KIND_COLOUR[k.split(" or")[0]], label=f"{k} ({m})") for k, m in n.items() if m]
    handles += [
        style.reference_handle("theory", r"closed form on $S(\omega)$ (4.6)"),
        style.reference_handle("theory", "closed form, one sign + dummy", color=osd),
        style.reference_handle("floor", f"lower bound $\\omega = 10^{{{int(np.log10(lo))}}}$"),
        style.reference_handle("floor", f"on $S$: within {o.on_manifold:.0%}", color="k", ls=":"),
    ]
    ax_leg.axis("off")
    ax_leg.legend(handles=handles, loc="center", frameon=False)
    return fig


def _floor_kw() -> dict:
    return {k: v for k, v in style.REFERENCE["floor"].items() if k != "label"} | {"zorder": 6}


def plot_components(st: Study):
    """Left: min_μ L̃ − floor against ω in each component of Θ(ω) (closed forms, one colour per kind
    of sign pattern) with the numerical best over Θ(ω) at the fixed scales (dots); right: the
    numerical best's relative distance to S(ω) per H, against the tolerance. Returns the figure."""
    import matplotlib.pyplot as plt

    o, d, L, sigma2 = st.optimality, st.ch.d, st.ch.L, st.ch.sigma2
    ww = np.geomspace(1e-3, 1, 100)
    fig, axes = plt.subplots(
        1, 2, figsize=style.figsize(2, width=style.FULL_WIDTH, aspect=0.8), gridspec_kw={"width_ratios": [3, 2]}
    )
    ax = axes[0]
    for kind, f, lab in (
        ("±", theory.manifold_loss, r"± heads on $S(\omega)$ (4.6)"),
        ("one sign + dummy", one_sign_dummy_loss, "one sign + dummy"),
        ("one sign", theory.single_head_loss, "one sign, no dummy"),
    ):
        ax.plot(ww, f(ww, d, L, sigma2) - o.floor, color=_KIND_COLOUR[kind], label=lab)
    ax.plot(o.fixed.omega, o.fixed.best_loss - o.floor, "o", color="k", ms=5, zorder=7, label="numerical best")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"scale $\omega$",
        ylabel=r"$\min_\mu \tilde{\mathcal{L}} - $ floor",
        title=r"best loss per component of $\Theta(\omega)$",
    )
    hs = sorted(o.fixed.H.unique())
    for H, m in zip(hs, "osD^v<>p"):
        g = o.fixed[o.fixed.H == H]
        axes[1].plot(g.omega, np.maximum(g.rel_distance, 1e-17), m, color="k", mfc="none", ms=6, label=f"$H = {H}$")
    style.reference(axes[1], st.ch.tol.on_manifold_fixed, kind="floor", label="tolerance")
    omegas = sorted(o.fixed.omega.unique())
    axes[1].set(xscale="log", yscale="log", xlabel=r"scale $\omega$", ylabel=r"relative distance to $S(\omega)$")
    axes[1].set_xticks(omegas, [f"{w:g}" for w in omegas], minor=False)
    axes[1].set_xticks([], minor=True)
    axes[1].set_title("numerical best vs $S(\\omega)$")
    fig.legend(handles=ax.get_legend_handles_labels()[0], loc="outside lower left", ncol=2)
    style.legend_outside(axes[1])
    return fig
