"""Chapter 11's report: the numbers its prose quotes (`numbers`), its claims (`claims`) and the budget line, all read
from a `Study`."""

from __future__ import annotations

import numpy as np

from .analysis import SCALAR_START, Study, Summary, max_rel, read
from .dynamics import plateau_losses
from .linear_softmax import zero_sum

__all__ = ["numbers", "claims", "budget_markdown"]


def budget_markdown(ch) -> str:
    """The run's profile, device and budget (`Chapter.budget_markdown` without the book's d, L, σ², which do not
    enter this chapter)."""
    text = ch.budget_markdown()
    return text[: text.index(", task")] + ". " + text[text.index("Budget:") :]


def numbers(st: Study) -> dict:
    """Every number the prose quotes, key `lin-…` → (value, format) or text: the linear models', then the softmax
    versions' (`lin-soft-…`)."""
    return _linear_numbers(st) | _softmax_numbers(st)


def claims(ch, st: Study):
    """The chapter's claims: the linear models' (`Study.summary`), then the softmax versions' (`Study.softmax`)."""
    _linear_claims(ch, st.summary)
    _softmax_claims(ch, st.softmax)


def _linear_numbers(st: Study) -> dict:
    """The linear models' numbers (`Study.summary`), under `lin-` keys."""
    sm, b, t = st.summary, st.ch.budget, st.ch.tol
    rows = [
        ("lin-trace", sm.trace, "{:.3f}"),
        ("lin-loss-rel", t.loss_rel, "{:.0%}"),
        ("lin-start-share", SCALAR_START, "{:.1%}"),
        ("lin-converged", sm.converged, "{:.4f}"),
        ("lin-merged-final", sm.merged_final, "{:.4f}"),
        ("lin-merged-ndrops", len(sm.merged.drops), "{}"),
        ("lin-slope", sm.escape_slope, "{:.2f}"),
        ("lin-slope-theory", sm.escape_slope_theory, "{:.2f}"),
        ("lin-white-dev", sm.white_dev / sm.white_D, "{:.2%}"),
        ("lin-sep-ndrops", len(sm.sep.drops), "{}"),
        ("lin-sep-final", sm.sep_final, "{:.4f}"),
        ("lin-sep-converged", sm.sep_converged, "{:.4f}"),
        ("lin-pcr-max", float(np.max(sm.pcr)) if len(sm.pcr) else float("nan"), "{:.2%}"),
        ("lin-stall-final", sm.stall_final, "{:.4f}"),
        ("lin-stall-target", sm.stall_target, "{:.4f}"),
        ("lin-threshold", t.drop_threshold, "{:g}"),
        ("lin-minfrac", t.drop_min_frac, "{:.0%}"),
        ("lin-N", b.N, "{}"),
        ("lin-S", b.sequences, "{:,}"),
        ("lin-stall-H", b.stall_H, "{}"),
        ("lin-sep-H", b.sep_H, "{}"),
        ("lin-merged-H", b.merged_H, "{}"),
        ("lin-sep-D", b.sep_D, "{}"),
        ("lin-merged-D", b.merged_D, "{}"),
        ("lin-ranks-D", b.ranks_D, "{}"),
        ("lin-ranks-H", b.ranks_H, "{}"),
    ]
    out = {k: (v, f) for k, v, f in rows}
    out["lin-plateaus"] = ", ".join(f"{x:.4f}" for x in sm.sep_targets)
    out["lin-sep-measured"] = ", ".join(f"{x:.4f}" for x in sm.sep.plateaus)
    out["lin-durations"] = ", ".join(f"{x:,.0f}" for x in sm.sep_durations)
    out["lin-median-durations"] = ", ".join(f"{x:,.0f}" for x in sm.median_durations)
    out["lin-ordered-seeds"] = "{} of {}".format(*sm.ordered_seeds)
    out["lin-duration-seeds"] = (b.duration_seeds, "{}")
    out["lin-scalar-gaps"] = ", ".join(f"{g:.1%}" for g in sm.scalar_gaps)
    out["lin-rank-drops"] = "; ".join(f"R = {R}: {n}" for R, n in sm.rank_drops.items())
    out["lin-rank-plateaus"] = "; ".join(
        f"R = {R}: m = {', '.join(map(str, ms))}" for R, ms in sm.rank_plateaus.items()
    )
    out["lin-rank-final"] = "; ".join(f"R = {R}: {x:.4f}" for R, x in sm.rank_final.items())
    out["lin-rank-floor"] = (sm.rank_floor, "{:.1%}")
    out["lin-rank-plateaus-2pct"] = "; ".join(
        f"R = {R}: m = {', '.join(map(str, ms))}" for R, ms in sm.rank_plateaus_budget_floor.items()
    )
    lv = sm.ranks_targets
    out["lin-rank-last-step"] = ((lv[-2] - lv[-1]) / (lv[0] - lv[-1]), "{:.1%}")
    out["lin-merged-runs"] = (len(sm.merged_rests), "{}")
    out["lin-merged-two-rest"] = (sm.two_rest_share, "{:.0%}")
    slope, se = sm.law_slope
    out["lin-law-slope"] = (slope, "{:.2f}")
    out["lin-law-se"] = (se, "{:.2f}")
    out["lin-law-seeds"] = (len(sm.law_slopes), "{}")
    full = sm.seed_times[~np.isnan(sm.seed_times).any(axis=1)]
    med = np.median(full, axis=0) if len(full) else np.full(sm.seed_times.shape[1], np.nan)
    out["lin-law-times"] = ", ".join(f"{x:,.0f}" for x in med)
    out["lin-law-scaled"] = ", ".join(f"{x:,.0f}" for x in med * sm.sep_s.lam**2)
    out["lin-ranks-converged"] = (sm.ranks_targets[-1], "{:.4f}")
    return out


