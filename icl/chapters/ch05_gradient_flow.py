"""Chapter 05 (App. B): the symmetric two-head gradient flow and its phases, the Adam run from the
opposite small identity read against it, the chapter's numbers, claims and figures.

- `flow_study`, `phase_table`: the flow (B.4) for several (d, L) and from several starts, and the
  phases read off it (`Flows`);
- `symmetric_reading`: a trained two-head run read on the symmetric family of Definition B.1;
- `Study(ch)`: both with the chapter's task and budget, each computed on first use;
  `numbers(st)`, `claims(ch, st)`, `plot_flow_phases(st)`, `plot_adam_vs_flow(st)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..book.format import count, power_of_ten, words
from ..book.style import FULL_WIDTH, MIN_FONT_PT, config_colours, figsize, legend_outside, reference
from ..core import theory
from ..core.dynamics import flow_phases, two_head_flow

__all__ = [
    "Study",
    "numbers",
    "claims",
    "plot_flow_phases",
    "plot_adam_vs_flow",
    "configs",
    "SymmetricReading",
    "symmetric_reading",
    "Flows",
    "flow_study",
    "phase_table",
]


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
        return int(np.sum(np.diff(self.omega[self.i_peak :]) > 0))

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
        dw = np.diff(self.omega[self.i_peak :]) / self.omega[self.i_peak : -1]
        dm = np.diff(self.mu) / np.abs(self.mu[:-1])
        at = [*self.steps[self.i_peak + 1 :][dw > 0], *self.steps[1:][dm < 0]]
        return (float(max(dw.max(initial=0.0), 0.0)), float(max(-dm.min(initial=0.0), 0.0)), int(min(at)) if at else -1)

    def spread_after(self, step: int) -> float:
        """max over snapshots at or after `step` of |ω/ω_final − 1| and |μ/μ_final − 1|."""
        at = self.steps >= step
        return float(
            max(np.abs(self.omega[at] / self.omega[-1] - 1).max(), np.abs(self.mu[at] / self.mu[-1] - 1).max())
        )


def symmetric_reading(history, steps, final=None) -> SymmetricReading:
    """Read a two-head run's snapshots (`history`: a `circuits.HeadPattern` with leading axis S,
    e.g. `TrainedRun.history()`) on the symmetric family; `final`: its last pattern for the
    off-pattern weights (default: the last snapshot)."""
    w, m = np.asarray(history.omega, float), np.asarray(history.mu, float)
    if w.ndim != 2 or w.shape[1] != 2:
        raise ValueError(f"symmetric_reading needs a two-head history of shape (S, 2), got {w.shape}")
    dw, dm = w[:, 0] - w[:, 1], m[:, 0] - m[:, 1]
    last = final if final is not None else history
    off = max(
        float(np.max(np.asarray(x).reshape(-1, 2)[-1])) for x in (last.offdiag_max, last.key_y_row, last.ov_x_part)
    )
    return SymmetricReading(
        np.asarray(steps), dw / 2, dm / 2, np.abs(w.sum(1)) / np.abs(dw), np.abs(m.sum(1)) / np.abs(dm), off
    )


# --- Chapter 05: the flows, the Adam run, their claims and figures -------------------------------


@dataclass
class Flows:
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


def flow_study(
    cases,
    sigma2: float,
    *,
    omega0: float,
    mu0: float,
    unequal_ratios=(),
    t_max: float = 1e6,
    n_eval: int = 2000,
    rate_drop: float = 0.5,
) -> Flows:
    """Solve (B.4) for every (d, L) in `cases` from (ω₀, μ₀) and from (ω₀, r·ω₀) for r in `unequal_ratios`."""
    cases = tuple(dict.fromkeys((int(d), int(L)) for d, L in cases))  # unique, in order
    flows = {dl: two_head_flow(omega0, mu0, *dl, sigma2, t_max=t_max, n_eval=n_eval) for dl in cases}
    unequal = {
        (dl, r): two_head_flow(omega0, r * omega0, *dl, sigma2, t_max=t_max, n_eval=n_eval)
        for dl in cases
        for r in unequal_ratios
    }
    ph = {k: flow_phases(s, rate_drop=rate_drop) for k, s in flows.items()}
    uph = {k: flow_phases(s, rate_drop=rate_drop) for k, s in unequal.items()}
    return Flows(sigma2, omega0, t_max, cases, flows, ph, unequal, uph)


def phase_table(study: Flows):
    """One column per (d, L): the phase boundaries and what App. B says about each phase."""
    import pandas as pd

    rows = {}
    for dl in study.cases:
        sol, p = study.flows[dl], study.phases[dl]
        w_end = sol.omega[-1]
        rows[f"(d, L) = ({dl[0]}, {dl[1]})"] = {
            "end of Phase I, t₁": p.t1,
            "peak of ω, t_peak": p.t_peak,
            "peak ω": sol.omega.max(),
            "μ/ω at t₁": p.ratio_at_t1,
            "peaks of ω": p.n_peaks,
            "ω decreasing after the peak": p.decreasing_after_peak,
            "μ increasing throughout": p.mu_increasing,
            "ω at t_max": w_end,
            "ωμ at t_max": p.product_final,
            "η_eff/2 = 1/(2(1+cd))": p.product_limit,
            "|μ/μ*(ω) − 1| at t_max": abs(sol.mu[-1] / theory.manifold_mu(w_end, *dl, study.sigma2) - 1),
            **{
                f"μ/ω at t₁ from μ₀ = {r:g}ω₀": study.unequal_phases[(dl, r)].ratio_at_t1
                for (dl2, r) in study.unequal_phases
                if dl2 == dl
            },
        }
    show = lambda v: ("yes" if v else "no") if isinstance(v, (bool, np.bool_)) else f"{v:.4g}"  # noqa: E731
    return pd.DataFrame(rows).map(show)


def configs(ch) -> list:
    """The one model chapter 05 trains: two heads from the opposite small identity (ω₀, μ₀)."""
    from ..runs.config import run_config

    b = ch.budget
    return [
        run_config(ch.prof, heads=2, seed=b.seed, task=ch.task, init="opposite_identity", omega0=b.omega0, mu0=b.mu0)
    ]


class Study:
    """Chapter 05's evidence, each part computed on first use from `ch` (the chapter's task and budget)."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def flows(self) -> Flows:
        """The flows (B.4) for the task's (d, L) and the budget's `extra_cases`, σ² of the task."""
        ch, b = self.ch, self.ch.budget
        cases = ((ch.d, ch.L),) + tuple(tuple(dl) for dl in b.extra_cases)
        return flow_study(
            cases,
            ch.sigma2,
            omega0=b.omega0,
            mu0=b.mu0,
            unequal_ratios=b.unequal_ratios,
            t_max=b.t_max,
            n_eval=b.n_eval,
            rate_drop=ch.tol.rate_drop,
        )

    @cached_property
    def adam(self) -> SymmetricReading:
        """Adam on the full two-head model (the chapter's task and profile) from the opposite small
        identity with the budget's (ω₀, μ₀), read on the symmetric family."""
        from ..runs.load import load_or_train

        run = load_or_train(configs(self.ch)[0], device=self.ch.device)
        return symmetric_reading(run.history(), run.snapshot_steps, run.pattern())


