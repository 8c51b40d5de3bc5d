"""Chapter 02's claims about risk (Obs. 3, Fig. 4): at the training length against debiased GD, the
single-head optimum and each other; along the test lengths against debiased and vanilla GD, the
Bayes factor, and the fall of the risk with L' (tolerances from `icl.book.budgets.ch02_observations`)."""

from __future__ import annotations

import numpy as np

from ...core import theory
from .analysis import Study, label
from .common import by_H
from .heads import length_steps

__all__ = ["claims_risk_at_L", "claims_risk_curves", "FIG4_SHORTEST"]

FIG4_SHORTEST = 10  # the shortest test length L' of the paper's Fig. 4 (authors' plots.ipynb: 10, 15, …, 100)


def _worst_by_margin(items):
    """items: key → (measured, expected, tol) of |m − e| ≤ tol claims → the key with the smallest margin."""
    return min(items, key=lambda k: items[k][2] - abs(items[k][0] - items[k][1]))


def claims_risk_at_L(ch, st: Study):
    t, a, multi = ch.tol, st.at_L, st.models.multi
    risk_tol = f"'≈' read as {t.risk_rel:.0%} of the target plus {t.risk_se:g} Monte Carlo s.e."
    if multi:
        items = {k: (a.risk[k].mean, a.dgd_exact, t.risk_rel * a.dgd_exact + t.risk_se * a.risk[k].se) for k in multi}
        k = _worst_by_margin(items)
        ch.claims.add(
            "risk_matches_dgd_all_heads",
            "risk at L' = L ≈ debiased GD's at η_eff for every H ≥ 2 model, all "
            "head counts and seeds (the model with the smallest margin; chapter 01 checks its one two-head "
            "model)",
            "Obs. 3, Fig. 4",
            *items[k],
            target_origin="ours: exact risk of debiased GD at η_eff, theory.dgd_risk",
            tol_origin=f"{risk_tol} ({a.risk[k].se:.4f}) of that model's risk (chapter 01's reading)",
            note=f"smallest margin: {label(k)}.",
            finding=ch.claims.at_paper("paper"),
        )
        r = np.array([a.risk[k].mean for k in multi])
        ch.claims.add(
            "multi_head_same_risk",
            "H ≥ 2 models have nearly the same risk at L' = L: (max − min) / min",
            "Obs. 3, Fig. 4a",
            (r.max() - r.min()) / r.min(),
            t.risk_spread,
            kind="max",
            tol_origin=f"'similar performance' read as within {t.risk_spread:.0%} (ours; common prompts)",
            finding=ch.claims.at_paper("paper"),
        )
    if 1 not in st.models.heads:
        return
    singles = [(1, s) for s in st.models.seeds]
    ref = a.risk["single_opt"].mean
    items = {}
    for k in singles:
        se = float((a.errors[k] - a.errors["single_opt"]).std() / np.sqrt(len(a.errors[k])))
        items[k] = (a.risk[k].mean, ref, t.risk_rel * ref + t.risk_se * se)
    k = _worst_by_margin(items)
    ch.claims.add(
        "single_head_matches_optimum",
        "H = 1 risk at L' = L ≈ that of the single-head optimum ω = 1/√d of (4.12) (the seed with the smallest margin)",
        "Obs. 3, (4.12)",
        *items[k],
        target_origin="ours: Monte Carlo risk of the kernel regressor (4.12) on the same prompts",
        tol_origin=f"{risk_tol} of the paired difference (chapter 01's reading)",
        note=f"smallest margin: {label(k)}.",
        finding=ch.claims.at_paper("paper"),
    )
    if multi:
        worst_multi = max(a.risk[k].mean for k in multi)
        ch.claims.add(
            "multi_head_beats_single",
            "H = 1 clearly worse than every H ≥ 2: min H=1 risk / max H≥2 risk",
            "Obs. 3, Fig. 4a",
            min(a.risk[k].mean for k in singles) / worst_multi,
            t.single_gap,
            kind="min",
            tol_origin=f"'outperforms' read as a risk at least {t.single_gap:g} × higher (ours); theory's "
            f"predictors give {ref / a.dgd_exact:.2f} ((4.12) over debiased GD)",
            finding=ch.claims.at_paper("paper"),
        )


