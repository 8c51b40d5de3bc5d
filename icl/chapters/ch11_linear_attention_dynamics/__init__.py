"""Chapter 11 (Zhang, Singh, Latham, Saxe, ICML 2025): how multi-head linear attention learns in context, one
abrupt drop (merged key-query) or saddle to saddle (separate key and query). The chapter's face (`icl.chapters`
says what each piece is):

- `Study(ch)`: the merged, separate, rank-R and softmax runs, the durations over init seeds, the scalar-ODE
  comparison and their `Summary`, lazy (`analysis`);
- `numbers(st)`, `claims(ch, st)` and `budget_markdown(ch)` (`report`);
- `plot_merged`, `plot_separate`, `plot_scalar`, `plot_ranks`, `plot_softmax` (`figures`);
- the mathematics the tests check: the setting, the population loss and its gradient flow, GD on sampled
  sequences, the fixed points, the curve readers (`dynamics`); the softmax versions are in `linear_softmax`.

The chapter trains no model of the book (no `configs`): everything is small and runs on the CPU.
"""

from . import linear_softmax
from .analysis import (
    SCALAR_START,
    Readings,
    Run,
    Study,
    Summary,
    learned_order,
    max_rel,
    plateau_durations,
    plateau_indices,
    read,
    run_both,
    scalar_comparison,
    scalar_gaps,
)
from .dynamics import (
    Drop,
    Params,
    Sequences,
    Setting,
    Trajectory,
    c_d,
    converged_loss,
    detect_drops,
    eigen_contributions,
    escape_slope,
    flow,
    gd,
    gd_autograd,
    gradient_G,
    halfway_time,
    init_merged,
    init_separate,
    omega,
    paper_spectrum,
    param_velocity,
    pcr_gaps,
    plateau_gamma,
    plateau_losses,
    plateau_readings,
    population_loss,
    prediction_gap,
    sample_sequences,
    sampled_G,
    sampled_loss,
    scalar_ode,
    setting,
    white_init,
    white_loss,
)
from .figures import plot_merged, plot_ranks, plot_scalar, plot_separate, plot_softmax
from .report import budget_markdown, claims, numbers

__all__ = [
    "Study", "numbers", "claims", "budget_markdown", "plot_merged", "plot_separate", "plot_scalar", "plot_ranks",
    "plot_softmax", "linear_softmax",
    "Setting", "paper_spectrum", "setting", "omega", "population_loss", "gradient_G", "c_d",
    "plateau_gamma", "plateau_losses", "converged_loss", "Params", "init_merged", "init_separate", "white_init",
    "flow", "Sequences", "sample_sequences", "sampled_loss", "sampled_G", "param_velocity", "gd", "gd_autograd",
    "Trajectory", "white_loss", "scalar_ode", "Drop", "detect_drops", "plateau_readings", "eigen_contributions",
    "escape_slope", "halfway_time", "prediction_gap", "pcr_gaps",
    "Run", "run_both", "Readings", "read", "learned_order", "plateau_durations", "plateau_indices", "max_rel",
    "SCALAR_START", "scalar_comparison", "scalar_gaps", "Summary",
]
