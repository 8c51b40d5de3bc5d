"""Named compute budgets, chosen by a chapter's papermill parameter `profile`.

smoke: seconds; used by the tests, where claims read "not evaluated at this budget".
quick: the book's default on a 2-core CPU; 20k Adam steps already show the phenomena (chapters 01-02).
paper: the authors' 500k steps at batch 256 and 2·10⁵ Monte Carlo prompts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Profile", "PROFILES", "get_profile"]


@dataclass(frozen=True)
class Profile:
    """steps, batch: training budget per model. seeds: models per configuration where a claim is
    about consistency. mc_prompts: Monte Carlo prompts per risk. evaluate_claims: whether the
    budget is large enough for the paper's claims to be judged."""

    name: str
    steps: int
    batch: int
    seeds: int
    mc_prompts: int
    evaluate_claims: bool


PROFILES = {
    "smoke": Profile("smoke", steps=300, batch=64, seeds=1, mc_prompts=2_000, evaluate_claims=False),
    "quick": Profile("quick", steps=20_000, batch=256, seeds=3, mc_prompts=50_000, evaluate_claims=True),
    "paper": Profile("paper", steps=500_000, batch=256, seeds=3, mc_prompts=200_000, evaluate_claims=True),
}


def get_profile(name: str) -> Profile:
    """The profile called `name` (smoke, quick or paper)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {name!r}") from None
