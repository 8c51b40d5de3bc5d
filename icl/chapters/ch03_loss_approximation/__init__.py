"""Chapter 03, the approximate loss L̃ (4.1) against the true loss: the chapter's public face.

`true_loss` holds the Monte Carlo true loss of the structured two-head model and the softmax
norms, `analysis` the `Study` (what the chapter reads off them), `report` the prose's numbers and
the claims, `figures` the figures.
"""

from .analysis import (
    ERROR_COLUMNS,
    NORM_COLUMNS,
    ErrorTrend,
    Landscape,
    LimitGap,
    NormSweep,
    Study,
    TrueVsApprox,
    Valley,
    ValleyFloor,
    approx_error_table,
    configs,
    error_trend,
    fig20_regimes,
    fig20_titles,
    landscape,
    limit_gap,
    softmax_norm_sweep,
    true_vs_approx_dynamics,
    valley_floor,
    valley_profile,
)
from .figures import plot_error_vs_length, plot_landscapes, plot_softmax_norms, plot_true_vs_approx, plot_valley
from .report import claims, numbers
from .true_loss import (
    LossGrid,
    TwoKernelSample,
    approx_loss_two_head,
    softmax_sq_norms,
    true_loss_grid,
    two_kernel_sample,
)

__all__ = [
    "Study",
    "numbers",
    "claims",
    "configs",
    "plot_landscapes",
    "plot_valley",
    "plot_error_vs_length",
    "plot_softmax_norms",
    "plot_true_vs_approx",
    # the analysis, for tests and readers
    "LossGrid",
    "TwoKernelSample",
    "two_kernel_sample",
    "true_loss_grid",
    "approx_loss_two_head",
    "softmax_sq_norms",
    "Landscape",
    "landscape",
    "Valley",
    "valley_profile",
    "ValleyFloor",
    "valley_floor",
    "LimitGap",
    "limit_gap",
    "ERROR_COLUMNS",
    "approx_error_table",
    "ErrorTrend",
    "error_trend",
    "fig20_regimes",
    "fig20_titles",
    "NORM_COLUMNS",
    "NormSweep",
    "softmax_norm_sweep",
    "TrueVsApprox",
    "true_vs_approx_dynamics",
]
