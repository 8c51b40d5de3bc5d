"""Chapter 09's numbers (for the prose) and claims."""

from __future__ import annotations

import numpy as np

from ...book.budgets.ch01_setup import TOLERANCES as CH01
from ...core.circuits import sign_matching, zero_sum_ratio
from .analysis import Case, Study, beyond_tridiagonal, case_label, harmonic_rate, rel_distance, sin_angle

# --- numbers and claims ----------------------------------------------------------------------------


def _models(st: Study, case_id: str | None = None, exclude_iso: bool = True):
    return [
        (k, r)
        for k, r in st.readings.items()
        if (case_id is None or k[0] == case_id) and not (exclude_iso and k[0] == "iso")
    ]


def _role(st: Study, c: Case) -> str:
    """The prose's name of a case: k1, k2, … (the KMS ρ in budget order), diag, iso."""
    if c.id in ("iso",) or c.id.startswith("diag"):
        return c.id[:4] if c.id != "iso" else "iso"
    return f"k{[x.id for x in st.cases if x.id.startswith('kms')].index(c.id) + 1}"


def numbers(st: Study) -> dict:
    """Every number the prose quotes (keys `noniso-…`)."""
    ch, c0, dist, risks = st.ch, st.cases[0], st.dist, st.risks
    paper, other = _residuals(st)
    iso = [r.residual[~r.dummy].max() for _, r in _models(st, "iso", exclude_iso=False)]
    out = {
        "noniso-rho": (c0.task.rho, "{:g}"),
        "noniso-rhos": ", ".join(f"{r:g}" for r in ch.budget.rhos),
        "noniso-d": (ch.d, "{:d}"),
        "noniso-L": (ch.L, "{:d}"),
        "noniso-sigma2": (ch.sigma2, "{:g}"),
        "noniso-seeds": (len(ch.budget.seeds), "{:d}"),
        "noniso-other-seeds": (len(ch.budget.other_seeds), "{:d}"),
        "noniso-steps": (ch.prof.steps, "{:,}"),
        "noniso-budget": ch.budget_note(),
        "noniso-residual-paper": (paper, "{:.3f}"),
        "noniso-residual-other": (np.nan if other is None else other, "{:.3f}"),
        "noniso-residual-other-reading": f"at most {ch.tol.small:g} as well, "
        'so every model\'s heads share one shape (column "max head residual" '
        "of the table)"
        if other is not None and other <= ch.tol.small
        else 'the column "max head residual" of the table says which models have heads of different shapes, '
        "whose μ-weighted sum is still the matrix compared below",
        "noniso-residual-iso": (max(iso), "{:.3f}"),
    }
    for c in st.cases:
        role = _role(st, c)
        sub = dist[dist.case == case_label(c.id)]
        for col, key in (
            ("sin∠(Γ_TF, Γ_dGD)", "opt"),
            ("sin∠(Γ_TF, Σ⁻¹)", "sinv"),
            ("sin∠(Γ_TF, I)", "id"),
            ("‖Γ_TF − Γ_dGD‖/‖Γ_dGD‖", "rel"),
            ("sin∠(Γ_TF, Γ* vanilla)", "vanilla"),
        ):
            out[f"noniso-{role}-{key}"] = (float(sub[col].mean()), "{:.3f}")
        out[f"noniso-{role}-name"] = case_label(c.id)
        out[f"noniso-{role}-ref-gap"] = (float(sub["sin∠(Γ_dGD, Σ⁻¹)"].iloc[0]), "{:.3f}")
        closer = (sub["sin∠(Γ_TF, Γ_dGD)"] < np.minimum(sub["sin∠(Γ_TF, Σ⁻¹)"], sub["sin∠(Γ_TF, I)"])).sum()
        out[f"noniso-{role}-closer"] = f"{closer} of {len(sub)}"
        rs = risks[risks.case == case_label(c.id)]
        for col, key in (
            ("model", "model"),
            ("dGD with Γ_TF", "tf"),
            ("dGD with Γ_dGD", "opt"),
            ("plain dGD (best η)", "plain"),
            ("Bayes", "bayes"),
            ("dGD with ηΣ⁻¹", "sinv"),
        ):
            out[f"noniso-{role}-risk-{key}"] = (float(rs[col].mean()), "{:.4f}")
    out.update(_pattern_numbers(st))
    out["noniso-lengths"] = ", ".join(str(int(x)) for x in st.curves.lengths)
    ex = st.curves.exact
    out["noniso-curve-gap-first"] = (ex["plain"][0] / ex["opt"][0] - 1, "{:.1%}")
    out["noniso-curve-gap-last"] = (ex["plain"][-1] / ex["opt"][-1] - 1, "{:.1%}")
    out["noniso-curve-sinv-first"] = (ex["sigma_inv"][0] / ex["opt"][0] - 1, "{:.1%}")
    return out


