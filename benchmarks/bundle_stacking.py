"""The next order worth trying: the four per-prompt products of a bundle's groups stacked into one.

Groups on one prompt stream (`icl.core.shared_stream`) share the right operand of the engine's four
per-prompt products, the prompt's tokens Zf (`icl.core.engine`, the gradient): the logits W_h z_q · z_l,
the read-out Σ_l p_hl z_l, and their two backward products. Each group now calls `torch.bmm` with its
own H rows per prompt; stacked, the bundle would call it once with ΣH rows. This times both on the paper
plan's largest bundle (its groups' head counts, three seeds, batch 256) and says, per group, whether its
rows come out bit for bit as when it runs alone.

usage: python benchmarks/bundle_stacking.py [repeats]   (one thread; alternates the two ways)
"""

import statistics
import sys
import time

import torch


def largest_bundle(profile: str = "paper"):
    """(head counts of its groups, seeds, batch, L, D) of the plan's bundle with the most groups."""
    from icl.pipeline.plan import plan
    from icl.runs.training import stream_of

    bundles: dict = {}
    for g in plan(profile):
        bundles.setdefault(stream_of(g.configs), []).append(g.configs)
    (task, batch, seeds), groups = max(bundles.items(), key=lambda kv: len(kv[1]))
    return [g[0].model.heads for g in groups], len(seeds), batch, task.L, task.d + 1


def products(heads, M, B, L, D, seed=0):
    """The four products as their two shapes (a forward product and a backward one share each), each as
    (per-group calls, one stacked call)."""
    g = torch.Generator().manual_seed(seed)
    MB = M * B
    Z = torch.randn(MB, L, D, generator=g)  # the shared prompt tokens, (MB, L, D)
    own = [torch.Generator().manual_seed(seed + 1 + j) for j in range(len(heads))]  # each group's operands its own
    left_d = [torch.randn(MB, h, D, generator=gj) for h, gj in zip(heads, own)]  # (MB, H, D): q̃, ∂a
    left_l = [torch.softmax(torch.randn(MB, h, L, generator=gj), -1) for h, gj in zip(heads, own)]  # p, ∂logits
    Zt = Z.transpose(1, 2)
    cat_d, cat_l = torch.cat(left_d, 1), torch.cat(left_l, 1)
    return {
        "(H, D)·(D, L): logits, ∂p": ([lambda x=x: torch.bmm(x, Zt) for x in left_d], lambda: torch.bmm(cat_d, Zt)),
        "(H, L)·(L, D): Σ p z, ∂q̃": ([lambda x=x: torch.bmm(x, Z) for x in left_l], lambda: torch.bmm(cat_l, Z)),
    }


def main(repeats: int = 5, calls: int = 200):
    torch.set_num_threads(1)
    heads, M, B, L, D = largest_bundle()
    print(f"the largest bundle: {len(heads)} groups, H = {heads} (ΣH = {sum(heads)}), {M} seeds, B = {B}, L = {L}")
    for name, (alone, stacked) in products(heads, M, B, L, D).items():
        out, i, same = stacked(), 0, []
        for h, f in zip(heads, alone):
            same.append(torch.equal(out[:, i : i + h], f()))
            i += h
        times = {"per group": [], "stacked": []}
        for _ in range(repeats):  # A B A B
            for way, run in (("per group", lambda fs=alone: [f() for f in fs]), ("stacked", stacked)):
                run()
                t = time.perf_counter()
                for _ in range(calls):
                    run()
                times[way].append((time.perf_counter() - t) / calls * 1e6)
        a, b = statistics.median(times["per group"]), statistics.median(times["stacked"])
        print(f"{name}: per group {a:7.0f} µs, stacked {b:7.0f} µs (medians of {repeats}), ratio {a / b:.2f}")
        half = len(heads) // 2  # the same groups in a bundle of half the size: do their rows depend on it?
        small, i, same_small = products(heads[:half], M, B, L, D)[name][1](), 0, []
        for h in heads[:half]:
            same_small.append(torch.equal(out[:, i : i + h], small[:, i : i + h]))
            i += h
        print(f"  stacked in the first {half} groups alone, bit for bit as in all {len(heads)}: {all(same_small)}")
        print("  bit for bit as alone: " + ", ".join(f"H={h} {'yes' if s else 'NO'}" for h, s in zip(heads, same)))


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:2]))
