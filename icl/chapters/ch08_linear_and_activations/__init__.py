"""Chapter 08: softmax against linear attention (§5.1, (5.2), Fig. 8) and other normalised
activations (§5.2, Table 1, Figs 9–11).

The chapter's public face (`icl.chapters` says what each piece is); its parts:

- `linear`: length generalisation on common prefix prompts, linear attention read as GD, the (5.2)
  construction of 2H softmax heads from H linear heads;
- `activations`: the normalised activations f and the general-f approximate loss (ours);
- `basins`: the same-sign probe (mirror one head partway and train on; ours);
- `analysis`: the `Study` (models, risk curves, readings, tables, probes);
- `report`: `numbers` and `claims`; `figures`: the `plot_*`.
"""

from .analysis import Study, configs
from .figures import (
    plot_activation_circuits,
    plot_activation_dynamics,
    plot_activation_risks,
    plot_construction,
    plot_length_generalisation,
    plot_zero_sum_dynamics,
)
from .report import claims, numbers

__all__ = [
    "Study",
    "numbers",
    "claims",
    "configs",
    "plot_length_generalisation",
    "plot_construction",
    "plot_activation_circuits",
    "plot_activation_dynamics",
    "plot_zero_sum_dynamics",
    "plot_activation_risks",
]
