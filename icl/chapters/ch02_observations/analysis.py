"""Chapter 02's analysis (the `Study`): the four observations of §3 read off many trained models.

Every head count H of the budget is trained from several seeds. Each model is read three ways:

- **circuits** (Obs. 1–2): (ω_h, μ_h), the head groups (+, −, dummy) and how far each head is
  from the pattern (3.1), via `icl.core.circuits.pattern_summary`;
- **dynamics** (Obs. 4): when the pattern settles along training (`icl.core.circuits.pattern_onset`),
  whether |ω_h| rises then falls (`peak_drop`) and whether |μ_h| rises monotonically
  (`largest_dip`);
- **risk** (Obs. 3, Fig. 4): the Monte Carlo ICL risk at every test length L′ against debiased GD
  at η_eff (4.11), vanilla GD at its optimal rate η* and the Bayes predictor, all on the same
  prompts, so that ratios between predictors carry a paired (delta-method) standard error.

Results are keyed by identifiers: a model by (H, seed), a baseline by "dgd", "gd", "bayes" or
"single_opt" (the single-head optimum (4.12)); display names live in `LABELS` and the column maps.
`report.claims` turns the results into the chapter's claims with the tolerances of
`icl.book.budgets.ch02_observations`; `report.numbers` reads the prose's numbers off them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...core import theory
from ...core.circuits import head_groups, largest_dip, pattern_onset, pattern_summary, peak_drop
from ...core.estimators import (
    DebiasedGD,
    VanillaGD,
    bayes,
    nadaraya_watson,
    paired_errors,
    paired_ratio,
    risk_from_errors,
)
from ...runs.config import run_config
from ...runs.load import load_or_train_many
from .heads import error_trajectory, error_trend, kq_dummy_heads, model_scales, worst_head

__all__ = [
    "LABELS",
    "SCALE_COLUMNS",
    "ERROR_COLUMNS",
    "Models",
    "seed_list",
    "configs",
    "train",
    "training_table",
    "head_labels",
    "has_dummy",
    "dummy_models",
    "model_table",
    "per_head_table",
    "pattern_ranges",
    "Dynamics",
    "dynamics",
    "dynamics_tables",
    "late_runs",
    "halfway_state",
    "error_trend",
    "halfway_table",
    "settled_fraction",
    "label",
    "title",
    "extra_dummy_models",
    "baselines",
    "RiskCurves",
    "risk_curves",
    "RisksAtL",
    "risks_at_L",
    "Study",
]

LABELS = {
    "dgd": "debiased GD (η_eff)",
    "gd": "vanilla GD (η*)",
    "bayes": "Bayes (ridge λ = dσ²)",
    "single_opt": "single-head optimum (4.12)",
}
SCALE_COLUMNS = {
    "n_pos": "#+",
    "n_neg": "#−",
    "n_dummy": "#dummy",
    "omega_pos": "ω (+)",
    "omega_neg": "ω (−)",
    "mu_pos": "Σμ (+)",
    "mu_neg": "Σμ (−)",
    "sum_mu": "Σμ",
    "zero_sum": "zero-sum ratio",
    "omega_spread": "ω spread",
    "eta": "Σωμ",
    "eta_ratio": "Σωμ / η_eff",
}
ERROR_COLUMNS = {
    "rel_diag_spread": "diag spread/|ω|",
    "rel_offdiag": "off-diag/|ω|",
    "rel_key_y": "key-y/|ω|",
    "rel_ov_x": "OV x/|μ|",
    "rel_group_ov_x": "group OV x/|μ|",
}
_GROUP = {1: "+", -1: "−", 0: "dummy"}


def label(key) -> str:
    """Display name of a predictor id: a baseline's label, or 'H = h, seed s' for a model (H, seed)."""
    return LABELS[key] if isinstance(key, str) else f"H = {key[0]}, seed {key[1]}"


def title(key) -> str:
    """Figure title of a model (H, seed)."""
    return f"$H = {key[0]}$ (seed {key[1]})"


# --- the trained models ----------------------------------------------------------------------


