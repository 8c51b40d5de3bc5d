"""The training grid: one factor at a time around the paper's setting, and the learning-rate rule.

A configuration changes one thing of the reference (Adam 10⁻³, batch 256, d = 5, L = 40, σ² = 0.1,
β ~ N(0, I/d), PyTorch's default initialisation). The other optimisers' rates come from a rule fixed
before any model was trained (`choose_lr`): a probe of `probe_steps` steps (seed 0, the paper's task and
batch) at every rate of a short grid and every head count; the rate chosen is the largest whose probe is
finite throughout and ends (mean loss of its last tenth) within `RULE_REL` of the best probe of that
optimiser at every head count: the largest rate that trains as well as any. (A first rule, the largest
rate that is merely stable, chose the top of every grid, where the probes end worse; the chapter shows
both. No model had been trained with either.)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

import pandas as pd

from ...core.data import TaskConfig
from ...core.engine import TrainConfig, Trainer, TrainingDiverged
from ...core.models import ModelConfig
from ...runs.config import RunConfig, run_config
from ...runs.store import default_cache_dir

SMALL_INIT = 0.1  # init_scale of the small initialisation (ours): every factor ×0.1, every circuit ×0.01
ADAMW_DECAY = 0.01  # torch.optim.AdamW's default weight decay
SGD_MOMENTUM = 0.9  # the usual heavy-ball momentum (torch.optim.SGD defaults to 0; 0.9 is what a user would set)


@dataclass(frozen=True)
class Configuration:
    """One point of the grid: id, display label, the factor it varies, and what it changes."""

    id: str
    label: str
    factor: str  # "reference", "optimiser", "learning rate", "batch", "data", "initialisation"
    task: dict  # TaskConfig fields changed
    train: dict  # TrainConfig fields changed ("lr" from the rule for the optimisers)
    model: dict  # ModelConfig fields changed

    @property
    def training_choice(self) -> bool:
        """Whether it changes only how the model is trained (the task, so η_eff, stays the paper's)."""
        return self.factor in ("reference", "optimiser", "learning rate", "batch", "initialisation")


def _c(id, label, factor, task=None, train=None, model=None):
    return Configuration(id, label, factor, task or {}, train or {}, model or {})


CONFIGURATIONS = {
    c.id: c
    for c in (
        _c("reference", "Adam 10⁻³ (paper)", "reference"),
        _c("sgd", "SGD, momentum 0.9", "optimiser", train={"optimizer": "sgd", "momentum": SGD_MOMENTUM}),
        _c("adamw", "AdamW, decay 0.01", "optimiser", train={"optimizer": "adamw", "weight_decay": ADAMW_DECAY}),
        _c("rmsprop", "RMSprop", "optimiser", train={"optimizer": "rmsprop"}),
        _c("lr_low", "Adam 3·10⁻⁴", "learning rate", train={"lr": 3e-4}),
        _c("lr_high", "Adam 3·10⁻³", "learning rate", train={"lr": 3e-3}),
        _c("batch_64", "batch 64", "batch", train={"batch": 64}),
        _c("batch_1024", "batch 1024", "batch", train={"batch": 1024}),
        _c("d_3", "d = 3, L = 24", "data", task={"d": 3, "L": 24}),
        _c("d_8", "d = 8, L = 64", "data", task={"d": 8, "L": 64}),
        _c("noise_low", "σ² = 0.01", "data", task={"sigma2": 0.01}),
        _c("noise_high", "σ² = 0.5", "data", task={"sigma2": 0.5}),
        _c("prior_rademacher", "β ±1/√d", "data", task={"prior": "rademacher"}),
        _c("init_small", "init ×0.1", "initialisation", model={"init_scale": SMALL_INIT}),
    )
}
OPTIMISERS = ("sgd", "adamw", "rmsprop")
PROBED = ("adam", *OPTIMISERS)  # Adam is probed too, to show what the rule would give the paper's optimiser
RULE_REL = 0.02  # chapter 01's reading of "≈": within 2 % of the best probe's final loss


def configuration_ids(ch) -> list[str]:
    """The reference and the budget's factors, in the order of `CONFIGURATIONS`."""
    unknown = sorted(set(ch.budget.factors) - set(CONFIGURATIONS) - {"reference"})
    if unknown:
        raise ValueError(f"factors: unknown configuration {unknown[0]!r}; known: {sorted(CONFIGURATIONS)}")
    return [k for k in CONFIGURATIONS if k == "reference" or k in ch.budget.factors]


def chosen_lr(ch, optimizer: str) -> float:
    """The budget's record of the rule's rate for `optimizer`."""
    table = dict(ch.budget.chosen_lrs)
    if optimizer not in table:
        raise ValueError(f"chosen_lrs has no rate for {optimizer!r}: {table}")
    return float(table[optimizer])


def config_for(ch, cid: str, heads: int, seed: int) -> RunConfig:
    """The RunConfig of configuration `cid` at `heads` and `seed`, under the chapter's profile."""
    c = CONFIGURATIONS[cid]
    base = run_config(ch.prof, heads=heads, seed=seed, task=TaskConfig(**c.task))
    train = dict(c.train)
    if c.factor == "optimiser":
        train["lr"] = chosen_lr(ch, train["optimizer"])
    return replace(base, train=replace(base.train, **train), model=replace(base.model, **c.model))


def configs(ch) -> list[RunConfig]:
    """Every model chapter 12 loads: each configuration × heads × seeds (the reference's are chapter 02's)."""
    b = ch.budget
    return [config_for(ch, cid, H, s) for cid in configuration_ids(ch) for H in b.heads for s in b.seeds]


# --- the learning-rate rule ------------------------------------------------------------------------


def probe_grid(ch, optimizer: str) -> tuple:
    return ch.budget.probe_grid_sgd if optimizer == "sgd" else ch.budget.probe_grid_adaptive


def probe(ch, optimizer: str, lr: float, heads: int, device="cpu") -> dict:
    """One probe: `probe_steps` steps of `optimizer` at `lr`, seed 0, batch 256, the paper's task; its mean
    loss over the first and the last tenth. Cached by the probe's config key (a JSON file written whole)."""
    extra = {} if optimizer == "adam" else CONFIGURATIONS[optimizer].train
    steps = ch.budget.probe_steps
    train = TrainConfig(steps=steps, batch=256, seed=0, n_snapshots=2, **{**extra, "lr": lr})
    row = {"optimiser": optimizer, "lr": lr, "H": heads}
    path = default_cache_dir() / "probes" / f"{RunConfig(TaskConfig(), ModelConfig(heads=heads), train).key()}.json"
    if path.exists():
        return {**row, **json.loads(path.read_text())}
    tr = Trainer(TaskConfig(), ModelConfig(heads=heads), train, [0], device=device)
    tenth = max(1, steps // 10)
    try:
        tr.run(chunk=min(1000, steps))
        losses = tr.losses[:, 0].cpu().numpy()
        out = {"first": float(losses[:tenth].mean()), "last": float(losses[-tenth:].mean()), "finite": True}
    except TrainingDiverged:
        out = {"first": float("nan"), "last": float("nan"), "finite": False}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(out))
    os.replace(tmp, path)  # a reader never sees half a file
    return {**row, **out}


def probe_table(ch, device="cpu") -> pd.DataFrame:
    """Every probe (Adam and the budget's optimisers): one row per (optimiser, lr, H), with `stable` (finite,
    and the last tenth below the first) and `near_best` (finite, last tenth within RULE_REL of the best)."""
    rows = [
        probe(ch, o, lr, H, device)
        for o in PROBED
        if o == "adam" or o in ch.budget.factors
        for lr in probe_grid(ch, o)
        for H in ch.budget.heads
    ]
    t = pd.DataFrame(rows, columns=["optimiser", "lr", "H", "first", "last", "finite"])
    t["stable"] = t.finite & (t["last"] < t["first"])
    best = t.groupby(["optimiser", "H"])["last"].transform("min")
    t["near_best"] = t.finite & (t["last"] <= (1 + RULE_REL) * best)
    return t


def choose_lr(table: pd.DataFrame, column: str = "near_best") -> dict:
    """The rule: per optimiser, the largest probed rate with `column` true at every head count (NaN: none).
    column="stable" is the first rule, kept to show what it chose."""
    ok = table.groupby(["optimiser", "lr"], sort=False)[column].all().reset_index()
    out = {}
    for o, sub in ok.groupby("optimiser", sort=False):
        good = sub.lr[sub[column]]
        out[o] = float(good.max()) if len(good) else float("nan")
    return out
