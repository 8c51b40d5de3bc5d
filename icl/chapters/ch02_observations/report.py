"""Chapter 02's numbers and claims, read off the `Study`: `numbers(st)` for the prose, `claims(ch, st)`
for the claims table (tolerances from `icl.book.budgets.ch02_observations`)."""

from __future__ import annotations

import numpy as np

from .analysis import Study, label, settled_fraction
from .common import by_H, trend_text
from .heads import kq_size_along
from .risk import claims_risk_at_L, claims_risk_curves

__all__ = ["numbers", "claims", "by_H"]


def numbers(st: Study) -> dict:
    """Every number the prose glues (keys "obs-…"), in the order of the sections that show them."""
    ch, m, b, r = st.ch, st.models, st.ch.budget, st.ranges
    out = {
        "obs-heads": ", ".join(map(str, m.heads)),
        "obs-n-seeds": (len(m.seeds), "{}"),
        "obs-steps": (ch.prof.steps, "{:,}"),
        "obs-n-models": (len(m.runs), "{}"),
        "obs-train-minutes": (st.training[1], "{:.1f}"),
        "obs-dummy-models": ", ".join(label(k) for k in st.dummies) or "none",
    }
    # Observation 2: the ranges of the model table
    for k in ("omega_min", "omega_max", "eta_min", "eta_max", "single_omega"):
        out[f"obs-{k.replace('_', '-')}"] = (r[k], "{:.3f}")
    for k in ("mu_pos_min", "mu_pos_max", "mu_neg_min", "mu_neg_max", "single_mu"):
        out[f"obs-{k.replace('_', '-')}"] = (r[k], "{:.2f}")
    out.update(
        {
            "obs-n-multi": (r["n_multi"], "{}"),
            "obs-n-dummy": (r["n_dummy"], "{}"),
            "obs-eta-eff": (ch.eta_eff, "{:.3f}"),
            "obs-single-opt": (1 / ch.d**0.5, "{:.3f}"),
        }
    )
    # Observation 3: risk curves and risks at the training length
    cv = st.curves
    out.update(
        {
            "obs-curve-prompts": (b.curve_prompts, "{:,}"),
            "obs-claim-prompts": (b.claim_prompts, "{:,}"),
            "obs-mc-dgd": (cv.mc_check("dgd"), "{:.1f}"),
            "obs-mc-gd": (cv.mc_check("gd"), "{:.1f}"),
            "obs-dgd-exact": (st.at_L.dgd_exact, "{:.4f}"),
            "obs-gd-exact": (st.at_L.gd_exact, "{:.4f}"),
            "obs-figure-seed": (m.figure_seed, "{}"),
        }
    )
    # Observation 4: dynamics
    out.update(
        {
            "obs-zero-sum-tol": (ch.tol.zero_sum, "{:g}"),
            "obs-early": (ch.tol.early, "{:.0%}"),
            "obs-late-models": ", ".join(label(k) for k in st.late) or "none",
        }
    )
    out["obs-profile"] = ch.prof.name
    out.update(_numbers_heads(st))
    return out


def _numbers_heads(st: Study) -> dict:
    """The scales across models, the heads whose KQ scale vanishes, the worst x-block along training and
    the distance to vanilla GD (keys "obs-…")."""
    m, out = st.models, {}
    if m.multi:
        sc = st.scales.loc[m.multi]
        dm = st.kq_dummies
        out.update(
            {
                "obs-model-omega-lo": (sc["omega"].min(), "{:.3f}"),
                "obs-model-omega-hi": (sc["omega"].max(), "{:.3f}"),
                "obs-model-mu-lo": (sc["mu"].min(), "{:.2f}"),
                "obs-model-mu-hi": (sc["mu"].max(), "{:.2f}"),
                "obs-kq-dummies": (len(dm), "{}"),
                "obs-kq-dummy-models": (dm.groupby(level=["H", "seed"]).ngroups if len(dm) else 0, "{}"),
                "obs-out-dummies": (int(st.table.loc[m.multi, "n_dummy"].sum()), "{}"),
                "obs-vs-gd": (
                    max(np.max(np.abs(st.curves.mean[k] / st.curves.mean["gd"] - 1)) for k in m.multi),
                    "{:.0%}",
                ),
            }
        )
    w = st.worst_kq
    out["obs-worst-kq-model"] = label(w["key"])
    out["obs-worst-kq-traj"] = " → ".join(f"{v:.2f} (step {s:,})" for s, v in w["at"])
    out["obs-worst-kq-peak"] = f"{w['peak'][1]:.2f} at step {w['peak'][0]:,}"
    out["obs-worst-kq-verdict"] = (
        "no lower at the end than a tenth of the way in: not a pattern still sharpening"
        if w["at"][-1][1] >= w["at"][-3][1]
        else "lower at the end than a tenth of the way in: still sharpening"
    )
    out["obs-worst-kq-head"] = (w["head"], "{}")
    out["obs-worst-kq-share"] = (w["share"], "{:.0%}")
    return out


