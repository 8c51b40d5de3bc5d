"""Chapter 08's study: train (or load) the softmax, linear and activation models, measure their risk
against the test length on common prompts, and read each model (linear as GD, activations against
the general-f approximate loss, the (5.2) construction, the same-sign probes)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ...core.circuits import dummy_heads, pattern_onset, sign_matching, zero_sum_ratio
from ...core.data import TaskConfig
from ...core.estimators import DebiasedGD, bayes
from ...core.stats import loglog_slope
from ...runs.config import run_config
from ...runs.load import load_or_train_many
from .activations import (
    NAMES,
    ONE_SIGN,
    activation_of,
    best_scale_mc,
    model_name,
    mu_star_mc,
    rate_first_order_target,
    rate_true,
    signal_gain,
)
from .basins import probe, probe_table
from .heads import omega_rise_fall, shared_start, split_history
from .linear import (
    LengthCurves,
    OptimalGD,
    construction_errors,
    construction_risks,
    linear_best_length,
    linear_gd_residual,
    linear_rate,
    risk_vs_length,
    test_lengths,
)

__all__ = [
    "PAPER_TABLE1",
    "configs",
    "Study",
    "seed_mean_curve",
    "LinearReading",
    "ActivationReading",
    "read_activation",
    "not_zero_sum",
    "same_sign_text",
    "kink_fraction",
    "Construction",
]

# Table 1 of the paper (first-order rate 2aωμ and the trained ω, μ), with our reading of which f each
# column is (a = rate / 2ωμ, computed; the paper's list of f's was lost): normalisation or None.
PAPER_TABLE1 = [  # (model, our reading, ω, μ, 2aωμ)
    (1, "softmax", 0.1267, 3.5006, 0.8871),
    (2, None, 0.1504, 3.3362, 1.0035),
    (3, "sigmoid", 0.3677, 2.3963, 0.8810),
    (4, "relu_0.8", 0.2411, 2.2819, 0.8802),
    (5, "relu", 0.1979, 2.2221, 0.8794),
    (6, None, 0.2882, 1.7561, 1.0122),
    (7, "square_0.8", 0.1810, 1.7487, 1.0128),
    (8, "square", 0.1452, 1.7448, 1.0132),
]


def _with_steps(cfg, steps):
    return replace(cfg, train=replace(cfg.train, steps=steps)) if steps else cfg


def configs(ch) -> list:
    """Every run the chapter trains: softmax (the observations chapter's models), linear, activations."""
    b, t = ch.budget, ch.task
    cfgs = [run_config(ch.prof, heads=H, seed=s, task=t) for H in b.softmax_heads for s in b.softmax_seeds]
    cfgs += [
        _with_steps(run_config(ch.prof, heads=H, seed=s, task=t, normalisation="linear"), b.linear_steps)
        for H in b.linear_heads
        for s in b.linear_seeds
    ]
    acts = [(n, 2) for n in b.activations] + [(b.four_head_activation, 4)]
    cfgs += [
        _with_steps(run_config(ch.prof, heads=H, seed=s, task=t, normalisation=n), b.activation_steps)
        for n, H in acts
        for s in b.activation_seeds
    ]
    return cfgs


class Study:
    """Chapter 08's evidence, each part computed on first use. runs: (normalisation, H, seed) →
    TrainedRun; curves: risks against L' (ids: run keys and "gd_opt", "dgd", "bayes"); n: linear
    attention's fixed normaliser (the training L)."""

    def __init__(self, ch):
        self.ch = ch
        self.n = ch.L

    @cached_property
    def runs(self) -> dict:
        """Every model of `configs`, trained or loaded: (normalisation, H, seed) → TrainedRun."""
        cfgs = configs(self.ch)
        return {
            (c.model.normalisation, c.model.heads, c.train.seed): r
            for c, r in zip(cfgs, load_or_train_many(cfgs, device=self.ch.device))
        }

    @cached_property
    def curves(self) -> LengthCurves:
        """Every model's risk and the references' at every test length, on common prompts; for every two-head
        model k, ("dgd_own", k): debiased GD at its own first-order rate a Σ_h ω_h μ_h (Fig. 11's reference),
        ("dgd_impl", k): at the rate it implements, μ̂ G(ω̂) (ours)."""
        ch = self.ch
        preds = {k: r.predictor() for k, r in self.runs.items()}
        preds |= {"gd_opt": OptimalGD(ch.sigma2), "dgd": DebiasedGD(ch.eta_eff), "bayes": bayes(ch.task)}
        for k in self.keys(heads=2):
            if k[0] != "linear":
                preds[("dgd_own", k)] = DebiasedGD(self.own_rate(k))
                preds[("dgd_impl", k)] = DebiasedGD(self.implemented_rate(k))
        lengths = test_lengths(ch.L, ch.budget.length_factors)
        return risk_vs_length(preds, ch.task, lengths, ch.budget.curve_prompts, seed=ch.budget.seed)

    def keys(self, norm=None, heads=None):
        return [k for k in self.runs if (norm is None or k[0] == norm) and (heads is None or k[1] == heads)]

    def activation_keys(self):
        return [k for k in self.runs if k[0] not in ("softmax", "linear")]

    def own_rate(self, key) -> float:
        """A model's first-order rate a Σ_h ω_h μ_h (Table 1's 2aωμ for a ± pair)."""
        p = self.runs[key].pattern()
        return float(activation_of(key[0]).a * (p.omega * p.mu).sum())

    def implemented_rate(self, key) -> float:
        """The debiased-GD rate a model implements by the general-f loss (ours): μ̂ G(ω̂), μ̂ = Σ_h μ_h sign(ω_h)/2
        and ω̂ the mean |ω_h| over the non-dummy heads."""
        p = self.runs[key].pattern()
        w = float(np.abs(p.omega[~dummy_heads(p.omega, p.mu)]).mean())
        return float(signal_gain(activation_of(key[0]), w, self.ch.d) * (p.mu * np.sign(p.omega)).sum() / 2)

    def starts(self, key) -> list:
        """The other models of the chapter that start from `key`'s circuits (`heads.shared_start`)."""
        return shared_start(self.runs, key)

    @cached_property
    def rise_fall(self) -> dict:
        """Every activation and softmax model with two heads: (f, 2, seed) → `heads.RiseFall` of its ω̂(t)."""
        return {k: omega_rise_fall(self.runs[k]) for k in self.keys(heads=2) if k[0] != "linear"}

    @cached_property
    def splits(self) -> dict:
        """Every four-head activation model: (f, 4, seed) → `heads.Split` (its |ω_h| from the snapshot where
        their spread starts to grow for good, after the pattern settled, to the end)."""
        settled = {r.key: r.settled for r in self.reads}
        return {k: split_history(self.runs[k], settled[k]) for k in self.activation_keys() if k[1] == 4}

    @cached_property
    def softmax_rates(self) -> list[float]:
        """Σ_h ω_h μ_h of the two-head softmax models (the rate they apply at every L')."""
        return [
            float((self.runs[k].pattern().omega * self.runs[k].pattern().mu).sum()) for k in self.keys("softmax", 2)
        ]

    @cached_property
    def linear(self) -> list[LinearReading]:
        """Every linear model read as GD."""
        ch, out = self.ch, []
        lengths = self.curves.lengths
        for k in self.keys("linear"):
            r = self.runs[k]
            eta = float(linear_rate(r.kq, r.ov, ch.d, ch.L, self.n))
            m = self.curves.mean(k)
            i = int(np.argmin(m))
            excess = {}
            for f in (2, 5):
                j = int(np.argmin(np.abs(lengths - f * ch.L)))
                excess[f] = (m[j] - m[i]) / self.curves.diff_se(k, j, i) if j != i else 0.0
            out.append(
                LinearReading(
                    k,
                    eta,
                    float(linear_gd_residual(r.kq, r.ov, ch.d)),
                    int(lengths[i]),
                    linear_best_length(eta, self.n, ch.d, ch.sigma2),
                    excess,
                )
            )
        return out

    @cached_property
    def linear_table(self) -> pd.DataFrame:
        """One row per linear model: its GD reading."""
        return pd.DataFrame(
            [
                {
                    "model": f"linear, H = {r.key[1]}, seed {r.key[2]}",
                    "η̂ = tr Γ/d": r.eta,
                    "‖Γ − η̂I‖/‖η̂I‖": r.residual,
                    "argmin L' (measured)": r.argmin,
                    "argmin L' (GD reading)": r.predicted_argmin,
                    "excess at 2L (s.e.)": r.excess[2],
                    "excess at 5L (s.e.)": r.excess[5],
                }
                for r in self.linear
            ]
        )

    @cached_property
    def construction(self) -> Construction:
        """(5.2) from every linear model: on centred tokens for the first model with the most heads (the
        figure's), on the prompts as they come for all, with the ICL risks at the smallest scale."""
        ch, b = self.ch, self.ch.budget
        scales = np.asarray(b.logit_scales, float)
        raw, risks = {}, {}
        for k in self.keys("linear"):
            r = self.runs[k]
            eps = scales / float(np.abs(r.pattern().omega).max())
            args = (r.kq, r.ov, ch.d, ch.task, self.n)
            raw[k] = construction_errors(*args, eps, b.construction_prompts, seed=b.seed, centred=False)
            risks[k] = construction_risks(*args, float(eps[0]), b.construction_prompts, seed=b.seed)
        key = self.keys("linear", max(k[1] for k in self.keys("linear")))[0]
        r = self.runs[key]
        eps = scales / float(np.abs(r.pattern().omega).max())
        err = construction_errors(r.kq, r.ov, ch.d, ch.task, self.n, eps, b.construction_prompts, seed=b.seed)
        return Construction(key, scales, err, loglog_slope(scales, err)[0], raw, risks)

    @cached_property
    def paper_check(self) -> pd.DataFrame:
        """The paper's own Table 1 against our derivation at the paper's trained ω and the paper's task
        (d, L, σ²) = (5, 40, 0.1), whatever the chapter's (our reading of its f's; models 2 and 6 unidentified)."""
        b = self.ch.budget
        task, rows = TaskConfig(), []
        for model, norm, w, mu, rate in PAPER_TABLE1:
            row = {
                "paper model": model,
                "our reading of f": NAMES.get(norm, "unidentified"),
                "ω (paper)": w,
                "μ (paper)": mu,
                "2aωμ (paper)": rate,
            }
            if norm is not None:
                act = activation_of(norm)
                mu_t, _ = mu_star_mc(act, w, task, b.mu_star_prompts, seed=b.seed)
                row |= {
                    "μ*(ω) (ours, MC)": mu_t,
                    "2aωμ*(ω) (ours, MC)": 2 * act.a * w * mu_t,
                    "approx. loss 2aωμ*_f(ω) (ours)": rate_first_order_target(act, w, task.d, task.L, task.sigma2),
                    "implemented μ*G (ours)": rate_true(act, w, task.d, task.L, task.sigma2),
                }
            rows.append(row)
        return pd.DataFrame(rows)

    @cached_property
    def reads(self) -> list[ActivationReading]:
        """The first two-head softmax model and every activation model, read against the general-f loss."""
        keys = [k for k in self.keys("softmax", 2)[:1]] + self.activation_keys()
        return [read_activation(self.ch, self.runs[k], k, self.curves.at(k, self.ch.L)[0]) for k in keys]

    @cached_property
    def table1(self) -> pd.DataFrame:
        """Our Table 1: per model ω, μ, a, the first-order rate 2aωμ and what it should read."""
        return pd.DataFrame(
            [
                {
                    "f": NAMES[r.key[0]],
                    "H": r.key[1],
                    "seed": r.key[2],
                    "ω": r.omega,
                    "max|ω_h|/min|ω_h|": r.spread,
                    "μ": r.mu,
                    "a": r.a,
                    "2aωμ": r.rate,
                    "target 2aω̂μ*(ω̂) (MC)": r.target,
                    "± s.e.": r.target_se,
                    "best scale at the trained ω_h (MC)": r.target_own,
                    "approx. loss 2aωμ*_f(ω)": r.target_approx,
                    "implemented rate μG(ω)": r.implemented,
                    "|Σμ_h|/Σ|μ_h|": r.zero_sum,
                    "risk at L' = L": r.risk,
                    "± pattern from step": "—" if r.settled is None else f"{r.settled:,}",
                }
                for r in self.reads
            ]
        )

    @cached_property
    def probes(self) -> dict:
        """The same-sign probe (`basins`) of every two-head activation model that ends not zero-sum:
        (f, H, seed) → [Probe]."""
        ch, b = self.ch, self.ch.budget
        keys = [r.key for r in not_zero_sum(self.reads, ch.tol.zero_sum) if r.key[1] == 2]
        return {k: probe(self.runs[k], b.probe_fractions, b.probe_steps, seed=b.seed, device=ch.device) for k in keys}

    @cached_property
    def probe_table(self) -> pd.DataFrame:
        """One row per probed model and a: ω_h and μ_h at the start and the end, the end's zero-sum ratio and loss."""
        return probe_table(self.probes)


def seed_mean_curve(st: Study, norm: str, H: int):
    """(means, s.e.) over prompts of the per-prompt error averaged over the seeds of one configuration."""
    e = np.mean([st.curves.errors[k] for k in st.keys(norm, H)], axis=0)
    return e.mean(0), e.std(0, ddof=1) / math.sqrt(e.shape[0])


# --- linear models ---------------------------------------------------------------------


@dataclass
class LinearReading:
    """One trained linear model read as GD: rate η̂, residual ‖Γ − η̂I‖/‖η̂I‖, the L' of its lowest
    measured risk, the L' its GD reading predicts, and its risk excess at 2L and 5L in paired s.e."""

    key: tuple
    eta: float
    residual: float
    argmin: int
    predicted_argmin: float
    excess: dict


# --- activations ---------------------------------------------------------------------------


@dataclass
class ActivationReading:
    """One model with a normalised activation: a, ω̂ (mean |ω_h|), μ̂ (mean |μ_h|), the first-order
    rate a Σ_h ω_h μ_h, its target 2aω̂ μ*(ω̂) with μ*(ω̂) the exact best μ of the symmetric ± pair at the
    model's ω̂ (Monte Carlo, with s.e.: what the paper's Table 1 reading of one ω and one μ per model
    predicts), the best scale of the model's own heads' kernel sum at their trained ω_h (`target_own`,
    the same for homogeneous heads), the approximate-loss formula's 2aω̂ μ*_f(ω̂), the implemented rate
    μ̂ G(ω̂), sign matching and zero-sum ratio; the ICL risk at L' = L on the chapter's common prompts
    and the snapshot step from which the ± pattern holds for good (None: not at the last snapshot)."""

    key: tuple
    a: float
    omega: float
    mu: float
    rate: float
    target: float
    target_se: float
    target_approx: float
    implemented: float
    sign_match: float
    zero_sum: float
    n_pos: int = 1  # non-dummy heads with ω_h > 0
    n_neg: int = 1  # non-dummy heads with ω_h < 0
    spread: float = 1.0  # max |ω_h| / min |ω_h| over the non-dummy heads (1: homogeneous)
    target_own: float = float("nan")  # λ* a Σ_h ω_h μ_h, λ* the best scale at the trained ω_h (Monte Carlo)
    risk: float = float("nan")  # ICL risk at L' = L (common prompts)
    settled: int | None = None  # first snapshot step from which sign matching and zero-sum OV hold throughout

    @property
    def pm(self) -> bool:
        """The ± pattern: sign ω_h = sign μ_h in every non-dummy head, and both a positive and a negative head."""
        return self.sign_match == 1.0 and self.n_pos > 0 and self.n_neg > 0


def read_activation(ch, run, key, risk: float = float("nan")) -> ActivationReading:
    """Read one model (key: (f, H, seed)) against the general-f approximate loss; risk: its ICL risk at L' = L."""
    p, hist = run.pattern(), run.history()
    act = activation_of(key[0])
    dummy = dummy_heads(p.omega, p.mu)
    w, m = float(np.abs(p.omega[~dummy]).mean()), float(np.abs(p.mu[~dummy]).mean())
    rate = float(act.a * (p.omega * p.mu).sum())
    lam, _ = best_scale_mc(act, p.omega, p.mu, ch.task, ch.budget.mu_star_prompts, seed=ch.budget.seed)
    mu_s, se_s = mu_star_mc(act, w, ch.task, ch.budget.mu_star_prompts, seed=ch.budget.seed)
    G = signal_gain(act, w, ch.d)
    return ActivationReading(
        key,
        act.a,
        w,
        m,
        rate,
        2 * act.a * w * mu_s,
        2 * act.a * w * se_s,
        rate_first_order_target(act, w, ch.d, ch.L, ch.sigma2),
        float(G * (p.mu * np.sign(p.omega)).sum() / 2),
        float(sign_matching(p.omega, p.mu, dummy)),
        float(zero_sum_ratio(p.mu)),
        int(((p.omega > 0) & ~dummy).sum()),
        int(((p.omega < 0) & ~dummy).sum()),
        float(np.abs(p.omega[~dummy]).max() / np.abs(p.omega[~dummy]).min()),
        lam * rate,
        risk,
        pattern_onset(run.snapshot_steps, hist.omega, hist.mu)[1],
    )


def not_zero_sum(reads, zero_sum_tol: float) -> list[ActivationReading]:
    """The activation models that are not zero-sum (ratio |Σ_h μ_h|/Σ_h |μ_h| above `zero_sum_tol`; at 1 every
    μ_h has one sign: one effective head, not the ± pair)."""
    return [r for r in reads if r.key[0] != "softmax" and r.zero_sum > zero_sum_tol]


def same_sign_text(reads, zero_sum_tol: float) -> str:
    """One sentence for the chapter: which models hold a same-sign pair, and their risk against the ± models'."""
    acts = [r for r in reads if r.key[0] != "softmax"]
    bad = not_zero_sum(acts, zero_sum_tol)
    if not bad:
        return f"every one of the {len(acts)} models holds the ± pattern"
    good = [r.risk for r in acts if r.zero_sum <= zero_sum_tol]
    names = "; ".join(f"{model_name(r.key)} (|Σ_h μ_h|/Σ_h |μ_h| = {r.zero_sum:.2f})" for r in bad)
    than = f", against {min(good):.3f} to {max(good):.3f} for the ± models" if good else ""
    one = sum(r.zero_sum > ONE_SIGN for r in bad)
    text = (
        f"{len(bad)} of the {len(acts)} models are not zero-sum, {one} of them with every head's μ_h at one sign "
        f"(ratio 1.00: one effective head rather than the ± pair): {names}; their ICL risk at L' = L is "
        f"{min(r.risk for r in bad):.3f} to {max(r.risk for r in bad):.3f}{than}"
    )
    escaped = [
        r
        for r in acts
        if r.zero_sum <= zero_sum_tol and r.settled is not None and any(b.key[1:] == r.key[1:] for b in bad)
    ]
    if escaped:
        text += "; from the same initialisations " + ", ".join(
            f"{model_name(r.key)} holds the ± pattern from step {r.settled:,}" for r in escaped
        )
    return text


def kink_fraction(b: float, omega: float, d: int) -> float:
    """P(1 + bωs < 0) for s ~ N(0, d): the share of logits past relu(1 + bs)'s kink (‖x_q‖² ≈ d)."""
    return 0.5 * math.erfc(1 / (b * omega * math.sqrt(d)) / math.sqrt(2))


# --- (5.2) on a trained linear model ------------------------------------------------------


@dataclass
class Construction:
    """(5.2) built from the trained linear models: the KQ scales ε (as logit scales ε·max|ω_h|); for the
    model `key`, the relative RMS error against the linear model on centred tokens and its log-log slope;
    raw: linear key → the relative RMS errors on prompts as they come (not centred), per scale; risks:
    linear key → (the linear model's ICL risk, its softmax model's at the smallest scale, s.e. of the
    paired difference), on those prompts."""

    key: tuple
    scales: np.ndarray
    errors: np.ndarray
    slope: float
    raw: dict
    risks: dict
