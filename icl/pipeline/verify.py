"""`icl verify`: retrain a published model, or its first N steps, and compare with what was published.

The model is retrained with the seeds it was trained together with (its *group*: the published
models of the same configuration but the seed, from the same training run), because a batched
matrix product over several models rounds differently from one over a single model: a model
retrained alone agrees with its batched self only to float32 rounding. The comparison covers
everything the publication holds inside the retrained prefix, for every model of the group: the
circuits of every snapshot at a step ≤ N, the mean training loss of every log-spaced bin that ends
by step N, and, for a full retraining, the final weights.

What it can prove depends on the arithmetic (`icl.arithmetic`). On a CPU in eager mode the engine is
deterministic, so under the kernel set the model was trained with (its provenance records torch's
version, CPU capability and BLAS; `icl` pins the AVX2 set on x86) the publication's float32 numbers
are reproduced **bit for bit**, and any difference is a real one. Under another capability, another
torch or BLAS, or on a GPU, the sums are rounded in another order: the report then says that the
comparison is not bit for bit and why, and checks agreement to a stated float32 tolerance
(`RTOL`, `ATOL`). Rounding differences grow with the steps retrained, so beyond that tolerance
on another arithmetic the result is *inconclusive*, never a failure (exit status 3, not 1).
Prompts come from a generator on the training device (CUDA's generator draws another stream than
the CPU's), so a model is verified on the kind of device it was trained on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..arithmetic import describe, difference

__all__ = ["Report", "verify", "format_report", "RTOL", "ATOL"]

# The tolerance path: |retrained − published| ≤ ATOL + RTOL·|published| for every number compared.
# RTOL = 1e-4 is ~840 float32 ulps (eps = 1.19e-7): room for the rounding of another summation order
# to accumulate over the first thousands of Adam steps (measured: ≤ 3.6e-7 absolute after 1 000
# steps, ATen's `default` kernels against the AVX2 ones, weights of order 0.01–1), far below
# any difference a change of the training's mathematics makes (the first step already differs by
# the learning rate, 1e-3). ATOL = 1e-6 covers entries near zero.
RTOL = 1e-4
ATOL = 1e-6


@dataclass
class Report:
    """What was compared, and the largest difference of each kind (0.0: bit-identical)."""

    key: str
    seeds: tuple  # the group retrained together
    steps: int
    of_steps: int
    device: str
    exact: bool  # bit-identical agreement expected (eager CPU, the recorded arithmetic)
    rtol: float
    atol: float = ATOL
    why_not_exact: dict = field(default_factory=dict)  # item → (recorded, here) where the arithmetic differs
    snapshots: int = 0
    loss_bins: int = 0
    max_diff: dict = field(default_factory=dict)  # item → max |retrained − published|
    mismatches: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Verified: bit for bit (exact) or within the float32 tolerance (another arithmetic)."""
        return not self.mismatches and self.snapshots > 0

    @property
    def exit_status(self) -> int:
        """0 verified; 1 a difference where bit-for-bit agreement was expected, or nothing compared;
        3 inconclusive: beyond the tolerance on another arithmetic."""
        if self.ok:
            return 0
        return 3 if (self.mismatches and not self.exact) else 1


def _prefix_bins(losses: np.ndarray, n_steps: int, n_bins: int, done: int):
    """(bin index, mean) of the log-spaced bins of an n_steps-long loss curve (`icl.core.binning.
    log_binned`'s bins) that end within the first `done` steps."""
    from ..core.binning import log_bin_edges

    edges = log_bin_edges(n_steps, n_bins)
    values = np.asarray(losses, dtype=float)
    out = []
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        if b - 1 <= done:
            out.append((i, values[a - 1 : b - 1].mean()))
    return out


def verify(
    key: str, steps: int | None = None, device: str = "cpu", *, root=None, rtol: float = RTOL, atol: float = ATOL
) -> Report:
    """Retrain the published model `key` for `steps` steps (None: all) from step 0 and compare."""
    from safetensors.numpy import load_file

    from ..core.engine import Trainer, resolve_device
    from ..runs.publish import published_path

    path = published_path(key, root)
    if path is None:
        raise ValueError(f"key {key!r} is not published (looked in results/*/models/{key})")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    group = _group(path)  # seed → (its folder, its config), in training order
    cfg = next(iter(group.values()))[1]
    total = cfg.train.steps
    n = total if steps is None else min(steps, total)
    dev = resolve_device(device)
    prov = json.loads((path / "meta.json").read_text())["provenance"]
    trained_on = _device_type(prov.get("device", "cpu"))
    if dev.type != trained_on:
        raise ValueError(
            f"device={str(dev)!r}: {key} was trained on {trained_on}, whose generator draws other prompts "
            f"than {dev.type}'s; verify it on {trained_on} (--device {trained_on})"
        )
    tr = Trainer(cfg.task, cfg.model, cfg.train, list(group), device=dev, compile=False)
    tr.run(n)
    why = difference(prov.get("arithmetic"), describe(dev), dev.type)
    if dev.type != "cpu":
        why = {"device": (trained_on, "GPU kernels are not deterministic across runs"), **why}
    rep = Report(key, tuple(group), n, total, str(dev), not why, rtol, atol, why)
    for m, (seed, (folder, _)) in enumerate(group.items()):
        _compare_model(rep, tr, m, load_file(str(folder / "arrays.safetensors")), n, total, f"seed {seed}: ")
    rep.mismatches = sorted(set(rep.mismatches), key=rep.mismatches.index)
    return rep