def _claims_pattern(ch, st: Study):
    t, tab, steps = ch.tol, st.table, st.models.steps
    small = (
        f"'≈ 0' read as at most {t.small:g} × the scale (ours, one rule for every entry of (3.1) that should vanish)"
    )
    kq_x = tab[["rel_diag_spread", "rel_offdiag"]].max(axis=1)
    w = st.worst_kq
    at = " → ".join(f"{v:.2f} at step {s:,}" for s, v in w["at"])
    (s10, v10), (sp, vp) = w["at"][-3], w["peak"]  # the snapshot nearest steps/10; the largest after it
    verdict = (
        f"no lower at the end than at step {s10:,}: more training has not cleaned it up"
        if w["at"][-1][1] >= v10
        else f"still falling at the end (from {v10:.2f} at step {s10:,})"
    )
    ch.claims.add(
        "kq_x_block_identity",
        "every head's KQ x-block is ∝ I_d: diagonal spread and largest off-diagonal entry ≤ |ω_h|/5 "
        "(worst head of all models)",
        "Obs. 1 (a), (3.1)",
        kq_x.max(),
        t.small,
        kind="max",
        target_origin="the paper: 'for each KQ circuit, the top-left d-by-d submatrix is diagonal and "
        "proportional to an identity matrix'",
        tol_origin=small,
        finding=ch.claims.at_paper("paper"),
        note_if_fail=f"worst per H: {by_H(kq_x)}. The median over H ≥ 2 of the worst off-diagonal/|ω_h| falls "
        f"({trend_text(st.trend, 'rel_offdiag')}); the worst model, {label(w['key'])}, goes {at}, its largest "
        f"value after step {s10:,} being {vp:.2f} at step {sp:,}: it is {verdict}. Its worst head, head "
        f"{w['head']} (ω_h = {w['omega']:.3f}, μ_h = {w['mu']:.2f}), carries {w['share']:.0%} of its group's "
        "OV weight"
        + (
            " (read from the published snapshots of the 500k-step models)."
            if steps >= 500_000
            else f"; the paper trains 500k steps, this page {steps:,}."
        ),
    )
    ch.claims.add(
        "kq_key_y_row_zero",
        "key-y row of W_h ≈ 0: largest entry ≤ |ω_h|/5 (worst head, all models)",
        "Obs. 1, (3.1)",
        tab["rel_key_y"].max(),
        t.small,
        kind="max",
        tol_origin=small,
        note_if_fail=f"worst per H: {by_H(tab['rel_key_y'])}; still shrinking (median over H ≥ 2: "
        f"{trend_text(st.trend, 'rel_key_y')}).",
        finding=ch.claims.at_paper("paper"),
    )
    ch.claims.add(
        "ov_x_part_zero",
        "OV x-part ≈ 0: largest entry of u_h[1:d] ≤ |μ_h|/5 (worst head, all models)",
        "Obs. 1, (3.1)",
        tab["rel_ov_x"].max(),
        t.small,
        kind="max",
        tol_origin=small,
        note_if_fail=f"worst per H: {by_H(tab['rel_ov_x'])}. Large only where a group has several heads: "
        "their x-parts cancel (a flat direction of the loss), see the next claim.",
        finding=ch.claims.at_paper("paper"),
    )
    ch.claims.add(
        "group_ov_x_part_zero",
        "ours: the group-summed OV x-part Σ_{h∈±} u_h[1:d], the part that reaches ŷ, ≤ max|μ_h|/5 (worst model)",
        "Obs. 1 (our refinement)",
        tab["rel_group_ov_x"].max(),
        t.small,
        kind="max",
        tol_origin=small,
        finding=ch.claims.at_paper("paper"),
    )
    ch.claims.add(
        "sign_matching_all_models",
        "sign ω_h = sign μ_h in every non-dummy head of every model, all head "
        "counts and seeds (chapter 01 checks its one two-head model)",
        "Obs. 1",
        tab["sign_match"].min(),
        1.0,
        kind="min",
        target_origin="the paper (every non-dummy head)",
        finding=ch.claims.at_paper("paper"),
    )


