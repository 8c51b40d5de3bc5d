"""Chapter 10 (multi-task regression, §5.4, App. A.3, Figs 16–19, Table 2): budget and tolerances.

Targets are computed (ours: the exact risk of support-restricted debiased GD at its optimal rate,
derived in `icl.chapters.ch10_multitask_superposition` and checked against Monte Carlo in
`tests/chapters/test_ch10_multitask_superposition.py`) or the
paper's words; tolerances are chapter 01's and chapter 02's readings of "≈", or strict comparisons
after a Monte Carlo margin. Cost: the quick profile trains 5 head counts × 3 seeds (the seeds of one
H in one Trainer); the cap is 5 minutes added to a cold book build on the shared 2-core machine,
which sets `steps` (measured cold: 453 s wall, 364 s CPU, with the machine at load ≈ 4; the modes of
H ≤ 4 have settled by 8 000 steps in a 20 000-step run of ours).
"""

from dataclasses import dataclass

from ...runs.profiles import PROFILES
from .ch01_setup import TOLERANCES as _CH01
from .ch02_observations import TOLERANCES as _CH02


@dataclass(frozen=True)
class Budget:
    seed: int = 0  # base seed of every Monte Carlo draw
    heads: tuple = (1, 2, 3, 4, 6)  # head counts: the paper's modes I (1), II (2), IV (3), III (4) and ours, 6
    seeds: tuple = (0, 1, 2)  # training seeds per head count (the paper: the H = 3 pattern varies between runs)
    steps: int | None = None  # Adam steps per model (None: the profile's)
    figure_seed: int = 0  # the seed whose circuits are drawn as Figs 16–19
    claim_prompts: int = 50_000  # Monte Carlo prompts per risk at L' = L
    lengths: tuple = (12, 24, 48, 96, 192)  # test lengths L' of the risk curves
    curve_prompts: int = 10_000  # Monte Carlo prompts per test length on the curves


_P = PROFILES
BUDGETS = {
    # smoke: the four head counts of Figs 16–19, one seed, seconds
    "smoke": Budget(
        heads=(1, 2, 3, 4),
        seeds=(0,),
        claim_prompts=_P["smoke"].mc_prompts,
        lengths=(12, 48, 192),
        curve_prompts=_P["smoke"].mc_prompts // 2,
    ),
    # quick: 15 models of 8 000 steps (the cost cap: 5 minutes added to a cold build; the modes have settled
    # by then except at H = 6, see the chapter's mode history); 5 000 prompts per point of the curves
    "quick": Budget(steps=8_000, claim_prompts=_P["quick"].mc_prompts, curve_prompts=_P["quick"].mc_prompts // 10),
    "paper": Budget(claim_prompts=_P["paper"].mc_prompts, curve_prompts=_P["paper"].mc_prompts // 5),
}


@dataclass(frozen=True)
class Tolerances:
    # "≈ 0" in the circuits (ω off S_t, ω on the shared coordinates of a superposed head, the μ of a task a
    # head does not write): at most 1/5 of the head's own scale (max |ω_h| or max |μ_h|) — chapter 02's one
    # rule for the "≈" of the pattern (3.1) (the paper gives no number). The mode classifier uses it.
    small: float = _CH02.small
    # per-task risk ≈ support-restricted debiased GD's (App. A.3: superposition "approximates the performance
    # of the independent debiased GD predictors"): chapter 01's reading of "≈", 2 % of the target plus 3
    # Monte Carlo s.e. of the model's risk; the same 3 s.e. are the margin of "clearly worse".
    risk_rel: float = _CH01.risk_rel
    risk_se: float = _CH01.risk_se


TOLERANCES = Tolerances()
