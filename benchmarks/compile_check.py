"""Does torch.compile pay for the engine's update on this machine?

Times `softmax_loss_and_grad` (paper sizes, H = 4, M models) eagerly and compiled with
inductor, one intra-op thread, and prints the compile time and ms per call of each.

    .venv/bin/python benchmarks/compile_check.py [M]

Inductor caches compiled kernels under $TORCHINDUCTOR_CACHE_DIR (default
/tmp/torchinductor_$USER), so a second run compiles faster, but the first call of every new
process still pays tracing.
"""

import sys
import time

import torch

from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig, Trainer, softmax_loss_and_grad
from icl.core.models import ModelConfig


def ms_per_call(fn, args, n=100):
    for _ in range(5):
        fn(*args)
    t0 = time.perf_counter()
    for _ in range(n):
        fn(*args)
    return (time.perf_counter() - t0) / n * 1e3


def main(models: int = 8):
    torch.set_num_threads(1)
    tr = Trainer(TaskConfig(), ModelConfig(heads=4), TrainConfig(steps=1, batch=256), list(range(models)), device="cpu")
    args = (tr.theta, *(t.clone() for t in tr.sample()), tr.task.d, tr.model.scale)
    eager = ms_per_call(softmax_loss_and_grad, args)
    t0 = time.perf_counter()
    compiled = torch.compile(softmax_loss_and_grad, dynamic=False)
    compiled(*args)
    compile_s = time.perf_counter() - t0
    fast = ms_per_call(compiled, args)
    diff = (compiled(*args)[1] - softmax_loss_and_grad(*args)[1]).abs().max().item()
    print(
        f"M={models}: eager {eager:.2f} ms/call, compiled {fast:.2f} ms/call "
        f"(compile {compile_s:.1f} s, max |Δgrad| {diff:.1e})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
