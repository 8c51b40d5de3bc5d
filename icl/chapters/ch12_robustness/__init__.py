"""Chapter 12: how robust is what the model learns — to how it is trained (§3's insensitivity statement,
§4.1's ω against 2ωμ) and to what it is asked (out-of-distribution prompts).

- `grid`: the configurations, one factor at a time around the paper's setting, and the learning-rate rule
  (`choose_lr` on a `probe_table`) that set the other optimisers' rates before any model was trained;
- `analysis`: the `Study` of every configuration's models (pattern, ω, μ, Σ_h ω_h μ_h, risk) and §4.1's spreads;
- `ood`: the reference models on shifted prompts (`icl.core.shift`), beside debiased GD at their own rate
  (exact and Monte Carlo), the kernel regressor of their own (ω_h, μ_h) and ridge;
- `report`: the prose's numbers and the claims; `figures`: the four figures.
"""

from .analysis import Study, read_model
from .figures import plot_grid, plot_manifold, plot_ood, plot_probe
from .grid import CONFIGURATIONS, OPTIMISERS, choose_lr, config_for, configs, probe_table
from .ood import OOD, limit_risk, shifts
from .report import claims, numbers

__all__ = [
    "CONFIGURATIONS",
    "OPTIMISERS",
    "OOD",
    "Study",
    "choose_lr",
    "claims",
    "config_for",
    "configs",
    "limit_risk",
    "numbers",
    "plot_grid",
    "plot_manifold",
    "plot_ood",
    "plot_probe",
    "probe_table",
    "read_model",
    "shifts",
]
