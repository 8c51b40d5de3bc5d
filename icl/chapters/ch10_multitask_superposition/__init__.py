"""Chapter 10 (§5.4, App. A.3): multi-task regression and superposition (being reshaped)."""

from .analysis import *  # noqa: F401,F403
from .analysis import Study, configs, curves, glue_study, study  # noqa: F401
