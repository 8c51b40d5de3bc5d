"""One-layer multi-head attention in the authors' factored parametrisation (paper §2).

Every head h has Q_h, K_h, V_h, O_h ∈ R^{D×D}, D = d + T (token = [x; y^(1..T)]). With a strict
causal mask (a position attends only to earlier ones, App. C) the prediction for task t is the
(d+t)-th entry of the query column of

    TF(Z) = Z + Σ_h O_h V_h Z · norm(mask(s · Zᵀ K_hᵀ Q_h Z)),      s = 1/√D          (2.2)

and because the query token's y-slots are 0 only two circuits matter (2.3):

    ŷ_t = Σ_h u_{h,t}ᵀ Z_{1:L} norm(Z_{1:L}ᵀ W_h z_q),   W_h = s K_hᵀ Q_h,  u_{h,t} = (O_h V_h)[d+t, :].

`AttentionModel.forward` computes only that in O(B·H·L·D) by forming q̃_h = W_h z_q first;
`forward_full` is the literal (2.2) over the whole sequence and exists to check it.

A leading model axis M holds independent models (seeds of one configuration) trained together:
parameters are (M, H, D, D) and nothing mixes models.

norm is the column normalisation: "softmax"; "linear" (s ↦ s / n, n fixed, §5.1); or
f(s)/Σf(s) for a positive f (§5.2): "relu" f = relu(1 + s), "square" f = (1 + s)²,
"sigmoid" f = σ(s), and with a constant b: "relu_0.8" f = relu(1 + 0.8 s), "square_0.8"
f = (1 + 0.8 s)². Each is an `Activation` in `ACTIVATIONS` (f, f′ and the first-order constant
a = f′(0)/f(0)). The constants of the f's are our choice; the paper's were lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ModelConfig", "AttentionModel", "NORMALISATIONS", "INITS", "Activation", "ACTIVATIONS"]


@dataclass(frozen=True)
class Activation:
    """A positive activation f of a normalised attention softmax_f(v)_i = f(v_i)/Σ_j f(v_j) (§5.2).

    family: "exp", "relu" (f = relu(1 + b s)), "square" (f = (1 + b s)²) or "sigmoid" (f = σ(s));
    b: the family's constant (1 where the family has none)."""

    family: str
    b: float = 1.0

    def f(self, s: torch.Tensor) -> torch.Tensor:
        if self.family == "exp":
            return torch.exp(self.b * s)
        if self.family == "relu":
            return torch.relu(1.0 + self.b * s)
        if self.family == "square":
            return (1.0 + self.b * s) ** 2
        if self.family == "sigmoid":
            return torch.sigmoid(self.b * s)
        raise ValueError(f"unknown activation family {self.family!r}")

    def df(self, s: torch.Tensor) -> torch.Tensor:
        """f′(s), for the hand-written gradient (at relu's kink: 0, as autograd)."""
        b = self.b
        if self.family == "exp":
            return b * torch.exp(b * s)
        if self.family == "relu":
            return b * (1.0 + b * s > 0).to(s.dtype)
        if self.family == "square":
            return 2.0 * b * (1.0 + b * s)
        if self.family == "sigmoid":
            g = torch.sigmoid(b * s)
            return b * g * (1.0 - g)
        raise ValueError(f"unknown activation family {self.family!r}")

    @property
    def a(self) -> float:
        """First-order constant: f(x) ≈ f(0)(1 + a x), a = f′(0)/f(0)."""
        z = torch.zeros((), dtype=torch.float64)
        return float(self.df(z) / self.f(z))


# The normalised activations the package trains (§5.2); the paper's exact list was lost, ours is a choice.
ACTIVATIONS = {
    "relu": Activation("relu", 1.0),
    "relu_0.8": Activation("relu", 0.8),
    "square": Activation("square", 1.0),
    "square_0.8": Activation("square", 0.8),
    "sigmoid": Activation("sigmoid", 1.0),
}

