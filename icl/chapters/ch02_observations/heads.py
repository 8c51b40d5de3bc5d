"""Chapter 02's readings beyond the model table: the scales (ω, μ) each model learns, the heads whose
KQ scale vanishes (the paper's dummy heads), the pattern errors along training, and the steps of the
risk curves.

- `model_scales`: per model the common KQ scale ω (mean |ω_h| over non-dummy heads) and the OV
  weight μ of one group (mean of Σ₊ μ_h and −Σ₋ μ_h; |μ| for one head), for §3's comparison of
  the two- and four-head models with each other and with the single head;
- `kq_dummy_heads`: heads with |ω_h| ≤ rel · max |ω_h| (dummy by the sign of their KQ scale, the
  paper's grouping) and how large their whole circuits still are;
- `error_trend`, `error_trajectory`, `worst_head`: the worst-head pattern errors of Obs. 1 at
  snapshots along training (median over models, one model's trajectory, and which head is worst);
- `length_steps`: each model's smallest fall of risk from one test length to the next.
"""

from __future__ import annotations

import numpy as np

from ...core.circuits import extract, head_groups, pattern_summary

__all__ = [
    "model_scales",
    "kq_dummy_heads",
    "kq_size_along",
    "error_trend",
    "error_trajectory",
    "worst_head",
    "length_steps",
]

KQ_ERRORS = ("rel_diag_spread", "rel_offdiag")  # the x-block errors of "W_h ∝ I_d"


def model_scales(models):
    """Per model, index (H, seed): "omega", the mean |ω_h| over non-dummy heads, and "mu", the OV
    weight of one group (mean of Σ₊ μ_h and −Σ₋ μ_h; |μ_1| for a single head)."""
    import pandas as pd

    rows = {}
    for k in models.keys():
        p = models.runs[k].pattern()
        g = head_groups(p.omega, p.mu)
        if k[0] == 1:
            mu = abs(float(p.mu[0]))
        else:
            mu = float(np.mean([abs(p.mu[g == s].sum()) for s in (1, -1) if (g == s).any()]))
        rows[k] = {"omega": float(np.abs(p.omega[g != 0]).mean()), "mu": mu}
    t = pd.DataFrame.from_dict(rows, orient="index")
    t.index = pd.MultiIndex.from_tuples(t.index, names=["H", "seed"])
    return t


def kq_dummy_heads(models, rel: float):
    """Every head of an H ≥ 2 model whose KQ scale vanishes, |ω_h| ≤ rel · max_h |ω_h|: index (H,
    seed, head); "KQ / ω" is the largest entry of W_h read by the query (the x-block and the key-y
    row) over the model's largest |ω_h|, "OV / μ" the largest entry of its OV row u_h over the
    model's largest |μ_h|. Empty when no model has such a head."""
    import pandas as pd

    rows = []
    for H, s in models.multi:
        r = models.runs[(H, s)]
        d = r.config.task.d
        kq, ov = np.asarray(r.kq, float), np.asarray(r.ov, float)  # (H, d+1, d+1) each
        p = extract(kq, ov, d)
        w_max, m_max = np.abs(p.omega).max(), np.abs(p.mu).max()
        for h in np.flatnonzero(np.abs(p.omega) <= rel * w_max):
            rows.append(
                {
                    "H": H,
                    "seed": s,
                    "head": int(h) + 1,
                    "ω_h": float(p.omega[h]),
                    "μ_h": float(p.mu[h]),
                    "KQ / ω": float(np.abs(kq[h][:, :d]).max() / w_max),
                    "OV / μ": float(np.abs(ov[h][d, :]).max() / m_max),
                }
            )
    cols = ["H", "seed", "head", "ω_h", "μ_h", "KQ / ω", "OV / μ"]
    return pd.DataFrame(rows, columns=cols).set_index(["H", "seed", "head"])