def _claims_scales(ch, st: Study):
    t, mm = ch.tol, st.table.loc[st.models.multi]
    ch.claims.add(
        "zero_sum_all_models",
        "zero-sum OV in every H ≥ 2 model (all head counts and seeds): |Σ_h μ_h| / Σ_h |μ_h| (worst model)",
        "Obs. 2",
        mm["zero_sum"].max(),
        t.zero_sum,
        kind="max",
        tol_origin=f"'≈ 0' read as at most {t.zero_sum:.0%} of the OV mass (chapter 01's reading)",
        note_if_fail=f"worst per H: {by_H(mm['zero_sum'], '{:.3f}')}.",
        finding=ch.claims.at_paper("paper"),
    )
    ch.claims.add(
        "homogeneous_kq",
        "homogeneous KQ: max |ω_h| / min |ω_h| − 1 over non-dummy heads (worst model, H ≥ 2)",
        "Obs. 2",
        mm["omega_spread"].max(),
        t.homogeneous,
        kind="max",
        tol_origin=f"'share one |ω_h| ≈ ω' read as within {t.homogeneous:.0%} (ours)",
        note_if_fail=f"worst per H: {by_H(mm['omega_spread'])}: the models with many heads have not equalised "
        f"their |ω_h| after {st.models.steps:,} steps (Stage II of §4.2 is slow).",
        finding=ch.claims.at_paper("paper"),
    )
    eta = mm["eta"].to_numpy()
    ch.claims.add(
        "eta_learned_all_models",
        "Σ_h ω_h μ_h ≈ η_eff = L/(L + d(1+σ²)) in every H ≥ 2 model (the one "
        "farthest from it; chapter 01 checks its one two-head model)",
        "Obs. 3, (4.3)",
        eta[np.argmax(np.abs(eta - ch.eta_eff))],
        ch.eta_eff,
        tol=t.eta_rel,
        kind="rel",
        target_origin="(4.3), computed by theory.eta_eff",
        tol_origin=f"'≈' read as {t.eta_rel:.0%} (chapter 01's reading: the paper's own model has 2ωμ = 0.90, "
        "2.4 % above η_eff)",
        note_if_fail=f"range over H ≥ 2 models {eta.min():.3f} to {eta.max():.3f} (mean {eta.mean():.3f}); "
        "Σ ω_h μ_h is the first-order rate only, and the risks of these models agree far better.",
        finding=ch.claims.at_paper("paper"),
    )


