"""Chapter 01's analysis of one trained model: its effective parameters, its risk against the
debiased GD it should implement, and the claims of §3 that one model can check."""

from __future__ import annotations

from functools import cached_property

import torch

from ..book import style
from ..book.plotting import plot_circuits, plot_training_curve
from ..core import theory
from ..core.circuits import HeadPattern, dummy_heads, effective_rate, head_groups, sign_matching, zero_sum_ratio
from ..core.data import sample_prompts
from ..core.estimators import Risk, icl_risks
from ..runs.config import run_config
from ..runs.load import load_or_train

__all__ = ["configs", "Study", "numbers", "claims", "plot_model_circuits", "plot_training"]


def configs(ch) -> list:
    """The one model chapter 01 trains: `ch.budget.heads` heads, seed `ch.budget.seed`, at `ch.task`."""
    return [run_config(ch.prof, heads=ch.budget.heads, seed=ch.budget.seed, task=ch.task)]


class Study:
    """The chapter's one trained model, read the way §3 does with `ch`'s task and Monte Carlo
    budget (each part computed on first use)."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def prompt(self):
        """One prompt of the task (seeded by `ch.budget.seed`), in float64, for the token table."""
        return sample_prompts(self.ch.task, 1, torch.Generator().manual_seed(self.ch.budget.seed), dtype=torch.float64)

    @cached_property
    def run(self):
        """The trained model of `configs(ch)` (loaded from the cache, or trained)."""
        return load_or_train(configs(self.ch)[0], device=self.ch.device)

    @cached_property
    def pattern(self) -> HeadPattern:
        """The model's (ω_h, μ_h) and pattern metrics."""
        return self.run.pattern()

    @cached_property
    def eta_learned(self) -> float:
        """Σ_h ω_h μ_h."""
        return float(effective_rate(self.pattern.omega, self.pattern.mu))

    @cached_property
    def risk(self) -> Risk:
        """Monte Carlo ICL risk at L' = L (`ch.budget.mc_prompts` prompts, seed 123)."""
        return icl_risks({"model": self.run.predictor()}, self.ch.task, self.ch.budget.mc_prompts, seed=123)["model"]

    @cached_property
    def dgd_risk(self) -> float:
        """Exact risk of debiased GD at η_eff."""
        ch = self.ch
        return theory.dgd_risk(ch.eta_eff, ch.d, ch.L, ch.sigma2)


def numbers(st: Study) -> dict:
    """Every number the prose glues: the task, then the learned rate and the risks (keys "setup-…")."""
    ch = st.ch
    return {
        "setup-d": (ch.d, "{}"),
        "setup-L": (ch.L, "{}"),
        "setup-sigma2": (ch.sigma2, "{:g}"),
        "setup-eta-learned": (st.eta_learned, "{:.3f}"),
        "setup-eta-eff": (ch.eta_eff, "{:.3f}"),
        "setup-mu-sum": (float(st.pattern.mu.sum()), "{:.3f}"),
        "setup-risk-model": (st.risk, "{:.4f}"),
        "setup-risk-dgd": (st.dgd_risk, "{:.4f}"),
    }


def claims(ch, st: Study):
    """Obs. 1–3 as one model can check them; targets from `theory`, tolerances from `ch.tol`. Each repeats
    a claim of chapter 02 on this one model (one of 02's), so it is shown here and counted there
    (`same_as`)."""
    t, pat = ch.tol, st.pattern
    dummy = dummy_heads(pat.omega, pat.mu)
    obs = "02_observations/"
    ch.claims.add(
        "sign_matching",
        "this page's model has sign ω_h = sign μ_h in every non-dummy head",
        "Obs. 1",
        float(sign_matching(pat.omega, pat.mu, dummy)),
        1.0,
        kind="min",
        target_origin="the paper (every non-dummy head)",
        finding=ch.claims.at_paper("paper"),
        same_as=ch.claims.at_paper(obs + "sign_matching_all_models"),
    )
    ch.claims.add(
        "zero_sum_ov",
        "this page's model has zero-sum OV: |Σ_h μ_h| / Σ_h |μ_h| ≈ 0",
        "Obs. 2",
        float(zero_sum_ratio(pat.mu)),
        t.zero_sum,
        kind="max",
        tol_origin="'≈ 0' read as at most 5 % of the OV mass",
        finding=ch.claims.at_paper("paper"),
        same_as=ch.claims.at_paper(obs + "zero_sum_all_models"),
    )
    ch.claims.add(
        "eta_learned",
        "this page's model learns Σ_h ω_h μ_h ≈ η_eff = L/(L + d(1+σ²))",
        "§3, (4.3)",
        st.eta_learned,
        ch.eta_eff,
        tol=t.eta_rel,
        kind="rel",
        target_origin="(4.3), computed by theory.eta_eff",
        tol_origin="'≈' read as 3 %; the paper's own model has 2ωμ = 0.90, 2.4 % above η_eff",
        finding=ch.claims.at_paper("paper"),
        same_as=ch.claims.at_paper(obs + "eta_learned_all_models"),
    )
    ch.claims.add(
        "risk_matches_dgd",
        "this page's model's test risk at L' = L ≈ that of debiased GD at η_eff",
        "Obs. 3, Thm 4.2 (i)",
        st.risk.mean,
        st.dgd_risk,
        tol=t.risk_rel * st.dgd_risk + t.risk_se * st.risk.se,
        target_origin="ours: exact risk of debiased GD at η_eff, theory.dgd_risk",
        tol_origin=f"'≈' read as {t.risk_rel:.0%} of the target plus {t.risk_se:g} Monte Carlo s.e. "
        f"({st.risk.se:.4f}) of the model's risk",
        finding=ch.claims.at_paper("paper"),
        same_as=ch.claims.at_paper(obs + "risk_matches_dgd_all_heads"),
    )


def plot_model_circuits(st: Study):
    """The trained model's KQ and OV circuits (the paper's Fig. 1), each head named with its sign
    group (+, − or dummy, from its final ω_h and μ_h). Returns the figure."""
    ch, pat = st.ch, st.pattern
    groups = head_groups(pat.omega, pat.mu)
    labels = [f"head {h + 1} ({style.SIGN_NAME[int(g)]})" for h, g in enumerate(groups)]
    fig = plot_circuits(
        st.run.kq,
        st.run.ov,
        ch.d,
        head_labels=labels,
        title=f"{ch.budget.heads}-head softmax attention after {ch.prof.steps:,} Adam steps",
    )
    return fig


def plot_training(st: Study):
    """Training loss against Adam step, with debiased GD's exact risk (its reference style) and the
    risk 1 + σ² of predicting 0 (a grey level line) marked. Returns the figure."""
    fig = plot_training_curve(
        st.run.loss_curve(),
        {r"debiased GD at $\eta_{\mathrm{eff}}$ (exact risk)": st.dgd_risk},
        title="Training the model",
    )
    fig.set_size_inches(style.FULL_WIDTH - 0.1, 3.2)  # the axes as wide as the legend beside them allows
    ax = fig.axes[0]
    ax.get_lines()[0].set_label("training loss (log-binned mean)")
    style.reference(ax, 1 + st.ch.sigma2, kind="floor", label=r"$1+\sigma^2$ (predict 0)")
    style.legend_outside(ax)
    return fig
