"""Chapter 02, the four observations of §3 over many trained models: the chapter's public face.

`analysis` holds the `Study` (the models and every result read off them), `report` the prose's
numbers and the claims, `figures` the figures.
"""

from .analysis import (
    ERROR_COLUMNS,
    LABELS,
    SCALE_COLUMNS,
    Dynamics,
    Models,
    RiskCurves,
    RisksAtL,
    Study,
    baselines,
    configs,
    dummy_models,
    dynamics,
    dynamics_tables,
    error_trend,
    extra_dummy_models,
    halfway_state,
    halfway_table,
    has_dummy,
    head_labels,
    label,
    late_runs,
    model_table,
    pattern_ranges,
    per_head_table,
    risk_curves,
    risks_at_L,
    seed_list,
    settled_fraction,
    title,
    train,
    training_table,
)
from .figures import (
    plot_circuits,
    plot_circuits_more,
    plot_dynamics,
    plot_dynamics_late,
    plot_dynamics_more,
    plot_risk,
)
from .report import by_H, claims, numbers

__all__ = [
    "Study", "numbers", "claims", "configs", "plot_circuits", "plot_circuits_more", "plot_dynamics",
    "plot_dynamics_more", "plot_dynamics_late", "plot_risk",
    # the analysis, for tests and readers
    "LABELS", "SCALE_COLUMNS", "ERROR_COLUMNS", "Models", "seed_list", "train", "training_table", "head_labels",
    "has_dummy", "dummy_models", "extra_dummy_models", "model_table", "per_head_table", "pattern_ranges", "Dynamics",
    "dynamics", "dynamics_tables", "settled_fraction", "late_runs", "halfway_state", "halfway_table", "error_trend",
    "label", "title", "baselines", "RiskCurves", "risk_curves", "RisksAtL", "risks_at_L", "by_H",
]
