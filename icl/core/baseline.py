"""Straightforward implementations, kept as the benchmark's baselines and as references.

- `AuthorsAttention`: the authors' own formulation (XintianPan/ICL_linear, `src/models.py`,
  `MultiHeadAttention.forward(z_q, z)`): nn.Linear projections, the query projected from z_q only,
  keys and values from the context, softmax scaled by 1/√D, an output projection. This is what a
  user of their code trains, so it is the benchmark's baseline.
- `NaiveAttention`: causal self-attention over the whole sequence (every token a query), read
  at the last token: slower, kept as a second, labelled row.

One model, no model axis, autograd and torch.optim.Adam for everything.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .data import Prompts

__all__ = ["AuthorsAttention", "NaiveAttention"]


def _copy_factors(model, index: int, linears, net: nn.Module) -> nn.Module:
    """Copy model `index`'s Q, K, V (H·D × D, heads stacked) and O (D × H·D, side by side) into the
    four nn.Linear layers `linears`; returns `net` on the model's device."""
    H, D = model.config.heads, model.D
    weights = (
        model.q[index].reshape(H * D, D),
        model.k[index].reshape(H * D, D),
        model.v[index].reshape(H * D, D),
        model.o[index].permute(1, 0, 2).reshape(D, H * D),
    )
    with torch.no_grad():
        for lin, w in zip(linears, weights):
            lin.weight.copy_(w)
    return net.to(model.q.device)


class NaiveAttention(nn.Module):
    """H-head causal self-attention on tokens of width D = d + T, residual, no bias."""

    def __init__(self, d: int, n_tasks: int, heads: int):
        super().__init__()
        self.d, self.n_tasks, self.heads = d, n_tasks, heads
        self.D = D = d + n_tasks
        self.W_q = nn.Linear(D, heads * D, bias=False)
        self.W_k = nn.Linear(D, heads * D, bias=False)
        self.W_v = nn.Linear(D, heads * D, bias=False)
        self.W_o = nn.Linear(heads * D, D, bias=False)  # [O_1 … O_H] side by side

    @classmethod
    def from_factors(cls, model, index: int = 0) -> NaiveAttention:
        """Copy model `index` of an `AttentionModel` (softmax only)."""
        if model.config.normalisation != "softmax":
            raise ValueError("NaiveAttention implements softmax attention only")
        net = cls(model.d, model.n_tasks, model.config.heads)
        return _copy_factors(model, index, (net.W_q, net.W_k, net.W_v, net.W_o), net)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (B, N, D), the query last → prediction (B, T) from the last token."""
        B, N, D = tokens.shape
        H = self.heads
        q = self.W_q(tokens).view(B, N, H, D).transpose(1, 2)  # (B, H, N, D)
        k = self.W_k(tokens).view(B, N, H, D).transpose(1, 2)
        v = self.W_v(tokens).view(B, N, H, D).transpose(1, 2)
        # strict causal mask: a token attends to the tokens before it. The first token has none;
        # letting it see itself avoids 0/0 and changes nothing downstream of one layer.
        mask = torch.ones(N, N, dtype=torch.bool, device=tokens.device).tril(-1)
        mask[0, 0] = True
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # scale 1/√D
        out = tokens + self.W_o(heads.transpose(1, 2).reshape(B, N, H * D))
        return out[:, -1, self.d :]

    @staticmethod
    def tokens(prompts: Prompts) -> torch.Tensor:
        """(B, L+1, D) token sequence: the context, then z_q = (x_q, 0)."""
        zq = torch.cat([prompts.x_q, torch.zeros_like(prompts.y_q)], dim=-1)
        return torch.cat([prompts.Z, zq[:, None]], dim=1)


class AuthorsAttention(nn.Module):
    """The authors' H-head attention of the query over the context (their `MultiHeadAttention` with
    n_embd = D, no bias): ŷ = (o_proj(softmax(q_proj(z_q) k_proj(Z)ᵀ/√D) v_proj(Z)))[d:]."""

    def __init__(self, d: int, n_tasks: int, heads: int):
        super().__init__()
        self.d, self.n_tasks, self.heads = d, n_tasks, heads
        self.D = D = d + n_tasks
        self.q_proj = nn.Linear(D, heads * D, bias=False)
        self.k_proj = nn.Linear(D, heads * D, bias=False)
        self.v_proj = nn.Linear(D, heads * D, bias=False)
        self.o_proj = nn.Linear(heads * D, D, bias=False)

    @classmethod
    def from_factors(cls, model, index: int = 0) -> AuthorsAttention:
        """Copy model `index` of an `AttentionModel` (softmax only)."""
        if model.config.normalisation != "softmax":
            raise ValueError("AuthorsAttention implements softmax attention only")
        net = cls(model.d, model.n_tasks, model.config.heads)
        return _copy_factors(model, index, (net.q_proj, net.k_proj, net.v_proj, net.o_proj), net)

    def forward(self, Z: torch.Tensor, x_q: torch.Tensor) -> torch.Tensor:
        """Z (B, L, D) the context, x_q (B, d) the query → prediction (B, T)."""
        B, L, D = Z.shape
        H = self.heads
        z_q = torch.cat([x_q, torch.zeros(B, self.n_tasks, dtype=Z.dtype, device=Z.device)], dim=-1)
        q = self.q_proj(z_q).view(B, H, 1, D)  # (B, H, 1, D)
        k = self.k_proj(Z).view(B, L, H, D).transpose(1, 2)  # (B, H, L, D)
        v = self.v_proj(Z).view(B, L, H, D).transpose(1, 2)
        p = torch.softmax(q @ k.transpose(-1, -2) * D**-0.5, dim=-1)  # (B, H, 1, L)
        out = self.o_proj((p @ v).reshape(B, H * D))  # (B, D)
        return out[:, self.d :]