def seed_list(seeds) -> tuple[int, ...]:
    """A budget's `seeds`: a number n means seeds 0 … n−1; a sequence is the seeds themselves."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        return tuple(range(int(seeds)))
    out = tuple(int(s) for s in seeds)
    if not out or len(set(out)) != len(out):
        raise ValueError(f"seeds must be a number or distinct integers, got {seeds!r}")
    return out


@dataclass
class Models:
    """runs[(H, seed)]: the trained models; heads, seeds: in training order; figure_seed: the seed
    of the models shown in figures; steps: Adam steps per model."""

    runs: dict
    heads: tuple
    seeds: tuple
    figure_seed: int
    steps: int

    def keys(self, min_heads: int = 1) -> list[tuple[int, int]]:
        """(H, seed) of every model with at least `min_heads` heads, in training order."""
        return [(H, s) for H in self.heads for s in self.seeds if H >= min_heads]

    def figure_run(self, H: int):
        return self.runs[(H, self.figure_seed)]

    @property
    def multi(self) -> list[tuple[int, int]]:
        """The H ≥ 2 models."""
        return self.keys(2)


def configs(ch) -> list:
    """Every model the chapter needs: `ch.budget`'s heads × seeds (the seeds of one H train together)."""
    b = ch.budget
    return [run_config(ch.prof, heads=int(H), seed=s, task=ch.task) for H in b.heads for s in seed_list(b.seeds)]


def train(ch) -> Models:
    """Load (or train) every model of `ch.budget`: heads × seeds, one batched job per head count."""
    b = ch.budget
    heads, seeds = tuple(int(H) for H in b.heads), seed_list(b.seeds)
    cfgs = configs(ch)
    runs = {(c.model.heads, c.train.seed): r for c, r in zip(cfgs, load_or_train_many(cfgs, device=ch.device))}
    fig_seed = b.figure_seed if b.figure_seed in seeds else seeds[0]
    return Models(runs, heads, seeds, fig_seed, ch.prof.steps)


def training_table(models: Models):
    """(final training loss per H × seed (mean of the last 1000 steps), total training wall time in
    minutes: one wall time per training job, as recorded when the models were trained)."""
    import pandas as pd

    loss = pd.DataFrame(
        {f"seed {s}": {H: models.runs[(H, s)].final_loss() for H in models.heads} for s in models.seeds}
    )
    loss.index.name = "H"
    jobs = {(r.provenance["finished"], r.provenance["wall_seconds"]) for r in models.runs.values()}
    return loss, sum(w for _, w in jobs) / 60


# --- Observations 1–2: circuits ----------------------------------------------------------------


def _groups(run) -> np.ndarray:
    p = run.pattern()
    return head_groups(p.omega, p.mu)


def head_labels(run) -> list[str]:
    """'head h (+)', '(−)' or '(dummy)' from the run's final (ω_h, μ_h)."""
    return [f"head {h + 1} ({_GROUP[int(g)]})" for h, g in enumerate(_groups(run))]


def has_dummy(run) -> bool:
    return bool((_groups(run) == 0).any())


def dummy_models(models: Models) -> list[tuple[int, int]]:
    """(H, seed) of every model (H ≥ 3) with a dummy head."""
    return [k for k in models.keys(3) if has_dummy(models.runs[k])]


def extra_dummy_models(models: Models) -> dict[int, tuple[int, int]]:
    """For each head count whose figure model has no dummy head, the first model that has one."""
    out = {}
    for H, s in dummy_models(models):
        if not has_dummy(models.figure_run(H)):
            out.setdefault(H, (H, s))
    return out


def model_table(models: Models, eta_eff: float):
    """One row per model, index (H, seed): `pattern_summary`'s numbers and Σωμ / η_eff."""
    import pandas as pd

    d = models.runs[models.keys()[0]].config.task.d
    t = pd.DataFrame.from_dict({k: pattern_summary(r.kq, r.ov, d) for k, r in models.runs.items()}, orient="index")
    t.index = pd.MultiIndex.from_tuples(t.index, names=["H", "seed"])
    t["eta_ratio"] = t["eta"] / eta_eff
    return t.loc[models.keys()]


def per_head_table(models: Models):
    """Head by head for the figure models: group, ω_h, μ_h and the raw pattern errors."""
    import pandas as pd

    rows = []
    for H in models.heads:
        p = models.figure_run(H).pattern()
        for h, g in enumerate(head_groups(p.omega, p.mu)):
            rows.append(
                {
                    "H": H,
                    "head": h + 1,
                    "group": _GROUP[int(g)],
                    "ω_h": p.omega[h],
                    "μ_h": p.mu[h],
                    "diag spread": p.diag_spread[h],
                    "max |off-diag|": p.offdiag_max[h],
                    "max |key-y row|": p.key_y_row[h],
                    "max |OV x-part|": p.ov_x_part[h],
                }
            )
    return pd.DataFrame(rows).set_index(["H", "head"])