def _softmax_numbers(st: Study) -> dict:
    """The softmax versions' readings (`Study.softmax`), under `lin-soft-` keys."""
    ch, runs = st.ch, st.softmax
    r = {k: read(run.soft, ch.tol) for k, run in runs.items()}
    zs = {k: zero_sum(run.soft) for k, run in runs.items()}
    sep = runs["separate"]
    out = {}
    for k in runs:
        out[f"lin-soft-{k}-ndrops"] = (len(r[k].drops), "{}")
        out[f"lin-soft-{k}-zs"] = (zs[k], "{:.1%}")
        out[f"lin-soft-{k}-final"] = (float(runs[k].soft.loss[-1]), "{:.4f}")
    out["lin-soft-plateaus"] = ", ".join(f"{x:.3f}" for x in r["separate"].plateaus)
    out["lin-soft-targets"] = ", ".join(f"{x:.3f}" for x in plateau_losses(sep.s))
    out["lin-soft-factor"] = (ch.budget.softmax_init_factor, "{:g}")
    out["lin-soft-S"] = (ch.budget.softmax_sequences, "{:,}")
    return out


def _linear_claims(ch, sm: Summary):
    """The linear models' claims. Each is measured on gradient descent on sampled sequences or on the flow from
    random inits and tested against a statement of the paper (or, where said, our reading of it); checks of our
    formulas against themselves (L(0) = tr Λ, the flow's escape rate, H < D stalling at L(M_H)) are unit tests
    (tests/chapters/test_ch11_linear_attention_dynamics.py)."""
    t, c, b = ch.tol, ch.claims, ch.budget
    det = f"computed detector: −dL/d ln t above {t.drop_threshold:g} × the mean rate, drops of ≥ {t.drop_min_frac:.0%}"
    lrel = f"'≈' read as {t.loss_rel:.0%} of the target"
    gd = f"gradient descent on {b.sequences:,} sampled sequences"
    c.add(
        "merged_one_drop",
        f"merged KQ (D = {b.merged_D}, H = {b.merged_H}, {gd}): the loss has exactly one abrupt drop",
        "Zhang+25 Fig. 1",
        len(sm.merged.drops),
        1,
        kind="abs",
        target_origin="the paper: 'the loss trajectory exhibits a single, abrupt drop' (abstract)",
        tol_origin=det,
        finding="paper",
    )
    n_runs, rests = len(sm.merged_rests), {k: v for k, v in sm.merged_rests.items() if v}
    c.add(
        "merged_two_fixed_points",
        f"merged KQ: the training dynamics has two fixed points, Γ = 0 (loss tr Λ) and the global minimum Γ* — "
        f"the share of {n_runs} runs ({b.duration_seeds} init seeds × {len(b.merged_inits)} init scales, {gd}) "
        "whose loss rests at no other level",
        "Zhang+25 §merged (abstract)",
        sm.two_rest_share,
        1.0,
        kind="min",
        target_origin="the paper: 'for the merged parametrization, we show that the training dynamics has two fixed "
        "points' (abstract); a third fixed point in reach of a small init would hold some run on a third plateau, as "
        "the separate model's M_1 … M_{D−1} do",
        tol_origin=f"every run; a rest is a plateau of the chapter's detector ({det}) more than {t.loss_rel:.0%} from "
        "both tr Λ and L(Γ*)",
        note_if_fail="runs resting elsewhere: "
        + "; ".join(f"seed +{k}, init {e:g}: {', '.join(f'{x:.4f}' for x in v)}" for (k, e), v in rests.items()),
        finding="paper",
    )
    c.add(
        "merged_final",
        f"merged KQ ({gd}): the final loss is that of the paper's converged predictor ŷ = bᵀ(Λ + (Λ + tr Λ·I)/N)⁻¹x_q",
        "Zhang+25 (merged: converged predictor)",
        sm.merged_final,
        sm.converged,
        tol=t.loss_rel,
        kind="rel",
        target_origin="the paper's converged predictor Γ* = (Λ + (Λ + tr Λ·I)/N)⁻¹ (our notes §11), its loss L(Γ*) by "
        "the population loss (checked against Monte Carlo in the tests); the run is a trained model, not the formula",
        tol_origin=lrel + "; the finite-sample excess of the sampled sequences (≈ D²/S relative) is far below it",
        finding="budget",
    )
    c.add(
        "merged_escape_log",
        f"merged KQ ({gd}, one init direction at {len(b.merged_inits)} init scales): the plateau's length grows like "
        "ln(1/init), slope 1/‖Λ²‖_F",
        "Zhang+25 (merged: escape time)",
        sm.escape_slope,
        sm.escape_slope_theory,
        tol=t.slope_rel,
        kind="rel",
        target_origin="the paper: the escape time is logarithmic in the init, ≈ (τ/‖Λ²‖_F)·ln(1/init) (our notes "
        "§11; the coefficient is our reconstruction, from the flow linearised around Γ = 0)",
        tol_origin=f"{t.slope_rel:.0%}: O(init²) corrections, half-way times interpolated in ln t; GD's step "
        f"(Δt = {2 * b.merged_lr:g}) slows the growth by about 1 % of the rate",
        note_if_fail="the escape time is not linear in ln(1/init) with the linearised rate",
        finding="reading",
    )
    c.add(
        "white_time_course",
        "white Λ = I: gradient descent on sampled white sequences follows the paper's analytic time course L(t)",
        "Zhang+25 (analytic time course)",
        sm.white_dev / sm.white_D,
        t.white_abs_frac,
        kind="max",
        target_origin="the paper's analytic solution for Γ(0) ∝ I (re-derived by us: the logistic s(t)), compared at "
        "every recorded time (max |ΔL|/D)",
        tol_origin=f"{t.white_abs_frac:.0%} of the initial loss D",
        finding="paper",
    )
    c.add(
        "sep_d_drops",
        f"separate rank one (D = {b.sep_D}, H = {b.sep_H}, {gd}): D drops",
        "Zhang+25 Fig. 3",
        len(sm.sep.drops),
        sm.sep_s.D,
        kind="abs",
        target_origin="the paper (saddle to saddle, one drop per eigen-direction)",
        tol_origin=det,
        finding="paper",
    )
    c.add(
        "sep_order",
        "separate: drop m learns e_m, in order of decreasing eigenvalue",
        "Zhang+25 Fig. 3",
        sm.sep_order == list(range(1, len(sm.sep_order) + 1)) and len(sm.sep_order) == sm.sep_s.D,
        True,
        kind="true",
        target_origin="the paper (largest eigenvalue first)",
        tol_origin="on plateau m exactly e_1 … e_m carry > 1/2 of their converged Γ (ours)",
        note=f"directions learned on each plateau: {sm.sep_order}",
        finding="paper",
    )
    n = min(len(sm.sep.plateaus), len(sm.sep_targets))
    c.add(
        "sep_plateau_losses",
        f"separate ({gd}): the loss on each plateau is the paper's saddle loss L(M_m) = tr Λ − Σ_{{d≤m}} λ_d/c_d "
        "(max relative deviation over m)",
        "Zhang+25 Fig. 3",
        max_rel(sm.sep.plateaus[:n], sm.sep_targets[:n]),
        t.loss_rel,
        kind="max",
        target_origin="the paper's fixed points M_m and their loss (the authors' plot_loss.ipynb draws these saddle "
        "lines with this formula); the run is a trained model, read at the flattest point of each plateau",
        tol_origin=lrel,
        finding="paper",
    )
    med, (n_ord, n_full) = sm.median_durations, sm.ordered_seeds
    c.add(
        "sep_durations_ordered",
        f"separate: later plateaus last longer — the median plateau duration between drops increases with m "
        f"(m = 1 … D−1; {b.duration_seeds} init seeds, flow)",
        "Zhang+25 Fig. 3 (our reading of its scalar ODE)",
        bool(n_full >= 2 and np.all(np.diff(med) > 0)),
        True,
        kind="true",
        target_origin="ours: read off the paper's scalar ODE (a smaller λ escapes more slowly); our notes §11 say "
        "'later plateaus last longer'",
        tol_origin="strict increase of the median durations over the paper's seed count (ours)",
        note=f"medians: {', '.join(f'{x:,.0f}' for x in med)}; {n_ord} of {n_full} seeds ordered on their own",
        note_if_fail="each direction starts from its own random small component, and the time to learn it goes "
        "like 1/(λ² v0): the durations need not be ordered",
        finding="reading",
    )
    slope, se = sm.law_slope
    c.add(
        "sep_learning_time_law",
        f"separate: the time t_m at which e_m is learned grows like λ_m⁻² (slope of ln t_m against ln λ_m, mean over "
        f"{len(sm.law_slopes)} init seeds, flow)",
        "Zhang+25 (scalar ODE; time ∝ λ_m⁻²)",
        None if np.isnan(slope) else slope,
        -2.0,
        tol=0.0 if np.isnan(se) else 2 * se,
        kind="abs",
        target_origin="our notes §11 credit 'the time to learn e_m grows like λ_m⁻²' to the paper, whose full text we "
        "do not hold (its abstract and the authors' code do not state it); it follows from the paper's scalar ODE "
        "τv̇ = λ²v² − λ³cv⁵, whose small-v solution v0/(1 − λ²v0 t) escapes at t = 1/(λ²v0). t_m is counted from "
        "t = 0, when every direction starts to grow, and read as the half-way crossing from L(M_{m−1}) to L(M_m)",
        tol_origin=f"2 standard errors of the mean slope over the seeds (s.e. {se:.2f}): each direction's random "
        "starting scale v0 moves its t_m, the same way for every m",
        note="per-seed slopes: " + ", ".join(f"{x:.2f}" for x in sm.law_slopes),
        note_if_fail="the starting scales v0 differ between directions (the heads compete for each one), which the "
        "law at one v0 leaves out",
        finding="paper",
    )
    gaps = sm.scalar_gaps
    c.add(
        "sep_scalar_ode",
        "separate: each newly learning head follows the scalar ODE τv̇ = λ²v² − λ³c v⁵ "
        "(max deviation over its final value, worst direction)",
        "Zhang+25 (reduction to scalar ODEs)",
        float(np.max(gaps)),
        t.scalar_rel,
        kind="max",
        target_origin="the paper's reduction, started from the head's own effective scale",
        tol_origin=f"{t.scalar_rel:.0%} of the final value (ours: the reduction assumes k = q and one head per "
        "direction, which the flow reaches only approximately)",
        note=", ".join(f"e_{m + 1}: {g:.1%}" for m, g in enumerate(gaps)),
        finding="reading",
    )
    c.add(
        "sep_final",
        f"separate ({gd}): the final loss is that of the paper's global minimum M_D = Γ*",
        "Zhang+25 (separate)",
        sm.sep_final,
        sm.sep_converged,
        tol=t.loss_rel,
        kind="rel",
        target_origin="the paper: M_D (PCR with all D components) is the global minimum, Γ* of the merged model; its "
        "loss by the population loss (checked against Monte Carlo in the tests)",
        tol_origin=lrel,
        finding="budget",
    )
    c.add(
        "sep_pcr",
        f"separate ({gd}): on plateau m the predictor is PCR with m components (max over m)",
        "Zhang+25 (separate)",
        float(np.max(sm.pcr)) if len(sm.pcr) else float("inf"),
        t.pcr_gap,
        kind="max",
        target_origin="the paper's in-context PCR Γ_{M_m}; ours: mean squared difference on fresh prompts over PCR's "
        "mean square",
        tol_origin=f"{t.pcr_gap:.0%} of PCR's mean square",
        finding="paper",
    )
    want = {R: list(range(0, sm.ranks_targets.size, R)) for R in sm.rank_plateaus}
    miss = {R: sorted(set(want[R]) - set(ms)) for R, ms in sm.rank_plateaus.items()}
    extra = {R: sorted(set(ms) - set(want[R])) for R, ms in sm.rank_plateaus.items()}
    lv, D = sm.ranks_targets, sm.ranks_targets.size - 1
    last = (lv[-2] - lv[-1]) / (lv[0] - lv[-1])
    why_extra = (
        f" A plateau at L(M_{D - 1}) is the last direction (the smallest λ) learned after the others, a step of "
        f"{last:.1%} of the descent, which a linear loss axis such as the paper's hardly shows."
        if any(D - 1 in v for v in extra.values())
        else ""
    )
    why_missing = (
        " A missing multiple is two escapes that overlap; 'visible plateaus only at multiples of R' does not ask for "
        "one at each multiple."
        if any(miss.values())
        else ""
    )
    old_extra = {R: [m for m in ms if m % R] for R, ms in sm.rank_plateaus_budget_floor.items()}
    c.add(
        "rank_plateaus_at_multiples",
        "rank-R heads: a plateau at every multiple of R (m = 0, R, 2R, …, D) and at no other m, for every R",
        "Zhang+25 Fig. 4",
        all(not miss[R] and not extra[R] for R in sm.rank_plateaus),
        True,
        kind="true",
        target_origin="the paper: with rank-R heads the visible plateaus are at multiples of R (our notes §11); "
        "'at every multiple' is our completion of the statement",
        tol_origin="the plateaus the detector finds within the '≈' reading of L(M_m); its floor is "
        f"{sm.rank_floor:.1%} of the descent here, half the smallest step (the budget's {t.drop_min_frac:.0%} "
        "would hide the smallest steps)",
        note=f"plateaus found: {'; '.join(f'R = {R}: m = {list(ms)}' for R, ms in sm.rank_plateaus.items())}",
        note_if_fail="missing: "
        + ("; ".join(f"R = {R}: m = {v}" for R, v in miss.items() if v) or "none")
        + "; off the multiples: "
        + ("; ".join(f"R = {R}: m = {v}" for R, v in extra.items() if v) or "none")
        + "."
        + why_extra
        + why_missing
        + f" With the budget's {t.drop_min_frac:.0%} floor, plateaus off the multiples: "
        + ("; ".join(f"R = {R}: m = {v}" for R, v in old_extra.items() if v) or "none")
        + " (the earlier, one-sided reading of this claim).",
        finding="reading",
    )


