"""`icl verify`: retrain a published model, or its first N steps, and compare with what was published.

The comparison covers everything the publication holds inside the retrained prefix: the circuits of
every snapshot at a step ≤ N, the mean training loss of every log-spaced bin that ends by step N,
and, for a full retraining, the final weights. On a CPU in eager mode the engine is deterministic,
so agreement is bit for bit (the publication's float32 numbers are reproduced exactly); on a GPU,
or compiled, kernels differ in rounding and agreement is to `rtol`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Report", "verify", "format_report"]


@dataclass
class Report:
    """What was compared, and the largest difference of each kind (0.0: bit-identical)."""

    key: str
    steps: int
    of_steps: int
    device: str
    exact: bool  # bit-identical agreement expected (eager, CPU)
    rtol: float
    snapshots: int = 0
    loss_bins: int = 0
    max_diff: dict = field(default_factory=dict)  # item → max |retrained − published|
    mismatches: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.snapshots > 0


def _prefix_bins(losses: np.ndarray, n_steps: int, n_bins: int, done: int):
    """(bin index, mean) of the log-spaced bins of an n_steps-long loss curve (`icl.plotting.
    log_binned`'s bins) that end within the first `done` steps."""
    edges = np.unique(np.round(np.logspace(0, np.log10(n_steps + 1), n_bins + 1)).astype(int))
    values = np.asarray(losses, dtype=float)
    out = []
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        if b - 1 <= done:
            out.append((i, values[a - 1 : b - 1].mean()))
    return out


def verify(key: str, steps: int | None = None, device: str = "cpu", *, root=None, rtol: float = 1e-4) -> Report:
    """Retrain the published model `key` for `steps` steps (None: all) from step 0 and compare."""
    from safetensors.numpy import load_file

    from .engine import Trainer, resolve_device
    from .experiments import LOSS_BINS, RunConfig
    from .publish import published_path

    path = published_path(key, root)
    if path is None:
        raise ValueError(f"key {key!r} is not published (looked in results/*/models/{key})")
    meta = json.loads((path / "meta.json").read_text())
    cfg = RunConfig.from_dict(meta["config"])
    total = cfg.train.steps
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    n = total if steps is None else min(steps, total)
    pub = load_file(str(path / "arrays.safetensors"))
    dev = resolve_device(device)
    tr = Trainer(cfg.task, cfg.model, cfg.train, [cfg.train.seed], device=dev, compile=False)
    tr.run(n)
    exact = dev.type == "cpu"
    rep = Report(key, n, total, str(dev), exact, rtol)

    def compare(name, got, want):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        diff = float(np.max(np.abs(got - want))) if got.size else 0.0
        rep.max_diff[name] = max(rep.max_diff.get(name, 0.0), diff)
        same = np.array_equal(got, want) if exact else np.allclose(got, want, rtol=rtol, atol=rtol * 1e-2)
        if not same:
            rep.mismatches.append(name)

    steps_pub = pub["snapshot_steps"]
    if not np.array_equal(tr.snap_steps, steps_pub):
        raise ValueError(f"snapshot steps of {key} differ from the engine's for its config: the publication is of other code")
    for i in np.flatnonzero(steps_pub <= n):
        compare(f"snapshot {int(steps_pub[i])} KQ", tr.snap_kq[i, 0].cpu().numpy(), pub["snapshot_kq"][i])
        compare(f"snapshot {int(steps_pub[i])} OV", tr.snap_ov[i, 0].cpu().numpy(), pub["snapshot_ov"][i])
        rep.snapshots += 1
    losses = tr.losses[:, 0].cpu().numpy()
    for i, mean in _prefix_bins(losses, total, LOSS_BINS, n):
        compare("loss bins", [mean], [pub["loss_mean"][i]])
        rep.loss_bins += 1
    if n == total:
        compare("final weights", tr.theta[0].cpu().numpy(), pub["factors"])
    rep.mismatches = sorted(set(rep.mismatches), key=rep.mismatches.index)
    return rep


def format_report(rep: Report) -> str:
    how = "bit for bit" if rep.exact else f"to rtol {rep.rtol:g}"
    head = (f"verify {rep.key}: retrained {rep.steps:,} of {rep.of_steps:,} steps on {rep.device}; "
            f"compared {rep.snapshots} snapshots (KQ, OV) and {rep.loss_bins} loss bins"
            + (" and the final weights" if rep.steps == rep.of_steps else "") + f", {how}")
    worst = max(rep.max_diff.values(), default=0.0)
    if rep.ok:
        return head + f"\nOK: agreement {how} (largest difference {worst:.3g})"
    if rep.snapshots == 0:
        return head + "\nNOT VERIFIED: no published snapshot lies inside the retrained prefix (give more --steps)"
    return head + f"\nMISMATCH in {len(rep.mismatches)} item(s), first: {rep.mismatches[0]} (largest difference {worst:.3g})"
