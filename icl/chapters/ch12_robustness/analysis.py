"""Chapter 12's Study: every configuration's models read as the paper reads its own (pattern, rate, risk),
and the spread of ω against that of Σ_h ω_h μ_h across the training choices (§4.1)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ...core import theory
from ...core.circuits import dummy_heads, pattern_holds, pattern_summary
from ...core.estimators import icl_risk
from ...runs.load import load_or_train_many
from .grid import CONFIGURATIONS, choose_lr, config_for, configuration_ids, probe_table
from .ood import OOD

MODEL_COLUMNS = [
    "id",
    "configuration",
    "factor",
    "H",
    "seed",
    "pattern",
    "sign matching",
    "zero-sum",
    "homogeneity",
    "ω",
    "μ",
    "Σωμ",
    "η_eff",
    "risk",
    "± s.e.",
    "dGD",
]


def read_model(run) -> dict:
    """One trained model as the paper reads it: the pattern, ω and μ (mean |·| over live heads), Σ_h ω_h μ_h.
    A model without a live head (nothing learned) has pattern False and NaN elsewhere."""
    p = run.pattern()
    out = {"pattern": bool(pattern_holds(p.omega, p.mu)), "omega_h": p.omega, "mu_h": p.mu}
    try:
        s = pattern_summary(run.kq, run.ov, run.config.task.d)
    except ValueError:
        return {**out, "sign matching": np.nan, "zero-sum": np.nan, "homogeneity": np.nan, "ω": np.nan,
                "μ": np.nan, "Σωμ": float(np.sum(p.omega * p.mu))}  # fmt: skip
    live = ~dummy_heads(p.omega, p.mu)
    return {
        **out,
        "sign matching": s["sign_match"],
        "zero-sum": s["zero_sum"],
        "homogeneity": s["omega_spread"],
        "ω": float(np.abs(p.omega[live]).mean()),
        "μ": float(np.abs(p.mu[live]).mean()),
        "Σωμ": s["eta"],
    }


@dataclass
class Study:
    """Chapter 12's models and their readings (lazy: each property computes once)."""

    ch: object

    @cached_property
    def ids(self) -> list[str]:
        return configuration_ids(self.ch)

    @cached_property
    def keys(self) -> list[tuple]:
        """(configuration id, H, seed) of every model, in `grid.configs` order."""
        b = self.ch.budget
        return [(cid, H, s) for cid in self.ids for H in b.heads for s in b.seeds]

    @cached_property
    def runs(self) -> dict:
        cfgs = [config_for(self.ch, *k) for k in self.keys]
        return dict(zip(self.keys, load_or_train_many(cfgs, device=self.ch.device, progress=True)))

    @cached_property
    def probes(self) -> pd.DataFrame:
        """The learning-rate probes of the budget's optimisers (`grid.probe_table`; on the CPU, bit-reproducible)."""
        return probe_table(self.ch, device="cpu")

    @cached_property
    def chosen(self) -> dict:
        """The rule's rate per optimiser on this page's probes (`grid.choose_lr`)."""
        return choose_lr(self.probes) if len(self.probes) else {}

    @cached_property
    def ood(self) -> OOD:
        """The reference models of `ood_heads` on shifted prompts."""
        b = self.ch.budget
        runs = {
            (H, s): self.runs[("reference", H, s)]
            for H in b.ood_heads
            for s in b.seeds
            if ("reference", H, s) in self.runs
        }
        if not runs:
            raise ValueError(
                f"ood_heads {b.ood_heads} must be among heads {b.heads} (the reference models read off distribution)"
            )
        return OOD(self.ch, runs)

    @cached_property
    def models(self) -> pd.DataFrame:
        """One row per model: its configuration, pattern, ω, μ, Σωμ, η_eff at its task, risk (Monte Carlo at
        L' = L) and debiased GD's exact risk at η_eff (its own d, L, σ²; any prior with covariance I/d)."""
        b, rows = self.ch.budget, []
        for k, run in self.runs.items():
            cid, H, seed = k
            t = run.config.task
            eta = theory.eta_eff(t.d, t.L, t.sigma2)
            r = icl_risk(run.predictor(), t, b.claim_prompts, seed=b.seed)
            rd = read_model(run)
            rows.append(
                {
                    "id": cid,
                    "configuration": CONFIGURATIONS[cid].label,
                    "factor": CONFIGURATIONS[cid].factor,
                    "H": H,
                    "seed": seed,
                    **{c: rd[c] for c in ("pattern", "sign matching", "zero-sum", "homogeneity", "ω", "μ", "Σωμ")},
                    "η_eff": eta,
                    "risk": r.mean,
                    "± s.e.": r.se,
                    "dGD": float(theory.dgd_risk(eta, t.d, t.L, t.sigma2)),
                }
            )
        return pd.DataFrame(rows, columns=MODEL_COLUMNS)

    @cached_property
    def choices(self) -> pd.DataFrame:
        """The models of the training choices: the task, and so η_eff, the paper's."""
        return self.models[self.models.id.map(lambda c: CONFIGURATIONS[c].training_choice)]

    @cached_property
    def learned(self) -> pd.DataFrame:
        """The models of the training choices (the task, so η_eff, the paper's) that show the pattern: §4.1
        speaks of where training stops in the valley, which a model still on the plateau has not reached."""
        return self.choices[self.choices.pattern]

    @cached_property
    def spreads(self) -> pd.DataFrame:
        """§4.1 per head count, across the training choices (optimiser, rate, batch, initialisation; the
        task and so η_eff fixed; models with the pattern, `learned`): the spread (max − min)/median over
        configurations of the seed-mean ω and Σωμ, and the largest such spread over seeds within one configuration."""
        return spreads(self.learned)

    @cached_property
    def spreads_all(self) -> pd.DataFrame:
        """The same over every model of the training choices, with or without the pattern (the first reading)."""
        return spreads(self.choices)


def spreads(m: pd.DataFrame) -> pd.DataFrame:
    """Per head count and quantity (ω, μ, Σωμ) of the models `m`: the spread of the configurations' seed means
    and the largest spread over the seeds of one configuration (NaN with a single seed)."""
    rows = []
    for H, sub in m.groupby("H"):
        for col in ("ω", "μ", "Σωμ"):
            means = sub.groupby("id", sort=False)[col].mean()
            seeds = sub.groupby("id", sort=False)[col].agg(_spread)
            rows.append(
                {
                    "H": int(H),
                    "quantity": col,
                    "across choices": _spread(means.values),
                    "across seeds (largest)": float(seeds.max()) if sub.seed.nunique() > 1 else np.nan,
                    "configurations": len(means),
                    "lowest": means.idxmin(),
                    "highest": means.idxmax(),
                }
            )
    cols = ["H", "quantity", "across choices", "across seeds (largest)", "configurations", "lowest", "highest"]
    return pd.DataFrame(rows, columns=cols)


def off_manifold(m: pd.DataFrame, d: int, L: int, sigma2: float) -> pd.Series:
    """Σωμ / η(ω) − 1 of each model of `m` with a finite ω (η(ω) = 2ω μ*(ω), the rate on the manifold S)."""
    m = m.dropna(subset=["ω"])
    return m["Σωμ"] / theory.manifold_eta(m["ω"].to_numpy(), d, L, sigma2) - 1


def _spread(v) -> float:
    """(max − min) / median of the finite values (NaN with fewer than two)."""
    v = np.asarray(v, float)
    v = v[np.isfinite(v)]
    return float((v.max() - v.min()) / np.median(np.abs(v))) if len(v) > 1 else float("nan")