def _softmax_claims(ch, runs: dict):
    """The softmax versions' claims: the linear behaviours persist; the value weights cancel."""
    t, c = ch.tol, ch.claims
    r = {k: read(run.soft, t) for k, run in runs.items()}
    zs = {k: zero_sum(run.soft) for k, run in runs.items()}
    sep = runs["separate"]
    det = (
        f"the chapter's detector (−dL/d ln t above {t.drop_threshold:g} × the mean rate, "
        f"drops of ≥ {t.drop_min_frac:.0%})"
    )
    c.add(
        "softmax_merged_one_drop",
        "softmax version of the merged model: one abrupt drop",
        "Zhang+25 Fig. 5",
        len(r["merged"].drops),
        1,
        kind="abs",
        target_origin="the paper's Fig. 5 (as we read it: the linear behaviours persist)",
        tol_origin=det,
        finding="paper",
    )
    c.add(
        "softmax_sep_d_drops",
        "softmax version of separate rank one: D drops",
        "Zhang+25 Fig. 5",
        len(r["separate"].drops),
        sep.s.D,
        kind="abs",
        target_origin="the paper's Fig. 5 (as we read it: the linear behaviours persist)",
        tol_origin=det,
        finding="paper",
    )
    c.add(
        "softmax_zero_sum",
        "softmax versions: the value weights cancel, |Σ v_i| / Σ |v_i| ≈ 0 (worst of the two)",
        "He+25 Obs. 2; ours for Zhang+25's models",
        max(zs.values()),
        t.zero_sum,
        kind="max",
        target_origin="ours: softmax = linear + v_i·Σ_n y_n/(N+1) near zero; that term only adds error",
        tol_origin=f"{t.zero_sum:.0%} of the value mass: the book's reading of Obs. 2 (chapter 01)",
        note=", ".join(f"{k}: {v:.1%}" for k, v in zs.items()),
        finding="reading",
    )
