"""Chapter 07 (Thm 4.2 (iii), (4.12)): trained risks against GD, debiased GD and Bayes, the
proportional regime, vanilla against debiased GD, and the single head.

The public face (`icl.chapters`): `Study(ch)`, `numbers(st)`, `claims(ch, st)`, the figures
`plot_proportional`, `plot_gd_dgd`, `plot_single_head`, and `configs(ch)`; `analysis` also keeps
its pure functions and the authors' cited values public (the unit tests use them). Modules:
`analysis` (the computations and the Study), `report` (numbers and claims), `figures`.
"""

from .analysis import (
    AUTHORS_BAYES,
    AUTHORS_PROPORTIONAL_POINT,
    AUTHORS_SINGLE_HEAD,
    AuthorsRisk,
    RiskTable,
    SingleHead,
    Study,
    approx_moments,
    authors_se,
    configs,
    dgd_gd_risk_gap,
    extrapolate_in_1_over_d,
    gd_dgd_curves,
    gd_dgd_mean_square_difference,
    nw_moment_table,
    proportional_grid,
    proportional_limits,
)
from .figures import plot_gd_dgd, plot_proportional, plot_single_head
from .report import claims, numbers

__all__ = [
    "Study",
    "numbers",
    "claims",
    "plot_proportional",
    "plot_gd_dgd",
    "plot_single_head",
    "configs",
    "AuthorsRisk",
    "AUTHORS_BAYES",
    "AUTHORS_SINGLE_HEAD",
    "AUTHORS_PROPORTIONAL_POINT",
    "RiskTable",
    "authors_se",
    "extrapolate_in_1_over_d",
    "proportional_grid",
    "proportional_limits",
    "gd_dgd_mean_square_difference",
    "dgd_gd_risk_gap",
    "gd_dgd_curves",
    "approx_moments",
    "SingleHead",
    "nw_moment_table",
]