def kq_size_along(run, head: int, steps: int) -> list[tuple[int, float]]:
    """`kq_dummy_heads`' "KQ / ω" of one head (1-based) at the snapshots nearest steps/10, steps/4, steps/2
    and the end: (snapshot step, largest KQ entry read by the query / the model's largest |ω_h| then)."""
    d, out = run.config.task.d, []
    for s in (steps // 10, steps // 4, steps // 2, steps):
        i = min(int(np.searchsorted(run.snapshot_steps, s)), len(run.snapshot_steps) - 1)
        kq = np.asarray(run.snapshot_kq[i], float)  # (H, d+1, d+1)
        w_max = np.abs(np.diagonal(kq[:, :d, :d], axis1=1, axis2=2).mean(-1)).max()
        out.append((int(run.snapshot_steps[i]), float(np.abs(kq[head - 1][:, :d]).max() / w_max)))
    return out


def _summaries(run, steps) -> list[tuple[int, dict]]:
    """`pattern_summary` at the snapshots of `run` nearest each of `steps` (snapshot step, summary)."""
    out = []
    for s in steps:
        i = min(int(np.searchsorted(run.snapshot_steps, s)), len(run.snapshot_steps) - 1)
        out.append(
            (int(run.snapshot_steps[i]), pattern_summary(run.snapshot_kq[i], run.snapshot_ov[i], run.config.task.d))
        )
    return out


def _trend_steps(steps: int) -> list[int]:
    return [s for s in (steps // 100, steps // 10, steps // 3, steps) if s > 0]


def error_trend(models):
    """Median over the H ≥ 2 models of each worst-head relative pattern error at the snapshots nearest
    steps/100, steps/10, steps/3 and the end (index: snapshot step; columns: ERROR_COLUMNS' ids)."""
    import pandas as pd

    keys = ("rel_diag_spread", "rel_offdiag", "rel_key_y", "rel_ov_x")
    per_model = [_summaries(models.runs[k], _trend_steps(models.steps)) for k in models.multi]
    trend = {}
    for j, step in enumerate(s for s, _ in per_model[0]):
        trend[step] = {c: float(np.median([m[j][1][c] for m in per_model])) for c in keys}
    return pd.DataFrame(trend).T.rename_axis("step")


def error_trajectory(run, steps: int, columns=KQ_ERRORS) -> dict:
    """One model's worst-head error max over `columns` along training: "at", (snapshot step, error)
    at the snapshots nearest steps/100, steps/10, steps/3 and the end; "peak", the (step, error) of
    its largest value after steps/10 (is it still falling at the end, or not?)."""

    def err(summary):
        return max(summary[c] for c in columns)

    at = [(s, err(v)) for s, v in _summaries(run, _trend_steps(steps))]
    late = [i for i, s in enumerate(run.snapshot_steps) if s >= steps // 10]
    vals = [err(pattern_summary(run.snapshot_kq[i], run.snapshot_ov[i], run.config.task.d)) for i in late]
    j = int(np.argmax(vals))
    return {"at": at, "peak": (int(run.snapshot_steps[late[j]]), float(vals[j]))}


def worst_head(run, columns=KQ_ERRORS) -> dict:
    """The non-dummy head with the largest relative x-block error at the end: "head" (1-based),
    "error", "omega", "mu" and "share", its |μ_h| over its group's |Σ μ_h|."""
    p = run.pattern()
    g = head_groups(p.omega, p.mu)
    live = np.flatnonzero(g != 0)
    rel = {"rel_diag_spread": p.diag_spread, "rel_offdiag": p.offdiag_max}
    err = np.max([rel[c][live] / np.abs(p.omega[live]) for c in columns], axis=0)
    h = int(live[np.argmax(err)])
    group = abs(float(p.mu[g == g[h]].sum()))
    return {
        "head": h + 1,
        "error": float(err.max()),
        "omega": float(p.omega[h]),
        "mu": float(p.mu[h]),
        "share": abs(float(p.mu[h])) / group,
    }


def length_steps(curves, keys) -> dict:
    """Per model in `keys`: the smallest fall of its risk from one test length to the next, in standard
    errors of the difference (independent prompts per length: √(se_i² + se_{i+1}²)); negative: a rise."""
    out = {}
    for k in keys:
        m, se = np.asarray(curves.mean[k]), np.asarray(curves.se[k])
        out[k] = float(np.min(-np.diff(m) / np.sqrt(se[:-1] ** 2 + se[1:] ** 2)))
    return out
