"""Chapter module moved into a package; its contents are `analysis` (split into the public face next)."""

from .analysis import *  # noqa: F403
from .analysis import __all__  # noqa: F401