NORMALISATIONS = ("softmax", "linear", *ACTIVATIONS)
INITS = ("default", "opposite_identity")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and initialisation.

    heads: H. normalisation: one of NORMALISATIONS. linear_n: the fixed normaliser n of linear
    attention (defaults to the training L). init: "default" (nn.Linear's U(±1/√D) for every
    factor) or "opposite_identity" (App. B: head h gets W_h = ±omega0·I, u_h = ±mu0 e_y, signs
    alternating, every other entry 0). omega0, mu0: scales of that init.
    init_scale: multiplies the "default" init's factors, U(±init_scale/√D), so the KQ and OV circuits
      scale by init_scale² (same seed, same draws); it must be 1 with "opposite_identity". A RunConfig
      leaves it out of its cache key at 1.0, so adding it changed no key.
    """

    heads: int = 2
    normalisation: str = "softmax"
    linear_n: int | None = None
    init: str = "default"
    omega0: float = 0.01
    mu0: float = 0.01
    init_scale: float = 1.0

    def __post_init__(self):
        if isinstance(self.heads, bool) or not isinstance(self.heads, int) or self.heads < 1:
            raise ValueError(f"heads must be an integer >= 1, got {self.heads!r}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.linear_n is not None and (not isinstance(self.linear_n, int) or self.linear_n < 1):
            raise ValueError(f"linear_n must be a positive integer or None, got {self.linear_n!r}")
        for name in ("omega0", "mu0"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        v = self.init_scale
        if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"init_scale must be a finite number > 0, got {v!r}")
        if self.init != "default" and v != 1:
            raise ValueError(
                f"init_scale scales the 'default' init only; with init {self.init!r} it must be 1, got {v!r}"
            )
        object.__setattr__(self, "init_scale", float(v))


def normalise(logits: torch.Tensor, kind: str, n: int | None) -> torch.Tensor:
    """Attention weights from logits (..., L) along the last axis."""
    if kind == "softmax":
        return torch.softmax(logits, dim=-1)
    if kind == "linear":
        return logits / (n if n is not None else logits.shape[-1])
    f = positive_f(logits, kind)
    return f / f.sum(dim=-1, keepdim=True).clamp_min(1e-30)


class AttentionModel(nn.Module):
    """M independent one-layer H-head attention models on tokens of width D = d + T.

    factors: (M, 4, H, D, D), the parameters Q_h, K_h, V_h, O_h of each model (also as the
    views q, k, v, o). seeds: one per model; model m is initialised from seeds[m] alone.
    """

    def __init__(self, d: int, n_tasks: int, config: ModelConfig, seeds, L_train: int | None = None):
        super().__init__()
        seeds = [int(s) for s in ([seeds] if isinstance(seeds, int) else seeds)]
        if not seeds:
            raise ValueError("seeds must name at least one model")
        self.d, self.n_tasks, self.config = d, n_tasks, config
        self.D = D = d + n_tasks
        self.scale = 1.0 / math.sqrt(D)
        self.linear_n = config.linear_n if config.linear_n is not None else L_train
        # (M, 4, H, D, D): Q_h, K_h, V_h, O_h of every model in one tensor, so an optimiser
        # step is a handful of vector operations
        self.factors = nn.Parameter(torch.stack([self._init_factors(s) for s in seeds]))

    @property
    def q(self) -> torch.Tensor:  # (M, H, D, D)
        return self.factors[:, 0]

    @property
    def k(self) -> torch.Tensor:
        return self.factors[:, 1]

    @property
    def v(self) -> torch.Tensor:
        return self.factors[:, 2]

    @property
    def o(self) -> torch.Tensor:
        return self.factors[:, 3]

    def _init_factors(self, seed: int) -> torch.Tensor:
        H, D, d, cfg = self.config.heads, self.D, self.d, self.config
        if cfg.init == "default":
            g = torch.Generator().manual_seed(seed)
            bound = 1.0 / math.sqrt(D)  # nn.Linear(D, D).weight's kaiming_uniform(a=√5) bound
            factors = (torch.rand(4, H, D, D, generator=g) * 2 - 1) * bound
            return factors if cfg.init_scale == 1 else factors * cfg.init_scale
        # opposite small identity: W_h = s K_hᵀQ_h = ±ω0 I, (O_h V_h) = ±μ0 I on the y-block
        sign = torch.tensor([(-1.0) ** h for h in range(H)]).view(H, 1, 1)
        eye = torch.eye(D).expand(H, D, D)
        qk = math.sqrt(cfg.omega0 / self.scale)
        ov = math.sqrt(cfg.mu0)
        q = sign * qk * eye
        k = qk * eye
        v_eye = torch.zeros(D, D)
        v_eye[d:, d:] = torch.eye(self.n_tasks)
        v = ov * v_eye.expand(H, D, D)
        o = sign * ov * eye
        return torch.stack([q, k, v, o])

    @classmethod
    def from_circuits(cls, kq, ov, d: int, config: ModelConfig, L_train: int | None = None) -> AttentionModel:
        """A model whose circuits are exactly kq, ov ((M, H, D, D) or (H, D, D)): K = I,
        Q = kq / s, V = ov, O = I. Dtype and device follow kq."""
        kq, ov = torch.as_tensor(kq), torch.as_tensor(ov, dtype=torch.as_tensor(kq).dtype)
        if kq.ndim == 3:
            kq, ov = kq[None], ov[None]
        M, H, D, _ = kq.shape
        if H != config.heads or ov.shape != kq.shape or D <= d:
            raise ValueError(
                f"kq and ov must both be (M, H={config.heads}, D, D) with D > d={d}; "
                f"got {tuple(kq.shape)} and {tuple(ov.shape)}"
            )
        m = cls(d, D - d, config, list(range(M)), L_train=L_train).to(kq.dtype)
        eye = torch.eye(D, dtype=kq.dtype).expand(M, H, D, D)
        with torch.no_grad():
            m.factors.copy_(torch.stack([kq / m.scale, eye, ov, eye], dim=1))
        return m.to(kq.device)

    @property
    def n_models(self) -> int:
        return self.q.shape[0]

    def kq(self) -> torch.Tensor:
        """W_h = s K_hᵀ Q_h, (M, H, D, D); row = key coordinate, column = query coordinate."""
        return self.scale * self.k.transpose(-1, -2) @ self.q

    def ov(self) -> torch.Tensor:
        """O_h V_h, (M, H, D, D); row d + t writes the prediction of task t."""
        return self.o @ self.v

    def forward(self, Z: torch.Tensor, x_q: torch.Tensor) -> torch.Tensor:
        """ŷ from the query column only.

        Z: (M, B, L, D) embedded contexts, x_q: (M, B, d) queries → (M, B, T).
        """
        d = self.d
        W = self.kq()[..., :d]  # (M, H, D, d): z_q's y-slots are 0
        U = self.ov()[..., d:, :]  # (M, H, T, D)
        q_tilde = torch.einsum("mhij,mbj->mbhi", W, x_q)  # (M, B, H, D)
        logits = q_tilde @ Z.transpose(-1, -2)  # (M, B, H, L)
        p = normalise(logits, self.config.normalisation, self.linear_n)
        a = p @ Z  # (M, B, H, D): attention-weighted context
        return torch.einsum("mbhi,mhti->mbt", a, U)

    def forward_full(self, Z_full: torch.Tensor) -> torch.Tensor:
        """The literal model (2.2) on whole sequences.

        Z_full: (M, B, D, N) with N = L + 1 columns, the query last → TF(Z), (M, B, D, N).
        Column i attends to columns j < i (strict causal mask); column 1 attends to nothing.
        """
        N = Z_full.shape[-1]
        keys = torch.einsum("mhij,mbjn->mbhin", self.k, Z_full)  # K_h Z
        queries = torch.einsum("mhij,mbjn->mbhin", self.q, Z_full)  # Q_h Z
        S = self.scale * torch.einsum("mbhij,mbhik->mbhjk", keys, queries)  # (…, key j, query k)
        allowed = torch.ones(N, N, dtype=torch.bool, device=Z_full.device).triu(1)  # j < k
        kind = self.config.normalisation
        if kind == "linear":
            P = torch.where(allowed, S, torch.zeros((), dtype=S.dtype, device=S.device))
            P = P / (self.linear_n if self.linear_n is not None else N - 1)
        else:
            Sm = S.transpose(-1, -2)  # (…, query, key): normalise over keys
            if kind == "softmax":
                Sm = Sm.masked_fill(~allowed.T, float("-inf"))
                P = torch.softmax(Sm, dim=-1)
            else:
                f = positive_f(Sm, kind).masked_fill(~allowed.T, 0.0)
                P = f / f.sum(dim=-1, keepdim=True).clamp_min(1e-30)
            P = torch.nan_to_num(P, nan=0.0).transpose(-1, -2)  # column 1 has no keys
        values = torch.einsum("mhij,mbjn->mbhin", self.ov(), Z_full)  # O_h V_h Z
        return Z_full + torch.einsum("mbhin,mbhnk->mbik", values, P)

    def predict_full(self, Z_full: torch.Tensor) -> torch.Tensor:
        """ŷ read off the full forward: entries d.. of the last column, (M, B, T)."""
        return self.forward_full(Z_full)[..., self.d :, -1]


def positive_f(s: torch.Tensor, kind: str) -> torch.Tensor:
    """The positive activation f of a normalised-activation attention (§5.2)."""
    if kind not in ACTIVATIONS:
        raise ValueError(f"normalisation {kind!r} has no positive activation f")
    return ACTIVATIONS[kind].f(s)
