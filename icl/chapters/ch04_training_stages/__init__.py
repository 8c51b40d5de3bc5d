"""Chapter 04 (§4.2): gradient descent on the approximate loss L̃ from a small start, its two
training stages, the two-head trap and the solution manifold S(ω).

The public face (`icl.chapters`): `Study(ch)`, `numbers(st)`, `claims(ch, st)` and the figures
`plot_trajectories`, `plot_trap`, `plot_manifold`; `analysis` also keeps its pure functions public
(the unit tests call them). Modules: `analysis` (the computations and the Study), `later`
(after Stage I: ⟨ω, μ⟩ at η_eff, the slide down the valley), `report` (numbers and claims), `figures`.
"""

from .analysis import (
    Criteria,
    HeadCountRuns,
    StageSummary,
    Study,
    TrapPopulation,
    descend,
    end_points,
    ends_split,
    excess_at_fixed_omega,
    hessian,
    homogeneity_table,
    manifold_deviations,
    mu_star_any,
    mu_star_signed,
    recent_deviations,
    settled_deviations,
    sharpness,
    stage_summary,
    stage_table,
    trap_point,
    trap_population,
    two_level_stays,
    zero_sum_rates,
)
from .figures import plot_manifold, plot_trajectories, plot_trap
from .later import inner_after_stage1, valley_slide, zero_sum_at_stage1_end
from .report import claims, numbers

__all__ = [
    "Study",
    "numbers",
    "claims",
    "plot_trajectories",
    "plot_trap",
    "plot_manifold",
    "Criteria",
    "ends_split",
    "hessian",
    "sharpness",
    "HeadCountRuns",
    "descend",
    "stage_table",
    "StageSummary",
    "stage_summary",
    "zero_sum_rates",
    "trap_point",
    "TrapPopulation",
    "trap_population",
    "mu_star_any",
    "mu_star_signed",
    "excess_at_fixed_omega",
    "homogeneity_table",
    "two_level_stays",
    "end_points",
    "manifold_deviations",
    "recent_deviations",
    "settled_deviations",
    "inner_after_stage1",
    "valley_slide",
    "zero_sum_at_stage1_end",
]
