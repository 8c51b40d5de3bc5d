"""The training engine: M models, fresh prompts every step, Adam (or AdamW, SGD, RMSprop), one update for all.

What makes it fast on a small CPU (measured in `benchmarks/`, see the README):
- only the query column is computed (2.3), O(B·H·L·D) instead of O(B·H·L²·D);
- the gradient is written out by hand (`attention_loss_and_grad`), so a step is ~30 tensor
  operations and no autograd graph; the normalisation enters only through its forward
  p = norm(logits) and its vector-Jacobian product (`Normaliser`: softmax, linear, and every
  normalised activation f(s)/Σf(s)), each tested against autograd;
- all factors of all models sit in one tensor, so Adam is six vector operations;
- each model's prompts come from its own generator as one `normal_` call into a row of a
  preallocated buffer, then one batched transform for all models, both in a second thread;
- on a CPU, models go through the gradient a few at a time so that the attention arrays stay
  in the L2 cache; `compile=True` (default for runs of ≥ 100k steps on a GPU) fuses it with inductor.

Models never mix: model m's result depends only on its own seed. Against a run of model m alone
it agrees bit for bit when the two go through the gradient in calls of the same shape (small
batches; tested), and otherwise to float32 rounding: a matrix product over several models rounds
differently from one over a single model (measured at batch 256: 6e-8 after 200 steps). A group
retrained with the same seeds together is bit for bit the same (eager; what `icl verify` does).
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass

import numpy as np
import torch

from .data import TaskConfig, n_normals, prompts_from_normals
from .models import AttentionModel, ModelConfig

__all__ = [
    "TrainConfig",
    "OPTIMIZERS",
    "Trainer",
    "TrainingDiverged",
    "softmax_loss_and_grad",
    "attention_loss_and_grad",
    "Normaliser",
    "normaliser",
    "resolve_device",
    "one_thread",
    "snapshot_steps",
    "seed_streams",
]


OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation: `optimizer` for `steps` steps of `batch` fresh prompts; `seed` fixes both the
    initialisation and the data stream; `n_snapshots` log-spaced steps at which the circuits are
    recorded. Defaults are the authors' (their code, XintianPan/ICL_linear) but for `steps`.

    optimizer, each exactly its torch.optim namesake on one tensor (tested, bit for bit on a CPU):
      "adam": Adam(lr, betas, eps); "adamw": AdamW(lr, betas, eps);
      "sgd": SGD(lr, momentum) (heavy ball, dampening 0, no Nesterov);
      "rmsprop": RMSprop(lr, alpha, eps) (no momentum, not centred).
    momentum: SGD's only; alpha: RMSprop's smoothing constant only.
    weight_decay: "adamw" decoupled, p ← p(1 − lr·wd) before the step; the others torch's coupled
      L2, g ← g + wd·p. A RunConfig leaves optimizer, momentum, alpha and weight_decay out of its
      cache key at their defaults, so adding them changed no key.
    """

    steps: int = 20_000
    batch: int = 256
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    seed: int = 0
    n_snapshots: int = 60
    optimizer: str = "adam"
    momentum: float = 0.9
    alpha: float = 0.99
    weight_decay: float = 0.0

    def __post_init__(self):
        for name in ("steps", "batch", "n_snapshots"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        b1, b2 = self.betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {self.betas!r}")
        object.__setattr__(self, "betas", (float(b1), float(b2)))
        if not self.eps > 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for name in ("momentum", "alpha"):
            v = getattr(self, name)
            if isinstance(v, bool) or not (isinstance(v, (int, float)) and 0 <= v < 1):
                raise ValueError(f"{name} must be a number in [0, 1), got {v!r}")
            object.__setattr__(self, name, float(v))
        wd = self.weight_decay
        if isinstance(wd, bool) or not (isinstance(wd, (int, float)) and math.isfinite(wd) and wd >= 0):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {wd!r}")
        object.__setattr__(self, "weight_decay", float(wd))


CPU_CHUNK_ELEMENTS = 1 << 17
COMPILE_AUTO_STEPS = 100_000


class one_thread:
    """torch on one intra-op thread inside the block (these small operations are as fast on one, and
    two spinning OpenMP threads collapse on a shared CPU: measured 3.4 s against 16 s for the same
    curves at load 4 on 2 cores)."""

    def __enter__(self):
        self.saved = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.saved)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """ "auto" → cuda when available, else cpu; anything else is checked and passed through."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:n]', got {device!r}") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available; use device='auto' or 'cpu'")
    return dev


def seed_streams(seed: int) -> tuple[int, int]:
    """Independent (initialisation, data) seeds derived from one run seed."""
    init, data = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    return int(init), int(data)


def snapshot_steps(steps: int, n: int) -> np.ndarray:
    """Step 0, then about n log-spaced steps up to `steps` (inclusive), without repeats."""
    grid = np.unique(np.round(np.logspace(0, math.log10(steps), n)).astype(int))
    return np.unique(np.concatenate([[0], grid, [steps]]))


class Normaliser:
    """A column normalisation p = norm(logits) over the last axis and its vector-Jacobian product.

    kind: "softmax", "linear" (p = logits / n) or a key of `models.ACTIVATIONS`
    (p_i = f(s_i)/Σ_j f(s_j)). forward(logits) → (p, ctx); vjp(g_p, p, logits, ctx) → ∂/∂logits:
      softmax: p ∘ (g_p − ⟨p, g_p⟩);   linear: g_p / n;
      f-normalised: f′(s) ∘ (g_p − ⟨p, g_p⟩) / Σ_j f(s_j).
    """

    def __init__(self, kind: str, n: int | None = None):
        from .models import ACTIVATIONS

        if kind == "linear" and n is None:
            raise ValueError("linear attention needs its fixed normaliser n")
        if kind not in ("softmax", "linear") and kind not in ACTIVATIONS:
            raise ValueError(f"unknown normalisation {kind!r}")
        self.kind, self.n = kind, n
        self.act = ACTIVATIONS.get(kind)

    def forward(self, logits):
        if self.kind == "softmax":
            return torch.softmax(logits, dim=-1), None
        if self.kind == "linear":
            return logits / self.n, None
        f = self.act.f(logits)
        S = f.sum(dim=-1, keepdim=True).clamp_min(1e-30)
        return f / S, S

    def vjp(self, g_p, p, logits, ctx):
        if self.kind == "softmax":
            return torch._softmax_backward_data(g_p, p, -1, p.dtype)  # p ∘ (g_p − ⟨p, g_p⟩)
        if self.kind == "linear":
            return g_p / self.n
        centred = g_p - (g_p * p).sum(dim=-1, keepdim=True)
        return centred.div_(ctx).mul_(self.act.df(logits))


_SOFTMAX = Normaliser("softmax")


def normaliser(kind: str, n: int | None = None) -> Normaliser:
    """The `Normaliser` of a normalisation (n: linear attention's fixed normaliser)."""
    return _SOFTMAX if kind == "softmax" else Normaliser(kind, n)


def softmax_loss_and_grad(factors, Z, x_q, y_q, d: int, scale: float):
    """Per-model MSE of softmax attention and its gradient, by hand (see `attention_loss_and_grad`)."""
    return attention_loss_and_grad(factors, Z, x_q, y_q, d, scale, _SOFTMAX)


def attention_loss_and_grad(factors, Z, x_q, y_q, d: int, scale: float, norm: Normaliser = _SOFTMAX):
    """Per-model MSE of attention with normalisation `norm` and its gradient, by hand.

    factors: (M, 4, H, D, D); Z: (M, B, L, D); x_q: (M, B, d); y_q: (M, B, T)
    → loss (M,), grad (M, 4, H, D, D). Equal to autograd of `AttentionModel.forward` (tested).
    """
    Q, K, V, O = factors.unbind(1)  # (M, H, D, D)
    M, B, L, D = Z.shape
    H, T = Q.shape[1], D - d
    W = scale * K.transpose(-1, -2) @ Q  # (M, H, D, D) KQ circuit
    U = O[..., d:, :] @ V  # (M, H, T, D) rows of the OV circuit that write y
    Wx = W[..., :d].reshape(M, H * D, d)  # rows (h, i)
    U_flat = U.transpose(-1, -2).reshape(M, H * D, T)  # [(h, i), t]
    Zf = Z.reshape(M * B, L, D)
    q_tilde = torch.bmm(x_q, Wx.transpose(1, 2)).view(M * B, H, D)  # W_h z_q
    logits = torch.bmm(q_tilde, Zf.transpose(1, 2))  # (MB, H, L)
    p, ctx = norm.forward(logits)
    a = torch.bmm(p, Zf).view(M, B, H * D)  # Σ_l p_hl z_l
    r = torch.bmm(a, U_flat) - y_q  # (M, B, T) residual ŷ − y_q
    loss = (r * r).mean(dim=(1, 2))
    g_y = r * (2.0 / (B * T))
    g_U = torch.bmm(a.transpose(1, 2), g_y).view(M, H, D, T).transpose(-1, -2)  # (M, H, T, D)
    g_a = torch.bmm(g_y, U_flat.transpose(1, 2)).view(M * B, H, D)
    g_p = torch.bmm(g_a, Zf.transpose(1, 2))  # (MB, H, L)
    g_logits = norm.vjp(g_p, p, logits, ctx)
    g_q = torch.bmm(g_logits, Zf).view(M, B, H * D)
    g_Wx = torch.bmm(g_q.transpose(1, 2), x_q).view(M, H, D, d)  # ∂/∂W[..., :d]; other columns 0
    grad = torch.zeros_like(factors)
    grad[:, 0, ..., :d] = scale * (K @ g_Wx)  # W = s KᵀQ → ∂Q = s K ∂W
    grad[:, 1] = scale * (Q[..., :d] @ g_Wx.transpose(-1, -2))  # ∂K = s Q ∂Wᵀ
    grad[:, 2] = O[..., d:, :].transpose(-1, -2) @ g_U  # OV = O V → ∂V = Oᵀ ∂OV
    grad[:, 3, ..., d:, :] = g_U @ V.transpose(-1, -2)  # ∂O = ∂OV Vᵀ
    return loss, grad


def _loss_and_grad_with(factors, Z, x_q, y_q, d, scale, *, norm):
    return attention_loss_and_grad(factors, Z, x_q, y_q, d, scale, norm)


def autograd_loss_and_grad(model: AttentionModel, Z, x_q, y_q):
    """The same for any normalisation, through autograd."""
    with torch.enable_grad():
        loss = ((model(Z, x_q) - y_q) ** 2).mean(dim=(1, 2))
        (grad,) = torch.autograd.grad(loss.sum(), model.factors)
    return loss.detach(), grad


class Trainer:
    """Trains M models of one configuration, differing only in their seeds, in lockstep.

    The whole state (factors, optimiser state, step, generator states, losses, snapshots) is in
    `state_dict()`, so a run can be checkpointed and resumed bit for bit. compile: run the
    hand-written gradient through torch.compile (True, False, or "auto": runs of ≥ 100k steps on a GPU).
    fast: use the hand-written gradient (default; every normalisation has one), else autograd.
    """

    def __init__(
        self,
        task: TaskConfig,
        model: ModelConfig,
        train: TrainConfig,
        seeds,
        device="auto",
        compile="auto",
        fast: bool = True,
    ):
        self.task, self.model_config, self.train = task, model, train
        self.seeds = [int(s) for s in seeds]
        self.device = resolve_device(device)
        inits, datas = zip(*(seed_streams(s) for s in self.seeds))
        self.model = AttentionModel(task.d, task.n_tasks, model, list(inits), L_train=task.L).to(self.device)
        self.theta = self.model.factors.data  # (M, 4, H, D, D), updated in place
        self.exp_avg = torch.zeros_like(self.theta)
        self.exp_avg_sq = torch.zeros_like(self.theta)
        self.generators = [torch.Generator(device=self.device).manual_seed(s) for s in datas]
        self.step = 0
        M = len(self.seeds)
        self.losses = torch.full((train.steps, M), float("nan"), device=self.device)
        self.snap_steps = snapshot_steps(train.steps, train.n_snapshots)
        S, H, D = len(self.snap_steps), model.heads, self.model.D
        self.snap_kq = torch.full((S, M, H, D, D), float("nan"), device=self.device)
        self.snap_ov = torch.full((S, M, H, D, D), float("nan"), device=self.device)
        self._normals = torch.empty(M, n_normals(task, train.batch), device=self.device)
        self._fast = bool(fast)
        self._norm = normaliser(model.normalisation, self.model.linear_n)
        # models per call of the hand-written gradient: all at once on a GPU; on a CPU about
        # 2^17 attention weights (B·H·L per model) at a time (measured in benchmarks/)
        per_model = train.batch * model.heads * task.L
        self._chunk = M if self.device.type != "cpu" else max(1, min(M, CPU_CHUNK_ELEMENTS // per_model))
        # torch.compile (inductor) fuses the hand-written gradient, after 4-12 s of compilation per
        # shape, equal to the eager gradient to float32 rounding, not bit for bit. On a 2-core CPU
        # the whole step gains nothing (3 models, H = 2: 1074 compiled vs 1117 eager model-steps/s,
        # 2026-11-26), so "auto" compiles only long runs on a GPU; CPU runs stay bit-reproducible.
        if compile not in (True, False, "auto"):
            raise ValueError(f"compile must be True, False or 'auto', got {compile!r}")
        auto = train.steps >= COMPILE_AUTO_STEPS and self.device.type == "cuda"
        self.compiled = self._fast and (auto if compile == "auto" else compile)
        if self._norm is _SOFTMAX:  # the softmax function itself, as before (compiled kernels are cached per function)
            f = softmax_loss_and_grad
        else:
            f = functools.partial(_loss_and_grad_with, norm=self._norm)
        self._loss_grad = torch.compile(f, dynamic=False) if self.compiled else f
        self._record_snapshot()

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def _record_snapshot(self):
        hit = np.flatnonzero(self.snap_steps == self.step)
        if hit.size:
            with torch.no_grad():
                self.snap_kq[hit[0]] = self.model.kq()
                self.snap_ov[hit[0]] = self.model.ov()

    def sample(self):
        """The next batch of every model: (Z, x_q, y_q) with a leading model axis."""
        self._draw(self._normals)
        return self._prompts(self._normals)

    def _draw(self, normals: torch.Tensor):
        for row, g in zip(normals, self.generators):  # model m's stream only from its generator
            row.normal_(generator=g)

    def _prompts(self, normals: torch.Tensor):
        P = prompts_from_normals(self.task, normals, self.train.batch)
        return P.Z, P.x_q, P.y_q

    def loss_and_grad(self, Z, x_q, y_q):
        """Per-model loss (M,) and gradient (M, 4, H, D, D) on one batch per model."""
        if not self._fast:
            return autograd_loss_and_grad(self.model, Z, x_q, y_q)
        d, s, c = self.task.d, self.model.scale, self._chunk
        f = self._loss_grad
        if c >= self.n_models:
            return f(self.theta, Z, x_q, y_q, d, s)
        # a few models at a time keep the (B, H, L) attention arrays in a CPU core's L2 cache;
        # models never mix, so the numbers are those of the one-shot call
        parts = [
            f(self.theta[i : i + c], Z[i : i + c], x_q[i : i + c], y_q[i : i + c], d, s)
            for i in range(0, self.n_models, c)
        ]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def step_on(self, Z, x_q, y_q):
        """One optimiser step of every model on the given batches; records the loss and snapshots."""
        loss, grad = self.loss_and_grad(Z, x_q, y_q)
        self.losses[self.step] = loss
        self.update(grad)
        self.step += 1
        self._record_snapshot()

    def update(self, grad: torch.Tensor):
        """One step of `train.optimizer` on the one flat tensor, as step `self.step + 1` (the caller
        advances `self.step`). The state lives in `exp_avg` (Adam's first moment, SGD's momentum
        buffer) and `exp_avg_sq` (Adam's second moment, RMSprop's square average)."""
        opt, wd = self.train.optimizer, self.train.weight_decay
        if opt in ("adam", "adamw"):
            if wd != 0:
                if opt == "adamw":
                    self.theta.mul_(1 - self.train.lr * wd)
                else:
                    grad = grad.add(self.theta, alpha=wd)
            self.adam_update(grad)
            return
        if wd != 0:
            grad = grad.add(self.theta, alpha=wd)
        if opt == "sgd":
            self._sgd_update(grad)
        else:
            self._rmsprop_update(grad)

    def _sgd_update(self, grad: torch.Tensor):
        """torch.optim.SGD's update (heavy ball, dampening 0, no Nesterov); the buffer starts as the first gradient."""
        if self.step == 0:
            self.exp_avg.copy_(grad)
        else:
            self.exp_avg.mul_(self.train.momentum).add_(grad)
        self.theta.add_(self.exp_avg, alpha=-self.train.lr)

    def _rmsprop_update(self, grad: torch.Tensor):
        """torch.optim.RMSprop's update (no momentum, not centred)."""
        a = self.train.alpha
        self.exp_avg_sq.mul_(a).addcmul_(grad, grad, value=1 - a)
        self.theta.addcdiv_(grad, self.exp_avg_sq.sqrt().add_(self.train.eps), value=-self.train.lr)

    def adam_update(self, grad: torch.Tensor):
        """torch.optim.Adam's update (no weight decay, no amsgrad), on the one flat tensor."""
        b1, b2 = self.train.betas
        t = self.step + 1
        self.exp_avg.lerp_(grad, 1 - b1)
        self.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        denom = (self.exp_avg_sq.sqrt() / math.sqrt(bc2)).add_(self.train.eps)
        self.theta.addcdiv_(self.exp_avg, denom, value=-self.train.lr / bc1)

    def run(
        self,
        until: int | None = None,
        *,
        progress: bool = False,
        on_chunk=None,
        chunk: int = 1000,
        prefetch: bool | None = None,
        threads: int | None = 1,
    ):
        """Train up to step `until` (default: the configured steps).

        Every `chunk` steps the losses are checked (NaN/inf stops the run with the step number)
        and `on_chunk(self)` is called (used for checkpoints). prefetch (default: on a CPU)
        prepares the next batch (draws and transform) in a second thread while this one
        computes; the streams, and so the results, are the same either way. threads: torch's intra-op threads
        during the run on a CPU (None leaves the setting alone). One is as fast for these small
        operations and, unlike two spinning OpenMP threads, does not collapse when the CPU is
        shared with other processes (measured: 779 vs 24 steps/s at load 7 on 2 cores).
        """
        until = self.train.steps if until is None else min(until, self.train.steps)
        if prefetch is None:
            prefetch = self.device.type == "cpu"
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=self.train.steps,
                initial=self.step,
                desc=f"train H={self.model_config.heads} M={self.n_models}",
                unit="step",
                mininterval=1.0,
            )
        saved_threads, saved_switch = torch.get_num_threads(), sys.getswitchinterval()
        if threads is not None and self.device.type == "cpu":
            torch.set_num_threads(threads)
        if prefetch:
            # the two threads hand the GIL back and forth between short tensor operations; a
            # 0.5 ms switch interval (Python's default is 5 ms) lets the waiting one in sooner
            sys.setswitchinterval(5e-4)
        try:
            while self.step < until:
                # chunks end on multiples of `chunk`; a prefetcher never draws past one, so at a
                # chunk's end the generators sit exactly at self.step (checkpoints need this)
                start, end = self.step, min(until, (self.step // chunk + 1) * chunk)
                self._run_steps(end, prefetch)
                self._check_finite(start)
                if bar is not None:
                    bar.n = self.step
                    bar.refresh()
                if on_chunk is not None:
                    on_chunk(self)
        finally:
            torch.set_num_threads(saved_threads)
            sys.setswitchinterval(saved_switch)
            if bar is not None:
                bar.close()
        return self

    @torch.no_grad()
    def _run_steps(self, end: int, prefetch: bool):
        batches = _Prefetcher(self, end - self.step) if prefetch else None
        try:
            while self.step < end:
                if batches is None:
                    self._draw(self._normals)
                    self.step_on(*self._prompts(self._normals))
                else:
                    buf, batch = batches.get()
                    self.step_on(*batch)
                    batches.release(buf)
        finally:
            if batches is not None:
                batches.close()

    def _check_finite(self, start: int):
        block = self.losses[start : self.step]
        bad = ~torch.isfinite(block)
        if bad.any() or not torch.isfinite(self.theta).all():
            rows, cols = (
                torch.nonzero(bad, as_tuple=True)
                if bad.any()
                else (torch.tensor([block.shape[0] - 1]), torch.tensor([0]))
            )
            step, m = start + int(rows[0]) + 1, int(cols[0])
            raise TrainingDiverged(
                f"training diverged: the loss is not finite at step {step} (model seed {self.seeds[m]}, "
                f"heads={self.model_config.heads}, lr={self.train.lr}); lower lr or check the configuration"
            )

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "step": torch.tensor(self.step),
            "theta": self.theta.cpu().clone(),
            "exp_avg": self.exp_avg.cpu().clone(),
            "exp_avg_sq": self.exp_avg_sq.cpu().clone(),
            "losses": self.losses.cpu().clone(),
            "snap_kq": self.snap_kq.cpu().clone(),
            "snap_ov": self.snap_ov.cpu().clone(),
            "rng": [g.get_state() for g in self.generators],
            "seeds": torch.tensor(self.seeds),
        }

    def load_state_dict(self, state: dict):
        if state["seeds"].tolist() != self.seeds or state["theta"].shape != self.theta.shape:
            raise ValueError("checkpoint belongs to another run (seeds or shapes differ)")
        self.step = int(state["step"])
        for name in ("theta", "exp_avg", "exp_avg_sq", "losses", "snap_kq", "snap_ov"):
            getattr(self, name).copy_(state[name])
        for g, s in zip(self.generators, state["rng"]):
            g.set_state(s)
        return self


class _Prefetcher:
    """Prepares the next `n` batches in a background thread (double buffering): the random
    draws and their transformation into prompts, in place in a buffer the consumer releases
    after its step. It draws exactly `n` batches, so when they are consumed the generators are
    where a run without prefetching would have left them.
    """

    def __init__(self, trainer: Trainer, n: int, depth: int = 2):
        import queue
        import threading

        self.trainer, self.n = trainer, n
        self.free: queue.Queue = queue.Queue()
        self.ready: queue.Queue = queue.Queue()
        for _ in range(depth):
            self.free.put(torch.empty_like(trainer._normals))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self):
        import queue

        try:
            for _ in range(self.n):
                while True:
                    if self.stop.is_set():
                        return
                    try:
                        buf = self.free.get(timeout=0.1)
                        break
                    except queue.Empty:
                        continue
                self.trainer._draw(buf)
                self.ready.put((buf, self.trainer._prompts(buf)))
        except BaseException as e:  # surfaced in the consumer
            self.ready.put(e)

    def get(self):
        """(buffer, (Z, x_q, y_q)) of the next batch."""
        item = self.ready.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def release(self, buf: torch.Tensor):
        self.free.put(buf)

    def close(self):
        self.stop.set()
        self.thread.join()
