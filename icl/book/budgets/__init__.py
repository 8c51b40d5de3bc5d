"""Every chapter's compute budget (per profile) and its claim tolerances, in one reviewed place.

One small module per chapter, `icl/book/budgets/chNN_name.py`, in the style of nanoGPT's config
files: a frozen `Budget` dataclass with one value per profile (smoke, quick, paper), each field
commented with what it sizes; and a frozen `Tolerances` dataclass whose every field says where the
tolerance comes from (a multiple of a Monte Carlo standard error, or the precision the paper's
wording implies). Chapters never write a budget or a tolerance next to a measured value: they
read `ch.budget` and `ch.tol` (see `icl.book.chapter.start`).

A chapter's scientific parameters (head counts, seeds, …) are budget fields; a papermill
parameter of the same name overrides them: `budget("02_observations", "quick", heads=(1, 2))`.
"""

from __future__ import annotations

import dataclasses
from importlib import import_module

from ...runs.profiles import get_profile

__all__ = ["budget", "tolerances", "module_for"]


def module_for(chapter: str):
    """The budgets module of `chapter` (e.g. "01_setup" → icl.book.budgets.ch01_setup)."""
    try:
        return import_module(f"{__name__}.ch{chapter}")
    except ModuleNotFoundError:
        raise ValueError(f"chapter {chapter!r} has no budgets module icl/book/budgets/ch{chapter}.py") from None


def budget(chapter: str, profile: str, **overrides):
    """The chapter's budget under `profile`, with non-None `overrides` replacing fields of the same name."""
    get_profile(profile)  # a clear error for a bad profile name
    table = module_for(chapter).BUDGETS
    if profile not in table:
        raise ValueError(f"chapter {chapter!r} has no budget for profile {profile!r}")
    b = table[profile]
    given = {k: v for k, v in overrides.items() if v is not None}
    fields = {f.name for f in dataclasses.fields(b)}
    unknown = sorted(set(given) - fields)
    if unknown:
        raise ValueError(f"chapter {chapter!r} has no parameter {unknown[0]!r}; its parameters: {sorted(fields)}")
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}
    return dataclasses.replace(b, **given)


def tolerances(chapter: str):
    """The chapter's tolerances (the same under every profile)."""
    return module_for(chapter).TOLERANCES