def _claims_across_models(ch, st: Study):
    """§3's comparison of the models' scales: the H ≥ 2 models share one (ω, μ), smaller KQ and larger OV
    than the single head; and the heads whose KQ scale vanishes are dummy heads."""
    t, sc, multi = ch.tol, st.scales, st.models.multi
    m = sc.loc[multi]
    scales_quote = (
        "the paper: 'the two-head and four-head attention model learns the same predictor … the same scaling in "
        "the KQ circuits … the magnitude of OV circuits aligns across positive and negative groups … this "
        "phenomenon holds across all multi-head attention models'"
    )
    for key, what, col in (
        ("kq_scale", "KQ scale ω (mean |ω_h| over non-dummy heads)", "omega"),
        ("ov_weight", "OV weight of a group μ (mean of Σ₊ μ_h and −Σ₋ μ_h)", "mu"),
    ):
        v = m[col]
        ch.claims.add(
            f"same_{key}_across_heads",
            f"every H ≥ 2 model, of every head count and seed, learns the same {what}: (max − min) / min over "
            "the models",
            "§3 after Obs. 3, Figs 1, 3",
            (v.max() - v.min()) / v.min(),
            t.homogeneous,
            kind="max",
            target_origin=scales_quote,
            tol_origin=f"'the same scaling' read as within {t.homogeneous:.0%}, the reading of homogeneous |ω_h| "
            "within one model (ours)",
            note=f"{col} ranges from {v.min():.3f} ({label(v.idxmin())}) to {v.max():.3f} ({label(v.idxmax())}); "
            "per H (mean over seeds): "
            + ", ".join(f"H={H}: {x:.3f}" for H, x in v.groupby(level="H").mean().items())
            + ".",
            finding=ch.claims.at_paper("paper"),
        )
    if 1 in st.models.heads:
        one = sc.loc[1]
        single_quote = (
            "the paper: 'in the two-head attention model, the magnitude of KQ circuits is smaller than that of "
            "the single-head attention, and the magnitude of OV circuits is larger than that of the single-head "
            "attention model'"
        )
        ch.claims.add(
            "multi_kq_scale_below_single",
            "every H ≥ 2 model has a smaller KQ scale than every single-head model: largest H ≥ 2 scale ω / "
            "smallest single-head |ω|",
            "§3 after Obs. 3, Figs 1, 3",
            m["omega"].max() / one["omega"].min(),
            1.0,
            kind="max",
            target_origin=single_quote + " (for every H ≥ 2: Fig. 3's four-head model has the two-head scaling)",
            tol_origin="none: 'smaller' read strictly",
            note=f"H ≥ 2: ω {m['omega'].min():.3f} … {m['omega'].max():.3f}; H = 1: |ω| "
            f"{one['omega'].min():.3f} … {one['omega'].max():.3f}.",
            finding=ch.claims.at_paper("paper"),
        )
        ch.claims.add(
            "multi_ov_weight_above_single",
            "every H ≥ 2 model has a larger OV weight per group than every single-head model: smallest H ≥ 2 "
            "group weight μ / largest single-head |μ|",
            "§3 after Obs. 3, Figs 1, 3",
            m["mu"].min() / one["mu"].max(),
            1.0,
            kind="min",
            target_origin=single_quote,
            tol_origin="none: 'larger' read strictly",
            note=f"H ≥ 2: μ {m['mu'].min():.2f} … {m['mu'].max():.2f}; H = 1: |μ| "
            f"{one['mu'].min():.2f} … {one['mu'].max():.2f}.",
            finding=ch.claims.at_paper("paper"),
        )
    dm = st.kq_dummies
    worst = dm[["KQ / ω", "OV / μ"]].max(axis=1) if len(dm) else None
    out_dummies = int(st.table.loc[multi, "n_dummy"].sum())
    if worst is not None:
        (H, s, h), v = worst.idxmax(), worst.drop(worst.idxmax())
        along = kq_size_along(st.models.runs[(H, s)], h, st.models.steps)
        falling = along[-1][1] < min(x for _, x in along[:-1])
        others_ok = not len(v) or v.max() <= t.small  # the heads that collapsed earlier are within the reading
        history = (
            f"Its KQ / ω along training: {', '.join(f'{x:.2f} at step {t:,}' for t, x in along)}"
            + (": it is still collapsing at the end." if falling else ".")
            + (f" The other such heads: {v.min():.2f} to {v.max():.2f}" if len(v) else "")
            + (
                ", so a longer run would most likely pass."
                if falling and others_ok
                else ": heads whose KQ scale vanished earlier do not all get below the reading either."
                if len(v) and not others_ok
                else "."
            )
        )
    else:
        history, falling, others_ok = "", False, True
    ch.claims.add(
        "kq_dummy_heads_vanish",
        f"a head whose KQ scale vanishes (|ω_h| ≤ max |ω_h| × {t.small:g}) is a dummy head: its whole KQ "
        "circuit and OV row are ≈ 0 (largest entry over the model's largest |ω_h| or |μ_h|, worst such head, "
        "H ≥ 2)",
        "Obs. 1, App. A.1, Fig. 14",
        None if worst is None else worst.max(),
        t.small,
        kind="max",
        target_origin="the paper: 'dummy heads may emerge, where ω_h ≈ 0 and μ_h ≈ 0'; 'dummy heads have nearly "
        "zero KQ and OV matrices'; 'the KQ matrix of Head 4 … converges to a zero-matrix … the OV vectors of "
        "the dummy heads converge to zero vectors'",
        tol_origin=f"'≈ 0' read as at most {t.small:g} × the scale, the chapter's rule for every '≈ 0' (ours)",
        note=(
            "no H ≥ 2 model has a head with a vanishing KQ scale at this budget, so there is nothing to measure. "
            if worst is None
            else f"{len(dm)} such heads in {dm.groupby(level=['H', 'seed']).ngroups} models, "
            f"{int((worst > t.small).sum())} of them above the reading; worst: "
            f"{label(worst.idxmax()[:2])}, head {worst.idxmax()[2]}. "
        )
        + "Heads are grouped here by their KQ scale, as the paper groups them ('depending on the signs of "
        "the KQ parameters'); the tables' dummy heads are those with a small |ω_h μ_h|, which also counts heads "
        f"at the common KQ scale whose group gives them little OV weight ({out_dummies} dummy heads by that rule "
        f"against {len(dm)} by the KQ scale).",
        note_if_fail=history,
        finding=ch.claims.at_paper("budget" if falling and others_ok else "paper"),
    )