def pattern_ranges(models: Models, table) -> dict:
    """The ranges a reader needs from the model table: |ω_h| of the non-dummy heads of H ≥ 2 models,
    the group sums of μ, Σωμ, the number of models with dummy heads, and the single-head scales."""
    out = {}
    if models.multi:
        live = np.concatenate(
            [np.abs(models.runs[k].pattern().omega)[_groups(models.runs[k]) != 0] for k in models.multi]
        )
        mm = table.loc[models.multi]
        out.update(
            omega_min=live.min(),
            omega_max=live.max(),
            mu_pos_min=mm["mu_pos"].min(),
            mu_pos_max=mm["mu_pos"].max(),
            mu_neg_min=mm["mu_neg"].min(),
            mu_neg_max=mm["mu_neg"].max(),
            eta_min=mm["eta"].min(),
            eta_max=mm["eta"].max(),
            eta_mean=mm["eta"].mean(),
            n_multi=len(mm),
            n_dummy=int((mm["n_dummy"] > 0).sum()),
        )
    if 1 in models.heads:
        single = [models.runs[(1, s)].pattern() for s in models.seeds]
        out.update(
            single_omega=np.mean([abs(p.omega[0]) for p in single]), single_mu=np.mean([abs(p.mu[0]) for p in single])
        )
    return out


# --- Observation 4: dynamics -------------------------------------------------------------------


@dataclass(frozen=True)
class Dynamics:
    """One run's effective parameters along training. steps: (S,); omega, mu: (S, H); groups: (H,)
    final groups; first: first step the pattern holds; settled: step from which it always holds
    (None: never / not at the end)."""

    steps: np.ndarray
    omega: np.ndarray
    mu: np.ndarray
    groups: np.ndarray
    first: int | None
    settled: int | None

    @property
    def settled_index(self) -> int:
        return 0 if self.settled is None else int(np.searchsorted(self.steps, self.settled))


def dynamics(run, zero_sum_tol: float) -> Dynamics:
    """`run`'s dynamics; the pattern holds at a snapshot when sign matching holds in every non-dummy
    head and the zero-sum ratio is at most `zero_sum_tol` (`icl.core.circuits.pattern_onset`)."""
    hist = run.history()
    g = head_groups(hist.omega[-1], hist.mu[-1])
    first, settled = pattern_onset(run.snapshot_steps, hist.omega, hist.mu, zero_sum_tol=zero_sum_tol)
    return Dynamics(np.asarray(run.snapshot_steps), hist.omega, hist.mu, g, first, settled)


def _model_dynamics(dy: Dynamics) -> dict:
    i0, g = dy.settled_index, dy.groups
    dip = max(largest_dip(dy.mu[i0:, g == k].sum(1)) for k in (1, -1) if (g == k).any())
    return {"first holds": dy.first, "settled from": dy.settled, "largest group-μ dip": dip}


def _head_dynamics(dy: Dynamics, h: int) -> dict:
    ipk, drop = peak_drop(dy.omega[:, h])
    return {
        "head": h + 1,
        "peak step of |ω_h|": int(dy.steps[ipk]),
        "peak |ω_h|": abs(dy.omega[ipk, h]),
        "final |ω_h|": abs(dy.omega[-1, h]),
        "fall from peak": drop,
        "interior peak": 0 < ipk < len(dy.steps) - 1,
        "largest μ dip": largest_dip(dy.mu[dy.settled_index :, h]),
    }


def dynamics_tables(models: Models, zero_sum_tol: float):
    """(per model, per non-dummy head) tables for every H ≥ 2 model, indexed (H, seed) and
    (H, seed, head). Per model: the first step the pattern holds, the step from which it stays, and
    the largest dip of a group's summed μ after that; per head: the peak of |ω_h|, its fall by the
    end, and the largest dip of |μ_h| below its running maximum after settling (relative to its
    final value)."""
    import pandas as pd

    rows, head_rows = [], []
    for H, s in models.multi:
        dy = dynamics(models.runs[(H, s)], zero_sum_tol)
        rows.append({"H": H, "seed": s, **_model_dynamics(dy)})
        head_rows += [{"H": H, "seed": s, **_head_dynamics(dy, h)} for h in np.flatnonzero(dy.groups != 0)]
    per_model = pd.DataFrame(rows, columns=["H", "seed", "first holds", "settled from", "largest group-μ dip"])
    cols = [
        "H",
        "seed",
        "head",
        "peak step of |ω_h|",
        "peak |ω_h|",
        "final |ω_h|",
        "fall from peak",
        "interior peak",
        "largest μ dip",
    ]
    return per_model.set_index(["H", "seed"]), pd.DataFrame(head_rows, columns=cols).set_index(["H", "seed", "head"])


