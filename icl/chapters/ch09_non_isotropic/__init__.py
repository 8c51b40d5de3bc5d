"""Chapter 09 (§5.3, App. A.2, App. E.3): non-isotropic covariates x ~ N(0, Σ), and the
pre-conditioned debiased GD that multi-head attention learns.

The formulas (ours, derived in the chapter; unit tests in `tests/chapters/test_ch09_non_isotropic.py`):

- Circuits. Head h's KQ x-block A_h = W_h[:d, :d] (key × query) and its OV y-entry μ_h. With the
  key-y row and the OV x-part ≈ 0, the logits are x_lᵀ A_h x_q; a first-order expansion of the
  softmax in small A_h gives ŷ ≈ (Σ_h μ_h) ȳ + (1/L) Σ_l y_l (x_l − x̄)ᵀ Γ_TF x_q with

      Γ_TF = Σ_h μ_h A_h                                                       (our (5.5))

  so, with zero-sum OV, debiased GD pre-conditioned by Γ_TF (the rate is inside Γ_TF).
- Exact risk of pre-conditioned debiased GD ŷ = (1/L) Σ_l y_l (x_l − x̄)ᵀ Γ x_q, β ~ N(0, I/d),
  n = L − 1 (XᵀPX is Wishart(Σ, n), E[W²] = n(n+1)Σ² + n tr Σ · Σ):

      R(Γ) = σ² + tr Σ / d − 2 (n/(Ld)) tr(Σ Γᵀ Σ) + (n/(L²d)) tr(Σ Γᵀ [LΣ² + (tr Σ + dσ²) Σ] Γ)

- Its minimiser (the debiased counterpart of App. E.3, Lemma E.4):

      Γ_dGD = (Σ + ((tr Σ + dσ²)/L) I)⁻¹        (Σ = I: η_eff I; vanilla: `theory.gamma_star`)

- Shapes are compared by the sine of the Frobenius angle, sin∠(G, R) = min_a ‖G − aR‖_F / ‖G‖_F
  (scale-free), the learned rate by ‖Γ_TF − Γ_dGD‖_F / ‖Γ_dGD‖_F.
- The rate 2ωμ of (5.5) depends on how Γ is normalised: Σ_h ω_h μ_h = tr Γ_TF / d with ω_h the mean
  diagonal (the isotropic chapters' reading), or d / tr Γ_TF⁻¹ (`harmonic_rate`: Γ⁻¹ of unit mean
  diagonal, as Σ; Γ_dGD then has rate η_eff exactly when tr Σ = d).
- App. A.2's entries beyond the tridiagonal (where the KMS Σ⁻¹ is zero): `beyond_tridiagonal`.

Cases are keyed by ids ("kms05", "kms08", "diag05", "iso"); display names live in `case_label`.
The chapter's public face (`icl.chapters`): `Study`, `numbers`, `claims` (`report`), `plot_gammas`,
`plot_risk_curves` (`figures`), `configs`; the formulas and the Study are in `analysis`.
"""

from .analysis import (
    Case,
    Curves,
    RunReading,
    Study,
    best_scale,
    beyond_tridiagonal,
    case_label,
    configs,
    gamma_dgd_opt,
    gamma_tf,
    harmonic_rate,
    head_alignment,
    kq_blocks,
    make_cases,
    mc_optimal_gamma,
    pdgd_risk,
    read_run,
    rel_distance,
    sin_angle,
)
from .figures import plot_gammas, plot_risk_curves
from .report import claims, numbers

__all__ = [
    "gamma_dgd_opt",
    "pdgd_risk",
    "best_scale",
    "mc_optimal_gamma",
    "kq_blocks",
    "gamma_tf",
    "head_alignment",
    "sin_angle",
    "rel_distance",
    "beyond_tridiagonal",
    "harmonic_rate",
    "Case",
    "RunReading",
    "make_cases",
    "configs",
    "read_run",
    "Study",
    "Curves",
    "plot_gammas",
    "plot_risk_curves",
    "numbers",
    "claims",
    "case_label",
]