def numbers(st: Study) -> dict:
    """Every number chapter 05's prose quotes (keys flow-*): key → (value, format) or key → text."""
    ch, study, adam = st.ch, st.flows, st.adam
    main = study.cases[0]
    sol, p = study.flows[main], study.phases[main]
    i = adam.i_peak
    return {
        "flow-omega0": (study.omega0, "{:g}"),
        "flow-mu0": (ch.budget.mu0, "{:g}"),
        "flow-ratios": words(f"{r:g}" for r in ch.budget.unequal_ratios),
        "flow-tmax": power_of_ten(study.t_max),
        "flow-cases": words(f"({d}, {L})" for d, L in study.cases),
        "flow-t1": (p.t1, "{:.2f}"),
        "flow-tpeak": (p.t_peak, "{:.2f}"),
        "flow-peak": (sol.omega.max(), "{:.3f}"),
        "flow-ratio-t1": (p.ratio_at_t1, "{:.3f}"),
        "flow-ratio-peak": (float(np.interp(p.t_peak, sol.t, sol.ratio)), "{:.2f}"),
        "flow-ratio-dev-unequal": (study.ratio_at_t1_unequal, "{:.3f}"),
        "flow-ratio-end": (sol.ratio[-1], "{:.0f}"),
        "flow-product-end": (p.product_final, "{:.4f}"),
        "flow-product-limit": (p.product_limit, "{:.4f}"),
        "flow-omega-end": (sol.omega[-1], "{:.4f}"),
        "flow-peaks": words(f"{study.flows[dl].omega.max():.3f}" for dl in study.cases),
        "flow-adam-peak": (adam.omega[i], "{:.3f}"),
        "flow-adam-peak-step": count(adam.steps[i]),
        "flow-adam-omega-end": (adam.omega[-1], "{:.3f}"),
        "flow-adam-mu-end": (adam.mu[-1], "{:.3f}"),
        "flow-adam-product-end": (adam.product[-1], "{:.4f}"),
        "flow-adam-product-max": (adam.product.max(), "{:.4f}"),
        "flow-flow-product-max": (sol.product.max(), "{:.4f}"),
        "flow-adam-asym": (adam.max_asymmetry, "{:.4f}"),
        "flow-adam-off": (adam.off_pattern, "{:.4f}"),
        "flow-adam-valley": (
            float(adam.omega[-1] * theory.manifold_mu(adam.omega[-1], ch.d, ch.L, ch.sigma2)),
            "{:.4f}",
        ),
    }