def _pattern_numbers(st: Study) -> dict:
    """§5.3's pattern numbers: OV x-part, KQ against I, OV magnitude and rate against ρ = 0, beyond the tridiagonal."""
    nan = float("nan")
    kms = [c for c in st.cases if c.id.startswith("kms")]
    reads = [st.readings[(c.id,) + k] for c in kms for k in c.runs]
    iso = [r for _, r in _models(st, "iso", exclude_iso=False)]
    out = {
        "noniso-ovx": (max(float(r.ov_x[~r.dummy].max()) for _, r in _models(st)), "{:.3f}"),
        "noniso-notid-min": (min((float(r.not_identity[~r.dummy].min()) for r in reads), default=nan), "{:.2f}"),
        "noniso-notid-iso": (max((float(r.not_identity.max()) for r in iso), default=nan), "{:.3f}"),
        "noniso-eta-eff": (st.ch.eta_eff, "{:.3f}"),
    }
    mag = _ov_magnitudes(st)
    k1, iso_mu, other = mag if mag else (nan, nan, {})
    out["noniso-mu-k1"], out["noniso-mu-iso"] = (k1, "{:.2f}"), (iso_mu, "{:.2f}")
    out["noniso-mu-ratio"] = (k1 / iso_mu, "{:.2f}")
    out["noniso-mu-others"] = ", ".join(f"{m / iso_mu:.2f} at {case_label(c)}" for c, m in other.items()) or "none"
    r = _rates(st) or dict.fromkeys(("k1", "iso", "harmonic", "opt"), nan)
    for k in ("k1", "iso", "harmonic", "opt"):
        out[f"noniso-rate-{k}"] = (r[k], "{:.3f}")
    b = [beyond_tridiagonal(st.readings[(c.id,) + k].gamma, c.refs()["opt"]) for c in kms for k in c.runs]
    out["noniso-beyond-closer"] = (max((x[0] for x in b), default=nan), "{:+.2f}")
    out["noniso-beyond-small"] = (max((x[1] for x in b), default=nan), "{:.3f}")
    out["noniso-beyond-opt"] = ", ".join(
        f"{beyond_tridiagonal(c.refs()['opt'], c.refs()['opt'])[1]:.3f} at {case_label(c.id)}" for c in kms
    )
    return out


def _residuals(st: Study):
    """Worst non-dummy head residual in the paper's setting (H = 2, first KMS ρ) and in every other
    non-isotropic model (None if there is none)."""
    first = st.cases[0].id

    def worst(keep):
        return [float(r.residual[~r.dummy].max()) for k, r in _models(st) if keep(k)]

    paper, other = worst(lambda k: k[0] == first and k[1] == 2), worst(lambda k: not (k[0] == first and k[1] == 2))
    return max(paper), (max(other) if other else None)


