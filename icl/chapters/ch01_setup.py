"""Chapter 01's analysis of one trained model: its effective parameters, its risk against the
debiased GD it should implement, and the claims of §3 that one model can check."""

from __future__ import annotations

from dataclasses import dataclass

from ..core import theory
from ..core.circuits import HeadPattern, dummy_heads, effective_rate, sign_matching, zero_sum_ratio
from ..core.estimators import Risk, icl_risks

__all__ = ["Summary", "summarise", "glue_summary", "add_claims"]


@dataclass(frozen=True)
class Summary:
    """pattern: the model's (ω_h, μ_h) and pattern metrics; eta_learned: Σ_h ω_h μ_h;
    risk: Monte Carlo ICL risk at L' = L; dgd_risk: exact risk of debiased GD at η_eff."""

    pattern: HeadPattern
    eta_learned: float
    risk: Risk
    dgd_risk: float


def configs(ch) -> list:
    """The one model chapter 01 trains: `ch.budget.heads` heads, seed `ch.budget.seed`, at `ch.task`."""
    from ..runs.config import run_config

    return [run_config(ch.prof, heads=ch.budget.heads, seed=ch.budget.seed, task=ch.task)]


def summarise(run, ch, seed: int = 123) -> Summary:
    """Read the trained `run` the way §3 does, with `ch`'s task and Monte Carlo budget."""
    pat = run.pattern()
    risk = icl_risks({"model": run.predictor()}, ch.task, ch.budget.mc_prompts, seed=seed)["model"]
    return Summary(pat, float(effective_rate(pat.omega, pat.mu)), risk, theory.dgd_risk(ch.eta_eff, ch.d, ch.L, ch.sigma2))


def glue_summary(ch, s: Summary):
    ch.glue("setup-eta-learned", s.eta_learned)
    ch.glue("setup-eta-eff", ch.eta_eff)
    ch.glue("setup-mu-sum", float(s.pattern.mu.sum()))
    ch.glue("setup-risk-model", s.risk, "{:.4f}")
    ch.glue("setup-risk-dgd", s.dgd_risk, "{:.4f}")


def add_claims(ch, s: Summary):
    """Obs. 1–3 as one model can check them; targets from `theory`, tolerances from `ch.tol`."""
    t, pat = ch.tol, s.pattern
    dummy = dummy_heads(pat.omega, pat.mu)
    ch.claims.add("sign_matching", "sign ω_h = sign μ_h in every non-dummy head", "Obs. 1",
                  float(sign_matching(pat.omega, pat.mu, dummy)), 1.0, kind="min",
                  target_origin="the paper (every non-dummy head)")
    ch.claims.add("zero_sum_ov", "zero-sum OV: |Σ μ_h| / Σ |μ_h| small", "Obs. 2", float(zero_sum_ratio(pat.mu)),
                  t.zero_sum, kind="max", tol_origin="'≈ 0' read as at most 5 % of the OV mass")
    ch.claims.add("eta_learned", "Σ_h ω_h μ_h ≈ η_eff = L/(L + d(1+σ²))", "§3, (4.3)", s.eta_learned, ch.eta_eff,
                  tol=t.eta_rel, kind="rel", target_origin="(4.3), computed by theory.eta_eff",
                  tol_origin="'≈' read as 3 %; the paper's own model has 2ωμ = 0.90, 2.4 % above η_eff")
    ch.claims.add("risk_matches_dgd", "test risk at L' = L ≈ debiased GD's at η_eff", "Obs. 3, Thm 4.2 (i)",
                  s.risk.mean, s.dgd_risk, tol=t.risk_rel * s.dgd_risk + t.risk_se * s.risk.se,
                  target_origin="ours: exact risk of debiased GD at η_eff, theory.dgd_risk",
                  tol_origin=f"'≈' read as {t.risk_rel:.0%} of the target plus {t.risk_se:g} Monte Carlo s.e. "
                             f"({s.risk.se:.4f}) of the model's risk")