def _claims_dynamics(ch, st: Study):
    t, steps = ch.tol, st.models.steps
    per_model, heads = st.dyn
    frac = settled_fraction(per_model, steps)
    settled = per_model["settled from"]
    late = "; ".join(
        f"{label(k)} settles at step {settled[k]:,.0f}"
        if settled[k] is not None and settled[k] == settled[k]
        else f"{label(k)} never settles (the pattern fails at the end)"
        for k in st.late
    )
    ch.claims.add(
        "pattern_early",
        "the pattern appears early and is preserved: latest settling step / training steps "
        "(H ≥ 2; a model that never settles counts as 1)",
        "Obs. 4, Fig. 5",
        frac.max(),
        t.early,
        kind="max",
        tol_origin=f"'early' read as within the first {t.early:.0%} of training (ours)",
        note_if_fail=f"{late}; the latest-settling runs are plotted.",
        finding=ch.claims.at_paper("paper"),
    )
    rise_fall = heads["interior peak"] & (heads["fall from peak"] >= t.fall)
    ch.claims.add(
        "omega_rise_fall",
        f"|ω_h| rises then falls: interior peak and ≥ {t.fall:.0%} fall (fraction of non-dummy heads, H ≥ 2)",
        "Obs. 4, Fig. 5",
        rise_fall.mean(),
        1.0,
        kind="min",
        target_origin="the paper (every positive or negative head)",
        tol_origin=f"a fall of at least {t.fall:.0%} from the peak (ours: one the snapshot grid cannot "
        "produce by noise)",
        note_if_fail="heads without it, per H: "
        + ", ".join(f"H={H}: {n}" for H, n in (~rise_fall).groupby(level="H").sum().items() if n)
        + f" (of {', '.join(str(n) for n in rise_fall.groupby(level='H').size())} non-dummy heads): "
        + "; ".join(
            f"{label((H, s))}, head {h}: peak {r['peak |ω_h|']:.3f} at step {r['peak step of |ω_h|']:,}, "
            f"final {r['final |ω_h|']:.3f} (fall {r['fall from peak']:.0%})"
            for (H, s, h), r in heads[~rise_fall].head(4).iterrows()
        )
        + (
            f". The other heads fall by {heads.loc[rise_fall, 'fall from peak'].min():.0%} to "
            f"{heads.loc[rise_fall, 'fall from peak'].max():.0%} from peaks of "
            f"{heads.loc[rise_fall, 'peak |ω_h|'].min():.2f} to {heads.loc[rise_fall, 'peak |ω_h|'].max():.2f}: "
            "the heads without the fall rise to about their final scale and stay there."
            if rise_fall.any()
            else "."
        ),
        finding=ch.claims.at_paper("paper"),
    )
    ch.claims.add(
        "mu_monotone",
        "|μ_h| rises monotonically once the pattern has settled: largest dip / final |μ_h| (worst head, H ≥ 2)",
        "Obs. 4, Fig. 5",
        heads["largest μ dip"].max(),
        t.dip,
        kind="max",
        tol_origin=f"'monotonically' read as never more than {t.dip:.0%} of the final value below the "
        "running maximum (ours)",
        note_if_fail=f"worst per H: {by_H(heads['largest μ dip'], '{:.3f}')}. Heads of one group with nearly "
        "equal |ω_h| can trade OV weight at almost no cost, so single μ_h may fall while the "
        "group's sum rises (next claim).",
        finding=ch.claims.at_paper("paper"),
    )
    ch.claims.add(
        "group_mu_monotone",
        "ours: each group's summed |Σ_{h∈±} μ_h| rises monotonically once the pattern "
        "has settled: largest dip (worst model, H ≥ 2)",
        "Obs. 4 (our refinement)",
        per_model["largest group-μ dip"].max(),
        t.dip,
        kind="max",
        tol_origin=f"as for single heads, {t.dip:.0%} of the final value (ours)",
        note_if_fail=f"worst per H: {by_H(per_model['largest group-μ dip'], '{:.3f}')}.",
        finding=ch.claims.at_paper("paper"),
    )


def claims(ch, st: Study):
    """Observations 1–4 over every model they concern (all seeds); the measured value is the worst."""
    _claims_pattern(ch, st)
    if st.models.multi:
        _claims_scales(ch, st)
        _claims_across_models(ch, st)
    claims_risk_at_L(ch, st)
    claims_risk_curves(ch, st)
    if st.models.multi:
        _claims_dynamics(ch, st)
