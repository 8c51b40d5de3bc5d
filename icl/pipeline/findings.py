"""The Findings page: the paper's contributions one by one, each decided by the claims that test
it, at the authors' budget (the paper edition).

A contribution's verdict is read from its deciding claims' statuses and findings, by a rule fixed
before looking at them (`verdict`):

- **holds**: every deciding claim passes;
- **holds with a caveat**: some fail, but none because the paper's statement fails in our runs
  (each failure is a reading, budget or setup matter), or those that do are fewer than half;
- **does not hold in our runs**: at least half of the deciding claims fail with finding `paper`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from ..book.claims import FINDINGS

__all__ = [
    "Contribution",
    "CONTRIBUTIONS",
    "VERDICTS",
    "verdict",
    "deciding",
    "finding_counts",
    "contribution_html",
    "overview_html",
]

VERDICTS = ("holds", "holds with a caveat", "does not hold in our runs")
VERDICT_COLOURS = {
    "holds": "#4daf4a",
    "holds with a caveat": "#ff7f00",
    "does not hold in our runs": "#e41a1c",
    "not evaluated": "#bdbdbd",
}


@dataclass(frozen=True)
class Contribution:
    """key: a short tag; title: the contribution in a few words; ref: where the paper says it;
    quote: the paper's words; claims: the deciding claims, "chapter/id" with shell wildcards
    ("08_linear_and_activations/rate_*"); figure: the chapter figure that shows it, "chapter/glue key"."""

    key: str
    title: str
    ref: str
    quote: str
    claims: tuple[str, ...]
    figure: str


CONTRIBUTIONS = (
    Contribution(
        "structure",
        "Each head is a kernel regressor with a diagonal KQ and a last-entry OV",
        "§1.1 (i)–(ii), Obs. 1, (3.1)",
        "in each head, the key-query (KQ) and output-value (OV) matrices exhibit a universal structure that "
        "implements a kernel regressor … The KQ weight matrices develop a diagonal structure for the block "
        "associated with the covariates and the query.",
        (
            "02_observations/kq_x_block_identity",
            "02_observations/kq_key_y_row_zero",
            "02_observations/ov_x_part_zero",
            "02_observations/group_ov_x_part_zero",
            "02_observations/kq_dummy_heads_vanish",
        ),
        "02_observations/obs-circuits",
    ),
    Contribution(
        "signs",
        "Positive and negative heads: KQ and OV share one sign",
        "§1.1 (ii), Obs. 1",
        "The diagonal entries of the KQ weights and the effective OV weights share the same sign. These patterns "
        "lead to the automatic grouping of positive and negative heads.",
        ("01_setup/sign_matching", "02_observations/sign_matching_all_models"),
        "01_setup/setup-circuits",
    ),
    Contribution(
        "homogeneous",
        "Homogeneous KQ scale, zero-sum OV",
        "§1.1 (iii), Obs. 2",
        "In the trained model, the diagonal KQ weights across all heads are nearly homogeneous in magnitude, and "
        "the average effective OV weight is approximately zero.",
        ("01_setup/zero_sum_ov", "02_observations/zero_sum_all_models", "02_observations/homogeneous_kq"),
        "02_observations/obs-dynamics-more",
    ),
    Contribution(
        "dynamics",
        "The patterns emerge early in training and are preserved (Obs. 4)",
        "§3 Obs. 4, Fig. 5",
        "the patterns found by Observations 1 and 2 appear early in the optimization trajectory, and are preserved "
        "during training. Moreover, the magnitude of [ω] in positive or negative heads first increases and then "
        "decreases to converge, while the [μ] monotonically increase until convergence.",
        (
            "02_observations/pattern_early",
            "02_observations/omega_rise_fall",
            "02_observations/mu_monotone",
            "02_observations/group_mu_monotone",
            "05_gradient_flow/adam_*",
        ),
        "02_observations/obs-dynamics",
    ),
    Contribution(
        "theory",
        "Two stages of training on the approximate loss explain the patterns",
        "§1.1 (iii), §4.1–4.2, App. B",
        "We provide theoretical insights into how these patterns emerge through training dynamics.",
        ("03_loss_approximation/*", "04_training_stages/*", "05_gradient_flow/phase1_*", "05_gradient_flow/flow_*"),
        "04_training_stages/stages-trajectories",
    ),
    Contribution(
        "dgd",
        "The heads jointly implement one step of debiased gradient descent",
        "§1.1 (iv), Obs. 3, Thm 4.2 (i)–(ii)",
        "the positive and negative heads jointly approximate one-step debiased gradient descent",
        (
            "01_setup/eta_learned",
            "01_setup/risk_matches_dgd",
            "02_observations/eta_learned_all_models",
            "02_observations/risk_matches_dgd_all_heads",
            "02_observations/track_dgd",
            "02_observations/multi_head_same_risk",
            "02_observations/track_vanilla_gd",
            "02_observations/same_kq_scale_across_heads",
            "02_observations/same_ov_weight_across_heads",
            "06_approximation_optimality/*",
        ),
        "02_observations/obs-risk",
    ),
    Contribution(
        "single",
        "Multi-head beats single-head attention",
        "§1.1 (iv), Obs. 3, (4.12)",
        "leading to multi-head transformers outperforming single-head models on linear ICL tasks",
        (
            "02_observations/multi_head_beats_single",
            "02_observations/single_head_matches_optimum",
            "02_observations/multi_kq_scale_below_single",
            "02_observations/multi_ov_weight_above_single",
            "07_bayes_and_single_head/trained_single_head_is_best_nw",
            "07_bayes_and_single_head/single_head_*",
        ),
        "07_bayes_and_single_head/bayes-single-head",
    ),
    Contribution(
        "bayes",
        "Nearly Bayes-optimal up to a proportional factor",
        "§1.1 (iv), Thm 4.2 (iii)",
        "we prove that the learned model is nearly Bayesian optimal up to a proportional factor",
        ("02_observations/bayes_factor", "07_bayes_and_single_head/bayes_*", "07_bayes_and_single_head/proportional_*"),
        "07_bayes_and_single_head/bayes-proportional",
    ),
    Contribution(
        "length",
        "Softmax generalises to longer prompts; linear attention does not",
        "§1.1 (v), §5.1, Fig. 8",
        "softmax attention outperforms linear attention in linear ICL tasks, as it learns an algorithm that "
        "successfully generalizes to longer sequences at test time",
        (
            "02_observations/risk_falls_with_length_all_heads",
            "08_linear_and_activations/softmax_*",
            "08_linear_and_activations/linear_*",
            "08_linear_and_activations/construction_*",
        ),
        "08_linear_and_activations/actv-length",
    ),
    Contribution(
        "activations",
        "Other normalised activations learn the same patterns and predictor",
        "§5.2, Fig. 9–11, Table 1",
        "as long as the activation satisfies the first-order condition …, the first three observations in "
        "§3 remain valid … However, the training dynamics are more subtle, which seem to rely on the choice of "
        "activation function.",
        ("08_linear_and_activations/activations_*", "08_linear_and_activations/rate_*"),
        "08_linear_and_activations/actv-risks",
    ),
    Contribution(
        "noniso",
        "Non-isotropic covariates: pre-conditioned debiased GD",
        "§1.1 (vi), §5.3",
        "In the non-isotropic case, we find that the learned model implements a pre-conditioned version of "
        "debiased gradient descent.",
        ("09_non_isotropic/*",),
        "09_non_isotropic/noniso-gammas",
    ),
    Contribution(
        "multitask",
        "Multi-task regression: heads per task, superposition when heads are few",
        "§1.1 (vi), §5.4, App. A.3",
        "when the number of tasks exceeds the number of heads but remains below twice that number, we observe a "
        "superposition phenomenon, where individual heads encode multiple tasks simultaneously",
        ("10_multitask_superposition/*",),
        "10_multitask_superposition/mt-modes",
    ),
    Contribution(
        "linear",
        "The related paper: linear attention learns abruptly (merged) or saddle to saddle (separate)",
        "Zhang et al. 2025 (arXiv 2501.16265)",
        "For the merged parametrization, we show the training dynamics has two fixed points and the loss "
        "trajectory exhibits a single, abrupt drop … For the separate parametrization … the loss exhibits "
        "saddle-to-saddle dynamics",
        ("11_linear_attention_dynamics/*",),
        "11_linear_attention_dynamics/lin-separate",
    ),
    Contribution(
        "robustness",
        "Not sensitive to the optimiser, its hyperparameters or the data; ω moves while 2ωμ stays",
        "§3 set-up, §4.1",
        "we found that the results are not sensitive to the choice of optimization algorithm, hyperparameters such "
        "as batch size and learning rate, or the configuration of the ICL data-generating process",
        (
            "12_robustness/pattern_*",
            "12_robustness/homogeneous_*",
            "12_robustness/rate_*",
            "12_robustness/risk_*",
            "12_robustness/omega_varies_*",
            "12_robustness/on_manifold_*",
        ),
        "12_robustness/rob-grid",
    ),
    Contribution(
        "ood",
        "Later work: off distribution, and on long prompts",
        "Hill et al. 2025; Boursier & Boyer 2025",
        "trained in-context regressors fail out of distribution (Hill, Eyre & Creager); softmax attention behaves "
        "like linear attention at long prompts (Boursier & Boyer)",
        ("12_robustness/ood_*", "12_robustness/long_prompt_*", "12_robustness/length_generalisation"),
        "12_robustness/rob-ood",
    ),
)


def deciding(contribution: Contribution, claims: dict) -> list:
    """The claims (of `claims`: (chapter, id) → Claim) that decide `contribution`, in book order."""
    return [
        c
        for (ch, cid), c in claims.items()
        if any(fnmatch.fnmatchcase(f"{ch}/{cid}", pattern) for pattern in contribution.claims)
    ]


def verdict(claims: list) -> str:
    """The module's rule, applied to a contribution's deciding claims."""
    evaluated = [c for c in claims if c.status != "not evaluated"]
    if not evaluated:
        return "not evaluated"
    failing = [c for c in evaluated if c.status == "fail"]
    if not failing:
        return "holds"
    paper = [c for c in failing if c.finding == "paper"]
    return "does not hold in our runs" if 2 * len(paper) >= len(evaluated) else "holds with a caveat"


def finding_counts(claims: dict) -> dict:
    """How many claims pass, and how many fail for each finding (plus "unclassified")."""
    out = {"pass": 0, **{f: 0 for f in FINDINGS}, "unclassified": 0, "not evaluated": 0}
    for c in claims.values():
        key = c.status if c.status != "fail" else (c.finding or "unclassified")
        out[key] += 1
    return out


def _decided(contribution: Contribution, claims: dict, fallback: dict | None):
    """The deciding claims in `claims`, else in `fallback` (an edition at a smaller budget, for a chapter the
    paper edition does not have yet), and a note saying which."""
    dec = deciding(contribution, claims)
    if dec or fallback is None:
        return dec, ""
    dec = deciding(contribution, fallback)
    return dec, " (quick edition: the paper edition's models are still training)" if dec else ""


def contribution_html(contribution: Contribution, claims: dict, fallback: dict | None = None) -> str:
    """The contribution's verdict and its deciding claims (statement, measured, status, finding, why).
    fallback: the edition to show where `claims` has none of them (said so beside the verdict)."""
    from .scorecard import esc, folded, html_table, status_html

    dec, which = _decided(contribution, claims, fallback)
    v = verdict(dec)
    n = sum(c.status == "pass" for c in dec)
    badge = (
        f'<p><span style="background: {VERDICT_COLOURS[v]}; color: white; padding: 0.15em 0.5em; '
        f'border-radius: 0.3em; font-weight: bold;">{esc(v)}</span> '
        f"{n} of {len(dec)} deciding claims pass{esc(which)}.</p>"
    )
    quote = f"<blockquote><p>“{esc(contribution.quote)}” ({esc(contribution.ref)})</p></blockquote>"
    rows = [
        [
            f"{esc(c.statement)} <small>({esc(c.ref)})</small>",
            status_html(c),
            f"<small>{esc(c.note) if c.status == 'fail' else ''}</small>",
        ]
        for c in dec
    ]
    failing = [c for c in dec if c.status == "fail"]
    kinds = [c.finding or "not classified" for c in failing]
    why = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
    summary = f"The {len(dec)} deciding claims" + (f" ({len(failing)} fail: {why})" if failing else "")
    return quote + badge + folded(summary, html_table(["claim", "status", "why it fails"], rows, [50, 16, 34]))


def overview_html(claims: dict, fallback: dict | None = None) -> str:
    """One row per contribution: its verdict and how many of its deciding claims pass (from `fallback`, said
    so, where `claims` has none of them)."""
    from .scorecard import esc, html_table

    rows = []
    for c in CONTRIBUTIONS:
        dec, which = _decided(c, claims, fallback)
        v = verdict(dec)
        rows.append(
            [
                f"{esc(c.title)} <small>({esc(c.ref)})</small>",
                f'<span style="color: {VERDICT_COLOURS[v]}; font-weight: bold;">{esc(v)}</span>',
                f"{sum(x.status == 'pass' for x in dec)} of {len(dec)}" + (" (quick edition)" if which else ""),
            ]
        )
    return html_table(["contribution", "verdict", "claims passing"], rows, [62, 22, 16])
