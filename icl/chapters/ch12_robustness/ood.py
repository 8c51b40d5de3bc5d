"""Out-of-distribution prompts for the trained reference models (no new training).

Each shift (`icl.core.shift.Shift`) is read three ways on the same prompts: the model (Monte Carlo), debiased
GD at the model's own rate η = Σ_h ω_h μ_h (Monte Carlo, and exactly by `shift.dgd_shift_risk`), and the
kernel regressor (3.2) with the model's (ω_h, μ_h), the circuits' own computation without the pattern's
small residues. Where the softmax kernel's nonlinearity matters (large ω‖x‖²) the model and the kernel
regressor leave debiased GD together; where the linearisation holds they stay on it.

Long prompts (Boursier & Boyer): for x ~ N(0, I), E[e^{ω xᵀx_q} x] / E[e^{ω xᵀx_q}] = ω x_q exactly, so as
L' → ∞ the kernel regressor tends to (Σ_h ω_h μ_h) βᵀx_q: softmax attention with the paper's pattern becomes
linear, with debiased GD's limit, whatever ω. Its risk there is (1 − η)² E‖β‖² + σ² (`limit_risk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ...core.estimators import DebiasedGD, KernelSum, bayes, paired_ratio, risk_from_errors
from ...core.shift import Shift, dgd_shift_risk, mean_predictor_risk, shifted_errors


def shifts(ch) -> list[tuple[str, str, Shift]]:
    """(id, kind, Shift) of every shift the budget names; kind groups them in the tables and figures."""
    b, L = ch.budget, ch.L
    out = [("in_distribution", "reference", Shift())]
    out += [(f"x_scale_{s:g}".replace(".", "_"), "covariate scale", Shift(x_scale=s)) for s in b.ood_scales]
    out += [(f"noise_{s:g}".replace(".", "_"), "label noise", Shift(sigma2=s)) for s in b.ood_noises]
    out.append(("beta_mean", "β prior", Shift(beta_mean=b.ood_beta_mean)))
    if len(b.ood_spectrum) == ch.d:
        out.append(("beta_anisotropic", "β prior", Shift(beta_spectrum=tuple(b.ood_spectrum))))
    if b.ood_orthogonal_L < ch.d:
        Lo = b.ood_orthogonal_L
        out.append((f"short_{Lo}", "query ⟂ context", Shift(L=Lo)))
        out.append(("orthogonal_query", "query ⟂ context", Shift(L=Lo, orthogonal_query=True)))
    out += [(f"length_{k}", "length", Shift(L=k * L)) for k in b.ood_length_factors if k != 1]
    return out


def limit_risk(eta: float, sigma2: float) -> float:
    """Risk of ŷ = η βᵀx_q (the L' → ∞ limit of debiased GD and of the kernel regressor) for β of E‖β‖² = 1."""
    return (1 - eta) ** 2 + sigma2


@dataclass
class OOD:
    """The out-of-distribution table of the reference models `runs` ((H, seed) → TrainedRun)."""

    ch: object
    runs: dict

    @cached_property
    def table(self) -> pd.DataFrame:
        b, rows = self.ch.budget, []
        for (H, seed), run in self.runs.items():
            p = run.pattern()
            eta = float(np.sum(p.omega * p.mu))
            task = run.config.task
            preds = {
                "model": run.predictor(),
                "dgd": DebiasedGD(eta=eta),
                "kernel": KernelSum(p.omega, p.mu, name="kernel (3.2)"),
                "ridge": bayes(task),
            }
            for sid, kind, shift in shifts(self.ch):
                e = shifted_errors(preds, task, shift, b.ood_prompts, seed=b.seed)
                model, dgd, kern, ridge = (risk_from_errors(e[k]) for k in ("model", "dgd", "kernel", "ridge"))
                ratio, ratio_se = paired_ratio(e["model"], e["dgd"])
                rows.append(
                    {
                        "shift": sid,
                        "kind": kind,
                        "label": shift.label,
                        "s": shift.x_scale,
                        "L'": shift.L or task.L,
                        "H": H,
                        "seed": seed,
                        "Σωμ": eta,
                        "Σμ": float(np.sum(p.mu)),
                        "model": model.mean,
                        "± s.e.": model.se,
                        "kernel (3.2)": kern.mean,
                        "dGD (MC)": dgd.mean,
                        "dGD (exact)": dgd_shift_risk(eta, task, shift),
                        "ridge": ridge.mean,
                        "model / dGD": ratio,
                        "ratio s.e.": ratio_se,
                        "mean predictor (exact)": mean_predictor_risk(float(np.sum(p.mu)), task, shift)
                        if shift.orthogonal_query
                        else np.nan,
                    }
                )
        return pd.DataFrame(rows)