def claims(ch, st: Study):
    """App. B's statements about the flow (B.4) and about the full model from the matching start. The
    flow's claims need no trained model and have no Monte Carlo error: evaluated under every profile."""
    from ..book.budgets.ch01_setup import TOLERANCES as ch01

    t, cl = ch.tol, ch.claims
    study, adam = st.flows, st.adam
    both = f"every (d, L) of {', '.join(map(str, study.cases))}"
    ph = study.phases.values()
    cl.add(
        "phase1_synchronises",
        f"Phase I: μ/ω ≈ 1 at its end, also from unequal starts μ₀/ω₀ = "
        f"{', '.join(f'{r:g}' for r in ch.budget.unequal_ratios)} (max |μ/ω − 1| at t₁ over {both})",
        "App. B Phase I, (B.5)–(B.6), Fig. 22(c)",
        study.ratio_at_t1_unequal,
        t.ratio_rel,
        kind="max",
        target_origin="the paper (ratio close to one); the unequal starts are ours (Def. B.1 has ω₀ = μ₀)",
        tol_origin=f"'close to one' read as within {t.ratio_rel:.0%}: μ/ω sets ω's growth rate 2μ/ω, and we ask it to "
        f"move that rate by at most a tenth of the {1 - t.rate_drop:.0%} drop that ends Phase I",
        note_if_fail="the ratio is still off one when the exponential growth stops",
        always=True,
        finding="reading",
    )
    cl.add(
        "flow_single_peak",
        f"ω has a single peak ({both})",
        "App. B Phase II, Fig. 22(b)",
        all(p.n_peaks == 1 for p in ph),
        kind="true",
        target_origin="the paper",
        always=True,
        finding="paper",
    )
    cl.add(
        "flow_omega_decreases",
        f"after its peak ω decreases ({both})",
        "App. B Phase III",
        all(p.decreasing_after_peak for p in ph),
        kind="true",
        target_origin="the paper",
        always=True,
        finding="paper",
    )
    cl.add(
        "flow_mu_increases",
        f"μ increases throughout ({both})",
        "App. B, Obs. 4",
        all(p.mu_increasing for p in ph),
        kind="true",
        target_origin="the paper",
        always=True,
        finding="paper",
    )
    cl.add(
        "flow_product_limit",
        f"ωμ → η_eff/2 = 1/(2(1+cd)): max |ωμ(t_max)/(η_eff/2) − 1| over {both}",
        "App. B Phase III, Fig. 22(d)",
        study.product_gap,
        t.product_flow_rel,
        kind="max",
        target_origin="the paper's limit 1/(2(1+cd)), computed by theory.eta_eff",
        tol_origin=f"'converges' read as within {t.product_flow_rel:.1%} at t_max = {study.t_max:.0e} (ours)",
        always=True,
        finding="budget",
    )
    cl.add(
        "adam_symmetric",
        "Adam from the opposite small identity stays symmetric: max |ω₁+ω₂|/|ω₁−ω₂|, |μ₁+μ₂|/|μ₁−μ₂| over snapshots",
        "App. B, Def. B.1",
        adam.max_asymmetry,
        t.symmetry,
        kind="max",
        target_origin="the paper (symmetry is preserved under the flow)",
        tol_origin=f"for two heads of opposite signs |μ₁+μ₂|/|μ₁−μ₂| is the zero-sum measure of Obs. 2, so 'preserved' "
        f"gets chapter 01's reading of '≈ 0': at most {t.symmetry:.0%}",
        finding="reading",
    )
    rise, fall, first = adam.reversals()
    spread = adam.spread_after(first) if first >= 0 else float("nan")
    late = (
        (
            f"every counted snapshot comes at step {first:,} or later, when ω and μ are within {spread:.1%} of their "
            f"final values: fluctuations of Adam's stochastic steps as the run comes to rest (largest rise of ω after "
            f"its peak {rise:.1%}, largest fall of μ {fall:.1%}), not a second peak. The paper's words: 'the "
            "magnitude of [ω_h] first increases and then decreases to converge, while the [μ_h] monotonically "
            "increase until convergence' (Obs. 4): counting every snapshot, also after convergence, is stricter"
        )
        if spread <= 0.05
        else ""
    )
    cl.add(
        "adam_single_peak",
        "Adam: ω has a single peak (snapshots after the peak where ω rises)",
        "Obs. 4, App. B",
        adam.rises_after_peak,
        0,
        kind="max",
        target_origin="the paper (ω first rises, then falls)",
        note_if_fail=late,
        finding="reading",
    )
    cl.add(
        "adam_mu_monotone",
        "Adam: |μ| rises monotonically (snapshots where μ falls)",
        "Obs. 4",
        adam.mu_falls,
        0,
        kind="max",
        target_origin="the paper",
        note_if_fail=late,
        finding="reading",
    )
    limit = study.phases[study.cases[0]].product_limit
    cl.add(
        "adam_product_limit",
        "Adam: ωμ at the end ≈ η_eff/2 = 1/(2(1+cd))",
        "App. B Phase III",
        adam.product[-1],
        limit,
        tol=t.product_adam_rel,
        kind="rel",
        target_origin="the paper's limit, computed by theory.eta_eff",
        tol_origin=f"'≈' read as {t.product_adam_rel:.0%} (ours), tighter than the {ch01.eta_rel:.0%} chapter 01 "
        "allows Σ_h ω_h μ_h ≈ η_eff from a random start",
        finding="reading",
    )