def claims(ch, st: Study):
    """§5.3's claims with the tolerances of `icl.book.budgets.ch09_non_isotropic` (and chapter 01's rate)."""
    t, cl = ch.tol, ch.claims
    models = _models(st)
    sm = min(float(sign_matching(r.omega_t, r.mu, r.dummy)) for _, r in models)
    cl.add(
        "sign_matching",
        "sign matching persists: sign ω̃_h = sign μ_h in every non-dummy head of every model",
        "§5.3",
        sm,
        1.0,
        kind="min",
        target_origin="the paper: 'The properties of sign-matching and zero-sum OV still hold' (every non-dummy head)",
        note="ω̃_h: the head's KQ x-block projected on Γ_TF's direction",
        finding="paper",
    )
    zs = max(float(zero_sum_ratio(r.mu)) for _, r in models)
    cl.add(
        "zero_sum_ov",
        "zero-sum OV persists: worst |Σ μ_h| / Σ |μ_h| over the models",
        "§5.3, (5.3)",
        zs,
        t.zero_sum,
        kind="max",
        target_origin="the paper: 'The properties of sign-matching and zero-sum OV still hold'",
        tol_origin="chapter 01's reading of '≈ 0': at most 5 % of the OV mass",
        finding="paper",
    )
    _ov_claims(ch, st)
    _kq_claims(ch, st)
    for c in st.cases:
        if c.id == "iso":
            continue
        _case_claims(ch, st, c)
    _iso_claim(ch, st)


def _two_head(st: Study, case_id: str) -> list:
    """The two-head models of a case (the paper's model), RunReadings."""
    return [r for k, r in st.readings.items() if k[0] == case_id and k[1] == 2]


def _ov_claims(ch, st: Study):
    """OV: the pattern of Obs. 1 (x-part ≈ 0) and the magnitude of the isotropic case."""
    t, cl = ch.tol, ch.claims
    ovx = max(float(r.ov_x[~r.dummy].max()) for _, r in _models(st))
    cl.add(
        "ov_last_entry_only",
        "the OV pattern of Obs. 1 persists: every live head writes the prediction from the y entry only, its OV "
        "x-part ≈ 0 (largest entry / |μ_h|, worst head of every non-isotropic model)",
        "§5.3",
        ovx,
        t.small,
        kind="max",
        target_origin="the paper: 'the pattern of the OV circuits as in Observation 1 in §3 persists'",
        tol_origin="chapter 02's reading of 'OV x-part ≈ 0' (its ov_x_part_zero): at most |μ_h|/5",
        finding="paper",
    )
    mag = _ov_magnitudes(st)
    if mag is None:
        return
    k1, iso, other = mag
    cl.add(
        "ov_magnitude_as_isotropic",
        f"the OV magnitude is roughly that of the isotropic case: mean |μ_h| of the two-head models at "
        f"{case_label(st.cases[0].id)} against that of the isotropic two-head models (same budget)",
        "§5.3",
        k1,
        iso,
        tol=t.small,
        kind="rel",
        target_origin="the paper: 'the magnitude of the OV circuits is roughly the same as in the isotropic case'; "
        "ours: the isotropic two-head models' mean |μ_h| (chapter 02's models, this budget)",
        tol_origin="'roughly the same' read as within 1/5 (chapter 02's one reading of '≈' in the pattern (3.1))",
        note="The other covariances' two-head models: "
        + ", ".join(f"{case_label(c)} {m / iso:.2f}×" for c, m in other.items())
        + " the isotropic mean |μ_h|.",
        finding="paper",
    )


def _ov_magnitudes(st: Study):
    """Mean |μ_h| over the live heads of the two-head models: first case, isotropic, and every other case
    (id → value); None without two-head models in the first case or the isotropic check."""

    def mean_mu(reads):
        return float(np.mean([np.abs(r.mu[~r.dummy]).mean() for r in reads]))

    first, iso = _two_head(st, st.cases[0].id), _two_head(st, "iso")
    if not first or not iso:
        return None
    others = {c.id: _two_head(st, c.id) for c in st.cases[1:] if c.id != "iso"}
    return mean_mu(first), mean_mu(iso), {k: mean_mu(v) for k, v in others.items() if v}


def _rates(st: Study):
    """Mean Σ_h ω_h μ_h of the two-head models at the first KMS ρ and at ρ = 0, their mean d / tr Γ_TF⁻¹, and the
    optimal Γ_dGD's tr / d there (None without two-head models in both)."""
    first, iso = _two_head(st, st.cases[0].id), _two_head(st, "iso")
    if not first or not iso:
        return None
    opt = st.cases[0].refs()["opt"]
    return {
        "k1": float(np.mean([r.rate for r in first])),
        "iso": float(np.mean([r.rate for r in iso])),
        "harmonic": float(np.mean([harmonic_rate(r.gamma) for r in first])),
        "opt": float(np.trace(opt) / len(opt)),
        "eta": float(st.ch.eta_eff),
    }