def settled_fraction(per_model, steps: int):
    """Settling step / training steps per model; a model whose pattern does not hold at the end
    counts as 1 (it has not settled within training)."""
    import pandas as pd

    return (pd.to_numeric(per_model["settled from"]) / steps).fillna(1.0)


def late_runs(per_model, steps: int, early: float) -> list[tuple[int, int]]:
    """(H, seed) of the models whose pattern settles after `early` × steps (or never), latest first."""
    frac = settled_fraction(per_model, steps)
    return list(frac[frac > early].sort_values(ascending=False, kind="stable").index)


def halfway_state(run, zero_sum_tol: float) -> dict:
    """What a late-settling run looked like half-way to settling (or to the end): the snapshot step,
    its positive and negative non-dummy heads, their mean |ω_h| and Σ_h μ_h."""
    dy = dynamics(run, zero_sum_tol)
    end = dy.settled if dy.settled is not None else dy.steps[-1]
    i = int(np.argmin(np.abs(dy.steps - end / 2)))
    g = head_groups(dy.omega[i], dy.mu[i])
    return {
        "step": int(dy.steps[i]),
        "n_pos": int((g > 0).sum()),
        "n_neg": int((g < 0).sum()),
        "omega": float(np.abs(dy.omega[i][g != 0]).mean()),
        "sum_mu": float(dy.mu[i].sum()),
    }


def halfway_table(models: Models, per_model, keys, zero_sum_tol: float):
    """`halfway_state` of the runs `keys`, with their settling step (from `dynamics_tables`' per-model
    table), as a table indexed (H, seed)."""
    import pandas as pd

    rows = {}
    for k in keys:
        h = halfway_state(models.runs[k], zero_sum_tol)
        rows[k] = {
            "settled from": per_model.loc[k, "settled from"],
            "half-way step": h["step"],
            "# positive": h["n_pos"],
            "# negative": h["n_neg"],
            "mean |ω_h|": h["omega"],
            "Σ μ_h": h["sum_mu"],
        }
    t = pd.DataFrame.from_dict(rows, orient="index")
    t.index = pd.MultiIndex.from_tuples(t.index, names=["H", "seed"])
    return t


# --- Observation 3: risk on common prompts -----------------------------------------------------


def baselines(ch) -> dict:
    """Debiased GD at η_eff (4.11), vanilla GD at η* (its optimal rate at the training length) and
    the Bayes predictor; the GD rates are fixed at their training-length values for every L'."""
    return {
        "dgd": DebiasedGD(ch.eta_eff, name=LABELS["dgd"]),
        "gd": VanillaGD(theory.gd_optimal_eta(ch.d, ch.L, ch.sigma2), name=LABELS["gd"]),
        "bayes": bayes(ch.task),
    }


def _predictors(models: Models, ch) -> dict:
    return {**baselines(ch), **{k: models.runs[k].predictor(label(k)) for k in models.keys()}}


@dataclass(frozen=True)
class RiskCurves:
    """Risk against the test length: lengths (K,); mean, se: id → (K,); ratio, ratio_se: id → (K,)
    risk over debiased GD's on the same prompts and its paired standard error; exact: the closed-form
    risks of "dgd" and "gd" at every L'."""

    lengths: np.ndarray
    mean: dict
    se: dict
    ratio: dict
    ratio_se: dict
    exact: dict

    def mc_check(self, key: str) -> float:
        """Largest |Monte Carlo − exact| of a GD baseline over L', in its standard errors."""
        return float(np.max(np.abs(self.mean[key] - self.exact[key]) / self.se[key]))


def risk_curves(models: Models, ch) -> RiskCurves:
    """Every model and baseline at every test length of the budget (prompts seeded 1000 + k for the
    k-th length), `ch.budget.curve_prompts` prompts each."""
    lengths = np.asarray(ch.budget.lengths, dtype=int)
    preds = _predictors(models, ch)
    cols = {k: ([], [], [], []) for k in preds}
    for k, Lp in enumerate(lengths):
        e = paired_errors(preds, ch.task, ch.budget.curve_prompts, L=int(Lp), seed=1000 + k)
        for key, (m, s, r, rs) in cols.items():
            risk = risk_from_errors(e[key])
            ratio, ratio_se = paired_ratio(e[key], e["dgd"])
            m.append(risk.mean), s.append(risk.se), r.append(ratio), rs.append(ratio_se)

    def arr(i):
        return {k: np.array(v[i]) for k, v in cols.items()}

    exact = {
        "dgd": theory.dgd_risk(ch.eta_eff, ch.d, lengths, ch.sigma2),
        "gd": theory.gd_risk(theory.gd_optimal_eta(ch.d, ch.L, ch.sigma2), ch.d, lengths, ch.sigma2),
    }
    return RiskCurves(lengths, arr(0), arr(1), arr(2), arr(3), exact)