def _phases(ax, p, t, *, label: bool):
    """Shade the three phases (I blue, II orange, III green), with neutral lines at their borders;
    label = True names them above the axes, each at its span's centre on the log axis."""
    spans = (
        (t[0], p.t1, "tab:blue", 0.08, "I"),
        (p.t1, p.t_peak, "tab:orange", 0.25, "II"),
        (p.t_peak, t[-1], "tab:green", 0.06, "III"),
    )
    for lo, hi, col, al, name in spans:
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            continue
        ax.axvspan(lo, hi, color=col, alpha=al, lw=0)
        if label:
            ax.annotate(
                name,
                (np.sqrt(lo * hi), 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                color="0.25",
                fontsize=MIN_FONT_PT,
                fontweight="bold",
                annotation_clip=False,
            )
    for x in (p.t1, p.t_peak):
        if np.isfinite(x):
            ax.axvline(x, color="0.35", ls=":", lw=1.0, zorder=4)


def plot_flow_phases(st: Study):
    """Fig. 22 for every (d, L), one column each: ω and μ with the Phase-I solution ω₀e^{2t} (B.6);
    μ/ω (also from the unequal starts); the loss with its floor; ωμ with η_eff/2 and ωμ*(ω) (B.17).
    Phases shaded and named above the top row; references drawn above the data, legends beside
    each row."""
    import matplotlib.pyplot as plt

    study = st.flows
    n = len(study.cases)
    w_col, m_col = config_colours(2)
    fig, axes = plt.subplots(4, n, figsize=figsize(n + 1, 4, aspect=0.78, width=FULL_WIDTH), sharex=True, squeeze=False)
    unequal_colours = dict(zip(sorted({r for (_, r) in study.unequal}), config_colours(8)[3:]))
    for col, dl in enumerate(study.cases):
        sol, p = study.flows[dl], study.phases[dl]
        t, sl, ax = sol.t[1:], slice(1, None), axes[:, col]
        for r, a in enumerate(ax):
            _phases(a, p, t, label=r == 0)
            a.set(xscale="log")
        early = t < p.t_peak
        ax[0].plot(t, sol.omega[sl], color=w_col, lw=2, label=r"$\omega$")
        ax[0].plot(t, sol.mu[sl], color=m_col, lw=2, label=r"$\mu$")
        reference(ax[0], t[early], study.omega0 * np.exp(2 * t[early]), "theory", label=r"$\omega_0 e^{2t}$ (B.6)")
        peak = sol.omega.max()
        ax[0].plot(p.t_peak, peak, "v", color="k", ms=7, zorder=7, label=r"peak of $\omega$")
        ax[0].annotate(
            f"{peak:.3f}", (p.t_peak, peak), xytext=(6, -12), textcoords="offset points", fontsize=MIN_FONT_PT
        )
        ax[0].set(yscale="log", ylim=(study.omega0 / 2, sol.mu.max() * 2))
        ax[0].set_title(rf"$d = {dl[0]}$, $L = {dl[1]}$", pad=15)
        ax[1].plot(t, sol.ratio[sl], color="k", lw=2, label=r"$\mu_0 = \omega_0$ (Def. B.1)")
        for (dl2, r), s in study.unequal.items():
            if dl2 == dl:
                ax[1].plot(
                    s.t[1:],
                    s.ratio[1:],
                    color=unequal_colours[r],
                    lw=1.4,
                    ls="--",
                    label=rf"$\mu_0 = {r:g}\,\omega_0$ (ours)",
                )
        ax[1].axhline(1, color="0.4", lw=0.8, ls="-", zorder=1)
        ax[1].set(yscale="log")
        ax[2].plot(t, sol.loss[sl], color=w_col, lw=2, label=r"$\tilde{\mathcal{L}}(t)$")
        reference(
            ax[2], theory.approx_floor(*dl, study.sigma2), kind="floor", label=r"$1+\sigma^2-\eta_{\mathrm{eff}}$"
        )
        ax[3].plot(t, sol.product[sl], color=config_colours(3)[2], lw=2, label=r"$\omega\mu$")
        reference(
            ax[3],
            t,
            sol.omega[sl] * theory.manifold_mu(sol.omega[sl], *dl, study.sigma2),
            "theory",
            label=r"$\omega\mu^*(\omega)$ (B.17)",
        )
        reference(ax[3], p.product_limit, kind="floor", label=r"$\eta_{\mathrm{eff}}/2$")
        ax[3].set(ylim=(0, 0.5), xlabel="flow time $t$")
    for a, name in zip(axes[:, 0], ("parameter", r"ratio $\mu/\omega$", "approximate loss", r"$\omega\mu$")):
        a.set_ylabel(name)
    for a in axes[:, -1]:
        legend_outside(a)
    return fig


def plot_adam_vs_flow(st: Study):
    """The full model under Adam from the opposite small identity beside the flow (B.4) of the same
    (d, L): ω and μ of each; the Adam run's ωμ against η_eff/2; and, on their own log axis, the
    symmetry measures (how far the run leaves the symmetric family)."""
    import matplotlib.pyplot as plt

    main = st.flows.cases[0]
    adam, sol, limit = st.adam, st.flows.flows[main], st.flows.phases[main].product_limit
    x = np.maximum(adam.steps, 1)
    i = adam.i_peak
    w_col, m_col = config_colours(2)
    fig, ax = plt.subplots(2, 2, figsize=figsize(2, 2, aspect=0.72, width=FULL_WIDTH))
    ax = ax.ravel()
    ax[0].plot(x, adam.omega, color=w_col, lw=2, label=r"$\omega = (\omega_1-\omega_2)/2$")
    ax[0].plot(x, adam.mu, color=m_col, lw=2, label=r"$\mu = (\mu_1-\mu_2)/2$")
    ax[0].plot(x[i], adam.omega[i], "v", color="k", ms=7, zorder=7, label=r"peak of $\omega$")
    ax[0].annotate(
        f"{adam.omega[i]:.3f}", (x[i], adam.omega[i]), xytext=(6, -12), textcoords="offset points", fontsize=MIN_FONT_PT
    )
    ax[0].set(xscale="log", yscale="log", xlabel="Adam step", ylabel="parameter", title="full model, Adam (true loss)")
    ax[1].plot(sol.t[1:], sol.omega[1:], color=w_col, lw=2)
    ax[1].plot(sol.t[1:], sol.mu[1:], color=m_col, lw=2)
    ax[1].set(
        xscale="log",
        yscale="log",
        xlabel="flow time $t$",
        ylabel="parameter",
        xlim=(1e-2, sol.t[-1]),
        title=r"gradient flow on $\tilde{\mathcal{L}}$ (B.4)",
    )
    ax[2].plot(x, adam.product, color=config_colours(3)[2], lw=2, label=r"$\omega\mu$, Adam")
    reference(ax[2], limit, kind="floor", label=r"$\eta_{\mathrm{eff}}/2$")
    ax[2].set(xscale="log", xlabel="Adam step", ylabel=r"$\omega\mu$", ylim=(0, 0.5), title="product, Adam")
    ax[3].plot(x, _positive(adam.asym_omega), color="0.3", lw=1.4, label=r"$|\omega_1+\omega_2|/|\omega_1-\omega_2|$")
    ax[3].plot(x, _positive(adam.asym_mu), color="#8c510a", lw=1.4, ls="--", label=r"$|\mu_1+\mu_2|/|\mu_1-\mu_2|$")
    ax[3].set(
        xscale="log", yscale="log", xlabel="Adam step", ylabel="ratio", title="departure from the symmetric family"
    )
    fig.legend(*_handles(ax[0], ax[2], ax[3]), loc="outside lower center", ncol=3)
    return fig


def _handles(*axes):
    hs, ls = [], []
    for a in axes:
        h, lab = a.get_legend_handles_labels()
        hs += h
        ls += lab
    return hs, ls


def _positive(v):
    """v with its zeros (which a log axis cannot show) left out."""
    v = np.asarray(v, float)
    return np.where(v > 0, v, np.nan)
