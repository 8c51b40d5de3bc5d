"""Chapter 11 (Zhang, Singh, Latham, Saxe 2025): linear attention's training dynamics (being reshaped)."""

from .dynamics import *  # noqa: F401,F403
from .dynamics import (add_claims, duration_study, glue_summary, halfway_time, merged_study, plot_merged,  # noqa: F401
                       plot_ranks, plot_scalar, plot_separate, ranks_study, scalar_comparison, separate_study,
                       show_budget, summarise, white_init, _flow_rhs, _moments)