@dataclass(frozen=True)
class RisksAtL:
    """Risks at the training length on common prompts: risk: id → Risk; errors: id → per-prompt
    errors (for paired comparisons); dgd_exact, gd_exact: the closed forms."""

    risk: dict
    errors: dict = field(repr=False)
    dgd_exact: float
    gd_exact: float

    def table(self):
        import pandas as pd

        return pd.DataFrame(
            {
                "risk": {label(k): r.mean for k, r in self.risk.items()},
                "± s.e.": {label(k): r.se for k, r in self.risk.items()},
            }
        )


def risks_at_L(models: Models, ch, seed: int = 7) -> RisksAtL:
    """Every model, the baselines and the single-head optimum (4.12) at L' = L, with
    `ch.budget.claim_prompts` common prompts."""
    w, m, _ = theory.single_head_optimum(ch.d, ch.L, ch.sigma2)
    preds = {**_predictors(models, ch), "single_opt": nadaraya_watson(w, m, name=LABELS["single_opt"])}
    e = paired_errors(preds, ch.task, ch.budget.claim_prompts, L=ch.L, seed=seed)
    return RisksAtL(
        {k: risk_from_errors(v) for k, v in e.items()},
        e,
        float(theory.dgd_risk(ch.eta_eff, ch.d, ch.L, ch.sigma2)),
        float(theory.gd_risk(theory.gd_optimal_eta(ch.d, ch.L, ch.sigma2), ch.d, ch.L, ch.sigma2)),
    )


# --- everything at once ---------------------------------------------------------------------------


class Study:
    """The chapter's models and every result computed from them (each computed on first use).

    ch: the chapter (`icl.book.chapter.start`). A test may set `st.models` to models of its own
    before anything else is read (a cached property is an ordinary attribute once set)."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def models(self) -> Models:
        """Every model of `ch.budget`, loaded or trained (`train`)."""
        return train(self.ch)

    @cached_property
    def training(self):
        """(final training losses per H × seed, total training wall time in minutes): `training_table`."""
        return training_table(self.models)

    @cached_property
    def table(self):
        return model_table(self.models, self.ch.eta_eff)

    @cached_property
    def per_head(self):
        """Head by head for the figure models (`per_head_table`)."""
        return per_head_table(self.models)

    @cached_property
    def dummies(self) -> list:
        """(H, seed) of every model with a dummy head."""
        return dummy_models(self.models)

    @cached_property
    def ranges(self) -> dict:
        return pattern_ranges(self.models, self.table)

    @cached_property
    def dyn(self):
        """(per model, per head) dynamics tables."""
        return dynamics_tables(self.models, self.ch.tol.zero_sum)

    @cached_property
    def late(self) -> list:
        return late_runs(self.dyn[0], self.models.steps, self.ch.tol.early)

    @cached_property
    def trend(self):
        return error_trend(self.models)

    @cached_property
    def worst_kq(self) -> dict:
        """The model with the largest x-block error of Obs. 1 ("key"), its worst head (`worst_head`)
        and its error along training (`error_trajectory`)."""
        k = self.table[["rel_diag_spread", "rel_offdiag"]].max(axis=1).idxmax()
        run = self.models.runs[k]
        return {"key": k, **worst_head(run), **error_trajectory(run, self.models.steps)}

    @cached_property
    def scales(self):
        """Each model's KQ scale ω and group OV weight μ (`model_scales`)."""
        return model_scales(self.models)

    @cached_property
    def kq_dummies(self):
        """The heads of H ≥ 2 models whose KQ scale vanishes (`kq_dummy_heads`, the chapter's 1/5 rule)."""
        return kq_dummy_heads(self.models, self.ch.tol.small)

    @cached_property
    def curves(self) -> RiskCurves:
        return risk_curves(self.models, self.ch)

    @cached_property
    def at_L(self) -> RisksAtL:
        return risks_at_L(self.models, self.ch)

    @cached_property
    def latest(self) -> list:
        """The runs to plot as late-settling: the late ones, else the latest one, at most budget.late_plots."""
        frac = settled_fraction(self.dyn[0], self.models.steps).sort_values(ascending=False, kind="stable")
        return list((self.late or list(frac.index[:1]))[: self.ch.budget.late_plots])

    @cached_property
    def halfway(self):
        """What the `latest` runs looked like half-way to settling (`halfway_table`)."""
        return halfway_table(self.models, self.dyn[0], self.latest, self.ch.tol.zero_sum)