def _device_type(device: str) -> str:
    """ "cuda" for "cuda:0" etc., "cpu" for "cpu"."""
    return str(device).split(":")[0]


def _group(path):
    """The published models trained together with the one at `path`: same configuration but the
    seed, same training run (its provenance's finish time), ordered as they were trained
    (`seeds_trained_together` where recorded, else by seed)."""
    from ..runs.config import RunConfig

    meta = json.loads((path / "meta.json").read_text())
    cfg, prov = RunConfig.from_dict(meta["config"]), meta["provenance"]
    found = {}
    for other in sorted(path.parent.glob("*/meta.json")):
        m = json.loads(other.read_text())
        c = RunConfig.from_dict(m["config"])
        if c.with_seed(0) == cfg.with_seed(0) and m["provenance"].get("finished") == prov.get("finished"):
            found[c.train.seed] = (other.parent, c)
    order = prov.get("seeds_trained_together") or sorted(found)
    missing = [s for s in order if s not in found]
    if missing or len(order) != prov.get("models_trained_together", len(order)):
        raise ValueError(
            f"{meta['key']} was trained together with seeds {order} "
            f"({prov.get('models_trained_together')} models); not all of them are published: "
            "its group cannot be retrained as it was"
        )
    return {s: found[s] for s in order}


def _compare_model(rep, tr, m, pub, n, total, tag):
    """Compare model m of the retrained trainer with its publication `pub` inside the first n steps."""
    from ..runs.config import LOSS_BINS

    def compare(name, got, want):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        diff = float(np.max(np.abs(got - want))) if got.size else 0.0
        rep.max_diff[name] = max(rep.max_diff.get(name, 0.0), diff)
        same = np.array_equal(got, want) if rep.exact else np.allclose(got, want, rtol=rep.rtol, atol=rep.atol)
        if not same:
            rep.mismatches.append(tag + name)

    steps_pub = pub["snapshot_steps"]
    if not np.array_equal(tr.snap_steps, steps_pub):
        raise ValueError(
            f"snapshot steps of {rep.key} differ from the engine's for its config: the publication is of other code"
        )
    for i in np.flatnonzero(steps_pub <= n):
        compare(f"snapshot {int(steps_pub[i])} KQ", tr.snap_kq[i, m].cpu().numpy(), pub["snapshot_kq"][i])
        compare(f"snapshot {int(steps_pub[i])} OV", tr.snap_ov[i, m].cpu().numpy(), pub["snapshot_ov"][i])
        rep.snapshots += 1
    losses = tr.losses[:, m].cpu().numpy()
    for i, mean in _prefix_bins(losses, total, LOSS_BINS, n):
        compare("loss bins", [mean], [pub["loss_mean"][i]])
        rep.loss_bins += 1
    if n == total:
        compare("final weights", tr.theta[m].cpu().numpy(), pub["factors"])


def format_report(rep: Report) -> str:
    how = (
        "bit for bit"
        if rep.exact
        else f"to a float32 tolerance (|difference| ≤ {rep.atol:g} + {rep.rtol:g}·|published|)"
    )
    head = (
        f"verify {rep.key}: retrained {rep.steps:,} of {rep.of_steps:,} steps on {rep.device} with the seeds "
        f"it was trained together with ({', '.join(map(str, rep.seeds))}); "
        f"compared {rep.snapshots} snapshots (KQ, OV) and {rep.loss_bins} loss bins"
        + (" and the final weights" if rep.steps == rep.of_steps else "")
        + f", {how}"
    )
    if not rep.exact:
        diffs = "; ".join(f"{k}: {a} when trained, {b} here" for k, (a, b) in rep.why_not_exact.items())
        head += (
            f"\nNOT BIT FOR BIT: this arithmetic is not the one the model was trained with ({diffs}), so sums round "
            "in another order; agreement to rounding is what can be shown here. For a bit-for-bit check, run it "
            "where the recorded kernel set is available (on x86 with AVX2: the default, pinned by icl.arithmetic)"
        )
    worst = max(rep.max_diff.values(), default=0.0)
    if rep.ok:
        return head + f"\nOK: agreement {how} (largest difference {worst:.3g})"
    if rep.snapshots == 0:
        return head + "\nNOT VERIFIED: no published snapshot lies inside the retrained prefix (give more --steps)"
    if not rep.exact:
        return head + (
            f"\nINCONCLUSIVE: {len(rep.mismatches)} item(s) beyond the tolerance, first: {rep.mismatches[0]} "
            f"(largest difference {worst:.3g}). Rounding differences grow with the steps retrained; this is "
            "not evidence against the publication (fewer --steps, or the recorded kernel set, decide it)"
        )
    return (
        head
        + f"\nMISMATCH in {len(rep.mismatches)} item(s), first: {rep.mismatches[0]} (largest difference {worst:.3g})"
    )