def _kq_claims(ch, st: Study):
    """KQ: no longer ∝ I, one common pre-conditioner, the rate, App. A.2's entries beyond the tridiagonal."""
    t, cl = ch.tol, ch.claims
    kms = [c for c in st.cases if c.id.startswith("kms")]
    reads = [r for c in kms for r in (st.readings[(c.id,) + k] for k in c.runs)]
    iso = [r for _, r in _models(st, "iso", exclude_iso=False)]
    if reads:
        cl.add(
            "kq_not_identity",
            "the diagonal KQ pattern disappears: at every KMS ρ each live head's KQ x-block is far from a multiple "
            "of I_d, max(diagonal spread, largest |off-diagonal entry|) / |ω_h| (smallest over heads and models)",
            "§5.3, Fig. 12",
            min(float(r.not_identity[~r.dummy].min()) for r in reads),
            t.small,
            kind="min",
            target_origin="the paper: 'the diagonal pattern of the KQ circuits disappears', 'they are no longer "
            "proportional to an identity matrix'"
            + (
                f"; the isotropic models' heads measure at most {max(r.not_identity.max() for r in iso):.3f}"
                if iso
                else ""
            ),
            tol_origin="the complement of chapter 02's reading of 'W_h ∝ I_d' (its kq_x_block_identity): both "
            "at most |ω_h|/5 there",
            finding="paper",
        )
    paper, other = _residuals(st)
    small = "chapter 02's reading of '≈' in the pattern (3.1): off by at most 1/5 of the scale"
    cl.add(
        "common_preconditioner",
        f"two heads at {case_label(st.cases[0].id)} (the paper's setting) share one "
        "pre-conditioner up to sign and scale, A_h ≈ ω̃_h Γ: worst ‖A_h − ω̃_h Ĝ‖_F/‖A_h‖_F",
        "§5.3, (5.3), App. A.2",
        paper,
        t.small,
        kind="max",
        target_origin="the paper: 'the learned weight matrices can be written as (5.3)', the two heads ±ωΓ",
        tol_origin=small,
        finding="paper",
    )
    if other is not None:
        cl.add(
            "common_preconditioner_beyond",
            "every other non-isotropic model (ours: more heads, the other ρ, the diagonal Σ) also has heads that "
            "share one pre-conditioner up to sign and scale: worst ‖A_h − ω̃_h Ĝ‖_F/‖A_h‖_F",
            "§5.3, (5.3)",
            other,
            t.small,
            kind="max",
            target_origin="the paper's (5.3), carried to our other models",
            tol_origin=small,
            note_if_fail="The heads' KQ blocks differ from one another; only their μ-weighted sum Γ_TF is "
            "(close to) the optimal pre-conditioner (claims closer_to_optimal_*).",
            finding="paper",
        )
    _rate_claim(ch, st)
    if kms:
        _tridiagonal_claims(ch, st, kms)


def _rate_claim(ch, st: Study):
    r = _rates(st)
    if r is None:
        return
    ch.claims.add(
        "eta_eff_as_isotropic",
        "the effective learning rate 2ωμ is the same as in the isotropic case: Σ_h ω_h μ_h (ω_h the mean "
        f"diagonal of A_h, as the isotropic chapters read it, so tr Γ_TF / d) of the two-head models at "
        f"{case_label(st.cases[0].id)} against that of the isotropic two-head models",
        "§5.3, (5.5)",
        r["k1"],
        r["iso"],
        tol=CH01.eta_rel,
        kind="rel",
        target_origin="the paper: 'Thus, the effective learning rate, 2ωμ, is the same as in the isotropic case'; "
        f"ours: the isotropic two-head models' Σ_h ω_h μ_h (η_eff = {r['eta']:.4f})",
        tol_origin=f"chapter 01's reading of '2ωμ ≈ η_eff': {CH01.eta_rel:.0%}",
        note=f"The optimal Γ_dGD has tr Γ_dGD / d = {r['opt']:.4f}; the models' d / tr Γ_TF⁻¹ is {r['harmonic']:.4f} "
        f"(Γ_dGD's: η_eff = {r['eta']:.4f}).",
        note_if_fail="The words fix no normalisation of Γ in (5.3), and the value of 2ωμ depends on it. With ω_h "
        f"read as the mean diagonal the models' rate is {r['k1'] / r['opt'] - 1:+.1%} from the optimal Γ_dGD's "
        f"tr / d and {r['k1'] / r['iso'] - 1:+.1%} from the isotropic models'. Normalised instead so that Γ⁻¹ has "
        f"unit mean diagonal, as Σ, the rate is d / tr Γ_TF⁻¹, {r['harmonic'] / r['eta'] - 1:+.1%} from η_eff, "
        "which is Γ_dGD's rate exactly under that normalisation (tr Σ = d).",
        finding="reading",
    )


