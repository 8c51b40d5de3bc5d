"""Chapter 10's tables (modes per H, mode history, circuits, Table 2's layout, per-task risks), each read from a
`Study` and returned as a DataFrame, not shown."""

from __future__ import annotations

import numpy as np

from .analysis import MODES, Study, classify, groups, read_circuits, shared_ratio

__all__ = ["mode_table", "mode_history", "circuit_table", "table2", "risk_table"]


# --- tables -------------------------------------------------------------------------------------


def mode_table(st: Study):
    """Per H, how many seeds land in each mode."""
    import pandas as pd

    rows = {}
    for (H, _), m in st.models.items():
        rows.setdefault(H, dict.fromkeys(MODES, 0))[m.mode] += 1
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("H")


def circuit_table(st: Study):
    """One row per model: mode, head roles, and how well the multi-task pattern (5.8) holds."""
    import pandas as pd

    rows = []
    for (H, s), m in st.models.items():
        c = m.circuits
        wmax, umax = np.abs(c.omega).max(), np.abs(c.mu).max()
        cross = np.abs(c.M - np.einsum("hts,ts->hts", c.M, np.eye(c.M.shape[1]))).max()
        rows.append(
            {
                "H": H,
                "seed": s,
                "mode": m.mode,
                "heads": " ".join(m.roles),
                "max |ω|": wmax,
                "shared/private |ω|": shared_ratio(m, st.task),
                "KQ off-diag / max|ω|": c.kq_offdiag.max() / wmax,
                "KQ key-y / max|ω|": c.kq_key_y.max() / wmax,
                "OV x-part / max|μ|": c.ov_x.max() / umax,
                "OV cross-task / max|μ|": cross / umax,
                "zero-sum (worst task)": float(np.max(np.abs(c.mu.sum(0)) / np.abs(c.mu).sum(0))),
            }
        )
    return pd.DataFrame(rows)


def table2(st: Study, H: int = 3):
    """Table 2's layout for every model with H heads: ω averaged over S_1∖S_2, S_2∖S_1, S_1∩S_2, then μ
    for task 1 and task 2, and the head's role."""
    import pandas as pd

    g = groups(st.task)
    rows = []
    for (h_, s), m in st.models.items():
        if h_ != H:
            continue
        for h in range(H):
            w, u = m.circuits.omega[h], m.circuits.mu[h]
            rows.append(
                {
                    "seed": s,
                    "head": h + 1,
                    "ω on S₁∖S₂": w[g["private1"]].mean(),
                    "ω on S₂∖S₁": w[g["private2"]].mean(),
                    "ω on S₁∩S₂": w[g["shared"]].mean(),
                    "μ task 1": u[0],
                    "μ task 2": u[1],
                    "role": m.roles[h],
                }
            )
    return pd.DataFrame(rows)


def risk_table(st: Study):
    """Per-task risks at L' = L: each model (Monte Carlo ± s.e.), its two readings, the references."""
    import pandas as pd

    rows = []
    for (H, s), m in st.models.items():
        for t in range(st.task.n_tasks):
            rows.append(
                {
                    "H": H,
                    "seed": s,
                    "mode": m.mode,
                    "task": t + 1,
                    "model": m.risk[t].mean,
                    "± s.e.": m.risk[t].se,
                    "kernel-sum reading": m.kernel_risk[t].mean,
                    "first-order reading": m.first_order_risk[t],
                    "dGD on S_t": st.refs["restricted"][t],
                    "best common weighting": st.refs["common"][t],
                    "plain dGD": st.refs["full"][t],
                    "ridge on S_t": st.refs["ridge"][t],
                }
            )
    return pd.DataFrame(rows)


def mode_history(st: Study, fractions=(0.125, 0.25, 0.5, 1.0)):
    """Each model's mode at the recorded snapshots nearest to the given fractions of its training: when
    did the final mode settle? Rows (H, seed), columns the snapshot steps."""
    import pandas as pd

    mask, d, small = st.task.support_mask(), st.task.d, st.ch.tol.small
    rows = {}
    for (H, s), m in st.models.items():
        steps = m.run.snapshot_steps
        idx = sorted({int(np.argmin(np.abs(steps - f * steps[-1]))) for f in fractions})
        modes = {}
        for i in idx:
            c = read_circuits(m.run.snapshot_kq[i], m.run.snapshot_ov[i], d)
            modes[f"step {int(steps[i]):,}"] = classify(c.omega, c.mu, mask, small)
        rows[(H, s)] = modes
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["H", "seed"])
