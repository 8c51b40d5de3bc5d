"""The engine's hottest product, three ways: the logits of every head against every key of every prompt,
(B, H, D) × (B, L, D) → (B, H, L), as `torch.bmm` (what the engine does), `torch.einsum` and a broadcast
multiply-and-sum. One thread, H = 4, B = 256, L = 40, D = 6 (the paper's H = 4 model).

usage: python benchmarks/logits_orders.py   (prints µs per call and each result's largest difference from bmm)
"""

import time

import torch


def main(B=256, H=4, L=40, D=6, calls=2000):
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    Z, q = torch.randn(B, L, D, generator=g), torch.randn(B, H, D, generator=g)
    ways = {
        "bmm": lambda: torch.bmm(q, Z.transpose(1, 2)),
        "einsum": lambda: torch.einsum("bhd,bld->bhl", q, Z),
        "broadcast": lambda: (q[:, :, None, :] * Z[:, None, :, :]).sum(-1),
    }
    ref = ways["bmm"]()
    for name, f in ways.items():
        for _ in range(50):
            f()
        t = time.perf_counter()
        for _ in range(calls):
            f()
        us = (time.perf_counter() - t) / calls * 1e6
        print(f"{name:10s} {us:8.1f} µs per call, max |Δ| from bmm {float((f() - ref).abs().max()):.1e}")


if __name__ == "__main__":
    main()