def claims_risk_curves(ch, st: Study):
    t, cv, multi = ch.tol, st.curves, st.models.multi
    import pandas as pd

    keys = st.models.keys()
    not_decreasing = [label(k) for k in keys if not np.all(np.diff(cv.mean[k]) < 0)]
    z = length_steps(cv, keys)
    kz = min(z, key=z.get)
    grid = f"{int(cv.lengths[0])} … {int(cv.lengths[-1])}"
    ch.claims.add(
        "risk_falls_with_length_all_heads",
        f"every softmax model, of every head count ({', '.join(map(str, st.models.heads))}) and seed, has a lower "
        f"risk at each test length L' of the grid {grid} than at the one before (fraction of models)",
        "Obs. 3 (b), Fig. 4b",
        1 - len(not_decreasing) / len(keys),
        1.0,
        kind="min",
        target_origin="the paper: 'all softmax attention models can generalize in length and the ICL loss "
        "decreases as L' increases'",
        tol_origin="none: a strict fall at every step of the grid, on separate prompts per length",
        note=f"The smallest fall from one L' to the next is {z[kz]:.1f} standard errors of the difference "
        f"({label(kz)})"
        + (
            ", so the verdict is not a matter of Monte Carlo luck. "
            if z[kz] >= 3
            else ": within the Monte Carlo error, so at this budget that step could go either way. "
        )
        + "Chapter 08's softmax_risk_nonincreasing tests the same statement for the head counts of its Fig. 8, "
        "on a finer and longer grid with paired prompts; this claim covers every head count trained here.",
        note_if_fail=f"not decreasing: {not_decreasing}.",
        finding=ch.claims.at_paper("paper"),
    )
    if not multi:
        return
    track = pd.Series({k: np.max(np.abs(cv.ratio[k] - 1)) for k in multi})
    track.index = pd.MultiIndex.from_tuples(track.index, names=["H", "seed"])
    ch.claims.add(
        "track_dgd",
        "H ≥ 2 track debiased GD at every L': max |risk / risk of dGD − 1| (worst model, same prompts)",
        "Obs. 3, Fig. 4",
        track.max(),
        t.track_dgd,
        kind="max",
        tol_origin=f"'closely track' read as within {t.track_dgd:.0%} (ours)",
        note_if_fail=f"worst per H: {by_H(track)}.",
        finding=ch.claims.at_paper("paper"),
    )
    vs_gd = pd.Series({k: np.max(np.abs(cv.mean[k] / cv.mean["gd"] - 1)) for k in multi})
    vs_gd.index = pd.MultiIndex.from_tuples(vs_gd.index, names=["H", "seed"])
    plotted = cv.lengths >= FIG4_SHORTEST
    in_fig4 = max(float(np.max(np.abs(cv.mean[k] / cv.mean["gd"] - 1)[plotted])) for k in multi)
    ch.claims.add(
        "track_vanilla_gd",
        "every H ≥ 2 model closely approximates vanilla GD (at its optimal training-length rate η*) at every "
        "test length L': max |risk / risk of vanilla GD − 1| (worst model, same prompts)",
        "Obs. 3, Fig. 4",
        vs_gd.max(),
        t.track_dgd,
        kind="max",
        target_origin="the paper: 'multi-head models with H ≥ 2 exhibit similar performance, closely "
        "approximating that of the vanilla gradient descent (GD) predictor'",
        tol_origin=f"'closely' read as within {t.track_dgd:.0%}, the reading of the debiased-GD claim above (ours)",
        note=f"worst per H: {by_H(vs_gd)}; worst L' per model at "
        + ", ".join(
            f"{label(k)}: {int(cv.lengths[np.argmax(np.abs(cv.mean[k] / cv.mean['gd'] - 1))])}"
            for k in vs_gd.nlargest(2).index
        )
        + f". At every L' ≥ {FIG4_SHORTEST} (the paper's Fig. 4 starts there: L' = {FIG4_SHORTEST}, 15, …, 100 in the "
        f"authors' plotting code) the largest deviation is {in_fig4:.3f}. The models track debiased GD (claim "
        f"track_dgd), and vanilla GD at η* is {cv.mean['gd'][0] / cv.mean['dgd'][0]:.3f} × debiased GD's risk at "
        f"L' = {int(cv.lengths[0])}.",
        note_if_fail="It fails only at test lengths shorter than any the paper shows, so it fails only under our "
        "reading of 'closely approximating' over a longer grid than the paper's."
        if in_fig4 <= t.track_dgd
        else "",
        finding=ch.claims.at_paper("reading" if in_fig4 <= t.track_dgd else "paper"),
    )
    excess = {
        (k, i): cv.ratio[k][i] - 1 - t.bayes_se * cv.ratio_se[k][i] for k in multi for i in range(len(cv.lengths))
    }
    k, i = max(excess, key=excess.get)
    Lp = int(cv.lengths[i])
    dgd_factor = cv.mean["dgd"] / cv.mean["bayes"]
    xi = ch.d / cv.lengths
    asym = theory.gd_risk_asymptotic(xi, ch.sigma2) / theory.bayes_risk_asymptotic(xi, ch.sigma2)
    over = sorted({int(cv.lengths[j]) for (_, j), v in excess.items() if v > 0})
    n_over = sum(v > 0 for v in excess.values())
    eta_k = float(st.table.loc[k, "eta"])

    max_factor = max(float(np.max(cv.mean[k] / cv.mean["bayes"])) for k in multi)

    def limit(eta):
        return float(theory.gd_risk(eta, ch.d, np.inf, ch.sigma2))  # (1 − η)² + σ²

    ch.claims.add(
        "bayes_factor",
        "every H ≥ 2 model is within the factor of the Bayes risk that Thm 4.2 (iii) gives debiased GD, at "
        "every L': max over models and L' of (risk / Bayes risk) / (dGD risk / Bayes risk)",
        "Obs. 3, Thm 4.2 (iii)",
        cv.ratio[k][i],
        1 + t.bayes_se * cv.ratio_se[k][i],
        kind="max",
        target_origin="ours: debiased GD at η_eff, the predictor Thm 4.2 (iii) bounds, on the same prompts "
        "(the Bayes risk cancels in the ratio); the paper says 'the statistical error of the multi-head attention "
        "model is comparable to the optimal Bayes estimator up to a proportionality factor'",
        tol_origin=f"{t.bayes_se:g} standard errors of the paired ratio (delta method, common prompts)",
        note=f"worst: {label(k)} at L' = {Lp} (model factor {cv.mean[k][i] / cv.mean['bayes'][i]:.3f} vs "
        f"debiased GD's {dgd_factor[i]:.3f}). Debiased GD's factor over L' is "
        f"{dgd_factor.min():.2f} … {dgd_factor.max():.2f} (Monte Carlo); the proportional limit of "
        f"Thm 4.2 (iii) at ξ = d/L' gives {asym.min():.2f} … {asym.max():.2f} for optimally tuned GD.",
        note_if_fail=f"{n_over} of {len(excess)} (model, L') pairs are above the bound, at L' ∈ {over}. Why (ours): "
        "as L' → ∞ each kernel regressor of (3.2) tends to ω_h βᵀx_q, so a model in the pattern "
        "tends to GD with rate Σ_h ω_h μ_h, risk (1 − Σωμ)² + σ²: for the worst model "
        f"(Σωμ = {eta_k:.3f}) {limit(eta_k):.4f} against debiased GD's {limit(ch.eta_eff):.4f} at "
        f"η_eff = {ch.eta_eff:.3f}, a factor {limit(eta_k) / limit(ch.eta_eff):.3f}: a model whose Σωμ "
        "falls short of η_eff (claim eta_learned_all_models) cannot keep debiased GD's factor "
        f"at long prompts. The paper's words hold under their own reading: every model's factor is at most "
        f"{max_factor:.2f} (debiased GD's at most {dgd_factor.max():.2f}), a bounded proportionality factor; "
        "what fails is our stricter reading, no larger than debiased GD's own factor at every L'.",
        finding=ch.claims.at_paper("reading"),
    )