def _tridiagonal_claims(ch, st: Study, kms):
    """App. A.2: Γ_TF's entries beyond the tridiagonal (where Σ⁻¹ is zero) are small, and Γ_dGD's rather than zeros."""
    t, cl = ch.tol, ch.claims
    per = {c.id: [beyond_tridiagonal(st.readings[(c.id,) + k].gamma, c.refs()["opt"]) for k in c.runs] for c in kms}
    opt_small = {c.id: beyond_tridiagonal(c.refs()["opt"], c.refs()["opt"])[1] for c in kms}
    which = "which entries our copy lost; we take all |i − j| ≥ 2"
    cl.add(
        "beyond_tridiagonal_small",
        "beyond the tridiagonal (|i − j| ≥ 2), where the KMS Σ⁻¹ is zero, Γ_TF's entries are very small: "
        "largest |entry| there / largest |entry| of Γ_TF (worst KMS model)",
        "App. A.2, Fig. 12",
        max(b[1] for v in per.values() for b in v),
        t.small,
        kind="max",
        target_origin=f"the paper: the learned matrices 'exhibit very small values' beyond the tridiagonal ({which}); "
        "the optimal Γ_dGD's own ratio: " + ", ".join(f"{opt_small[k]:.3f} ({case_label(k)})" for k in per),
        tol_origin="'very small' read as at most 1/5 of the largest entry (chapter 02's reading of '≈ 0')",
        finding="paper",
    )
    cl.add(
        "beyond_tridiagonal_as_optimal",
        "those entries are not zeros, as Σ⁻¹'s, but the small values of the optimal Γ_dGD: (‖B(aΓ_TF) − B(Γ_dGD)‖_F "
        "− ‖B(aΓ_TF)‖_F) / ‖B(Γ_dGD)‖_F, B the entries beyond the tridiagonal, a Γ_TF's scale onto Γ_dGD (below 0: "
        "closer to Γ_dGD's values than to zeros; −1 at Γ_dGD, +1 at Σ⁻¹), worst KMS model",
        "App. A.2, Fig. 12",
        max(b[0] for v in per.values() for b in v),
        0.0,
        kind="max",
        target_origin="the paper: 'This indicates that the trained model does not strictly implement pre-conditioned "
        "GD using Σ⁻¹. In comparison, the adjusted Γ* … also exhibits small values beyond the tridiagonal entries'; "
        "ours: Γ_dGD (derived above) in the place of Γ*",
        tol_origin="a strict comparison ('closer')",
        finding="paper",
    )


