"""Chapter 10 (§5.4, App. A.3, Figs 16–19, Table 2): multi-task regression, how the heads are shared out
among T tasks, and superposition. The chapter's face (`icl.chapters` says what each piece is):

- `Study(ch)`: the trained models, read and classified, their per-task risks, the references and the
  risk curves, lazy (`analysis`, which also holds the task, the circuits, the classifier and the
  predictors with their exact risks);
- `numbers(st)`, `claims(ch, st)` (`report`) and the tables the notebook shows (`tables`);
- `plot_model`, `plot_modes`, `plot_risk_curves` and `figure_seed` (`figures`);
- the global pattern (5.8), zero-sum OV per task and Mode IV's head measures (`patterns`);
- `configs(ch)`: the models it trains; `task_params`: its task (read by `icl plan`).
"""

from .analysis import (
    MODES,
    PAPER_D,
    PAPER_HEADS,
    PAPER_L,
    PAPER_SIGMA2,
    TABLE2,
    Circuits,
    Curves,
    DiagonalDGD,
    Model,
    Study,
    WeightedKernelSum,
    best_common_gamma,
    classify,
    configs,
    default_supports,
    dgd_rate,
    diag_dgd_risk,
    groups,
    head_roles,
    per_task_risks,
    read_circuits,
    restricted_dgd,
    restricted_ridge,
    shared_ratio,
    super_shared,
    table2_circuits,
    task_moments,
    task_params,
    task_risks,
)
from .figures import PAPER_MODE, figure_seed, plot_model, plot_modes, plot_risk_curves
from .patterns import both_task_ratio, live_heads, pattern_residual, signed_heads, zero_sum_per_task
from .report import claims, numbers
from .tables import circuit_table, mode_history, mode_table, risk_table, table2

__all__ = [
    "Study",
    "numbers",
    "claims",
    "configs",
    "plot_model",
    "plot_modes",
    "plot_risk_curves",
    "figure_seed",
    "mode_table",
    "mode_history",
    "circuit_table",
    "table2",
    "risk_table",
    "PAPER_D",
    "PAPER_HEADS",
    "PAPER_L",
    "PAPER_SIGMA2",
    "default_supports",
    "task_params",
    "task_moments",
    "groups",
    "read_circuits",
    "Circuits",
    "head_roles",
    "super_shared",
    "classify",
    "MODES",
    "PAPER_MODE",
    "WeightedKernelSum",
    "DiagonalDGD",
    "restricted_dgd",
    "dgd_rate",
    "diag_dgd_risk",
    "best_common_gamma",
    "task_risks",
    "per_task_risks",
    "live_heads",
    "pattern_residual",
    "zero_sum_per_task",
    "both_task_ratio",
    "signed_heads",
    "restricted_ridge",
    "TABLE2",
    "table2_circuits",
    "shared_ratio",
    "Model",
    "Curves",
]
