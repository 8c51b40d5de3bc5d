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
    """The linear models' claims; targets computed from the formulas of `dynamics`, tolerances from `ch.tol`."""
    t, c, b = ch.tol, ch.claims, ch.budget
    det = f"computed detector: −dL/d ln t above {t.drop_threshold:g} × the mean rate, drops of ≥ {t.drop_min_frac:.0%}"
    lrel = f"'≈' read as {t.loss_rel:.0%} of the target"
    c.add(
        "merged_one_drop",
        f"merged KQ (D = {b.merged_D}, H = {b.merged_H}, GD): the loss has exactly one abrupt drop",
        "Zhang+25 Fig. 1",
        len(sm.merged.drops),
        1,
        kind="abs",
        target_origin="the paper (a single, abrupt drop)",
        tol_origin=det,
    )
    c.add(
        "merged_plateau_trace",
        "merged: the plateau before the drop sits at L = tr Λ",
        "Zhang+25 Fig. 1",
        float(sm.merged.plateaus[0]),
        sm.trace,
        tol=t.loss_rel,
        kind="rel",
        target_origin="L(0) = tr Λ (the unstable fixed point Γ = 0)",
        tol_origin=lrel,
    )
    c.add(
        "merged_final",
        "merged: final loss = the converged formula L(Γ*)",
        "Zhang+25 (merged)",
        sm.merged_final,
        sm.converged,
        tol=t.loss_rel,
        kind="rel",
        target_origin="ours: L(Γ*), Γ* = (Λ + (Λ + tr Λ·I)/N)⁻¹",
        tol_origin=lrel,
    )
    c.add(
        "merged_escape_log",
        "merged: the plateau's length grows like ln(1/init), slope 1/‖Λ²‖_F",
        "Zhang+25 (merged: escape time)",
        sm.escape_slope,
        sm.escape_slope_theory,
        tol=t.slope_rel,
        kind="rel",
        target_origin="ours: the linearised flow around Γ = 0 grows at rate ‖Λ²‖_F",
        tol_origin=f"{t.slope_rel:.0%}: O(init²) corrections, half-way times interpolated in ln t",
        note_if_fail="the escape time is not linear in ln(1/init) with the linearised rate",
    )
    c.add(
        "white_time_course",
        "white Λ = I: GD follows the analytic time course L(t)",
        "Zhang+25 (analytic time course)",
        sm.white_dev / sm.white_D,
        t.white_abs_frac,
        kind="max",
        target_origin="ours: the logistic solution for Γ(0) ∝ I, compared at every recorded time (max |ΔL|/D)",
        tol_origin=f"{t.white_abs_frac:.0%} of the initial loss D",
    )
    c.add(
        "sep_d_drops",
        f"separate rank one (D = {b.sep_D}, H = {b.sep_H}, GD): D drops",
        "Zhang+25 Fig. 3",
        len(sm.sep.drops),
        sm.sep_s.D,
        kind="abs",
        target_origin="the paper (saddle to saddle, one drop per eigen-direction)",
        tol_origin=det,
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
    )
    n = min(len(sm.sep.plateaus), len(sm.sep_targets))
    c.add(
        "sep_plateau_losses",
        "separate: each plateau's loss = L(M_m) (max relative deviation over m)",
        "Zhang+25 Fig. 3",
        max_rel(sm.sep.plateaus[:n], sm.sep_targets[:n]),
        t.loss_rel,
        kind="max",
        target_origin="ours: L(M_m) = tr Λ − Σ_{d≤m} λ_d/c_d",
        tol_origin=lrel,
    )
    med, (n_ord, n_full) = sm.median_durations, sm.ordered_seeds
    c.add(
        "sep_durations_increase",
        f"separate: plateau durations increase as λ_m decreases (m = 1 … D−1; median over "
        f"{b.duration_seeds} init seeds, flow)",
        "Zhang+25 (time ∝ λ_m^{-2})",
        bool(n_full >= 2 and np.all(np.diff(med) > 0)),
        True,
        kind="true",
        target_origin="the paper",
        tol_origin="strict increase of the median durations over the paper's seed count (ours)",
        note=f"medians: {', '.join(f'{x:,.0f}' for x in med)}; {n_ord} of {n_full} seeds ordered on their own",
        note_if_fail="each direction starts from its own random small component, and the time to learn it goes "
        "like 1/(λ² v0): the durations need not be ordered",
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
    )
    c.add(
        "sep_final",
        "separate: final loss = the converged formula L(M_D)",
        "Zhang+25 (separate)",
        sm.sep_final,
        sm.sep_converged,
        tol=t.loss_rel,
        kind="rel",
        target_origin="ours: L(M_D) = L(Γ*)",
        tol_origin=lrel,
    )
    c.add(
        "sep_pcr",
        "separate: on plateau m the predictor is PCR with m components (max over m)",
        "Zhang+25 (separate)",
        float(np.max(sm.pcr)) if len(sm.pcr) else float("inf"),
        t.pcr_gap,
        kind="max",
        target_origin="ours: mean squared difference to Γ_{M_m} on fresh prompts over PCR's mean square",
        tol_origin=f"{t.pcr_gap:.0%} of PCR's mean square",
    )
    off = {R: [m for m in ms if m % R] for R, ms in sm.rank_plateaus.items()}
    c.add(
        "rank_plateaus_at_multiples",
        "rank-R heads: visible plateaus only at m = multiples of R (every R)",
        "Zhang+25 Fig. 4",
        all(not v for v in off.values()),
        True,
        kind="true",
        target_origin="the paper",
        tol_origin="the plateaus the detector finds at L(M_m), within the '≈' reading of the plateau losses",
        note=f"plateaus found: {'; '.join(f'R = {R}: m = {list(ms)}' for R, ms in sm.rank_plateaus.items())}",
        note_if_fail="off-multiple plateaus: "
        + "; ".join(f"R = {R}: m = {v}" for R, v in off.items() if v)
        + ". The directions inside one rank-R head escape one after another when the init is not "
        "small enough for them to grow together (ours).",
    )
    c.add(
        "stall_h_lt_d",
        "H < D rank-one heads stall at L(M_H) (flow)",
        "beyond the paper",
        sm.stall_final,
        sm.stall_target,
        tol=t.loss_rel,
        kind="rel",
        target_origin="ours: rank Γ ≤ H, so at best M_H",
        tol_origin=lrel,
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
    )