def _case_claims(ch, st, c):
    t, cl, refs = ch.tol, ch.claims, c.refs()
    reads = [r for _, r in _models(st, c.id)]
    d_opt = max(sin_angle(r.gamma, refs["opt"]) for r in reads)
    d_alt = min(min(sin_angle(r.gamma, refs["sigma_inv"]), sin_angle(r.gamma, refs["identity"])) for r in reads)
    cl.add(
        f"closer_to_optimal_{c.id}",
        f"{case_label(c.id)}: Γ_TF is closer in shape to the optimal Γ_dGD than to "
        "Σ⁻¹ and to I (worst model's sin∠ to Γ_dGD ≤ best model's sin∠ to Σ⁻¹ or I)",
        "§5.3, Fig. 12",
        d_opt,
        d_alt,
        kind="max",
        target_origin="the paper: 'A closer examination of Figure 12 shows that Γ is closer to Γ* than Σ⁻¹' "
        "(Γ* of (5.6)); ours: Γ_dGD, the debiased counterpart (derived; Monte Carlo checked in the unit tests)",
        tol_origin="a strict comparison ('closer')",
        note_if_fail=f"Γ_dGD and Σ⁻¹ differ by sin∠ = {sin_angle(refs['opt'], refs['sigma_inv']):.3f} only: "
        "at this budget the learned shape does not resolve them.",
        finding="paper",
    )
    rs = st.risks[st.risks.case == case_label(c.id)]
    target = st.exact[c.id]["opt"]
    i = int(np.argmax(np.abs(rs.model.values - target)))
    m, se = float(rs.model.values[i]), float(rs["± s.e."].values[i])
    cl.add(
        f"risk_matches_pdgd_{c.id}",
        f"{case_label(c.id)}: every model's risk at L' = L ≈ pre-conditioned "
        "debiased GD's with the optimal Γ_dGD (the farthest model shown)",
        "§5.3, (5.5)–(5.6)",
        m,
        target,
        tol=t.risk_rel * target + t.risk_se * se,
        target_origin="the paper: (5.4) 'is close to a pre-conditioned version of the debiased GD', 'we conjecture "
        "that Γ is close to Γ*'; ours: exact risk of dGD with Γ_dGD (pdgd_risk)",
        tol_origin=f"chapter 01's reading of '≈': {t.risk_rel:.0%} of the target plus {t.risk_se:g} s.e. ({se:.4f}) "
        "of the model's risk (the target is exact)",
        finding="paper",
    )
    j = int(np.argmax(rs.model.values))
    worst, se_w, plain = float(rs.model.values[j]), float(rs["± s.e."].values[j]), st.exact[c.id]["plain"]
    cl.add(
        f"beats_plain_dgd_{c.id}",
        f"{case_label(c.id)}: every model beats plain debiased GD at its optimal "
        "rate by more than the Monte Carlo error (worst model)",
        "§5.3",
        worst,
        plain - t.risk_se * se_w,
        kind="max",
        target_origin="the paper: 'multi-head attention learns to implement a pre-conditioned gradient descent "
        f"predictor'; ours: exact risk of dGD with the best ηI, less {t.risk_se:g} s.e. of the model's risk",
        tol_origin="a strict comparison after the Monte Carlo margin",
        note_if_fail=f"The optimal Γ_dGD itself gains only {plain - st.exact[c.id]['opt']:.4f} over plain dGD here.",
        finding="paper",
    )


def _iso_claim(ch, st):
    reads = [r for _, r in _models(st, "iso", exclude_iso=False)]
    c = next(c for c in st.cases if c.id == "iso")
    opt = c.refs()["opt"]
    worst = max(rel_distance(r.gamma, opt) for r in reads)
    ch.claims.add(
        "isotropic_limit",
        "at ρ = 0 the two-head models (chapter 02's) implement the isotropic case's debiased GD at η_eff: "
        "Γ_TF ≈ η_eff I (worst ‖Γ_TF − η_eff I‖_F/‖η_eff I‖_F)",
        "§5.3, §3, (4.3)",
        worst,
        ch.tol.small,
        kind="max",
        target_origin="the paper's isotropic case, (4.3): W_h ≈ ±ω I_d and 2ωμ ≈ η_eff; ours: Γ_dGD at Σ = I is "
        "η_eff I (a unit test)",
        tol_origin="chapter 02's reading of '≈' in the pattern (3.1): off by at most 1/5 of the scale",
        note="These are chapter 02's two-head models (the same configurations). Their rate, tr Γ_TF / d = "
        "Σ_h ω_h μ_h ≈ η_eff, is chapter 02's eta_learned_all_models, their shape ∝ I its kq_x_block_identity; "
        "shown here as the check that this chapter's reading of a pre-conditioner gives η_eff I at ρ = 0.",
        finding="paper",
        same_as="02_observations/eta_learned_all_models",
    )
