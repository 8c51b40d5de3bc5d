"""Training dynamics of multi-head *linear* attention for in-context regression (Zhang, Singh,
Latham, Saxe, ICML 2025, arXiv:2501.16265): chapter 11's mathematics.

**Setting** (theirs). x_n, x_q ~ N(0, Λ) in R^D, w ~ N(0, I_D) per sequence, y = wᵀx, no label
noise, N context pairs. Λ = E diag(λ) Eᵀ with λ ∝ (D, D−1, …, 1), tr Λ = 1, E a random orthogonal
basis (columns e_d, largest eigenvalue first). With b = (1/N) Σ_n y_n x_n, every model below
predicts ŷ = bᵀ Γ x_q for a D×D matrix Γ (the x-blocks of linear attention in the 1/N
normalisation; the blocks that mix y into keys or x into values are decoupled from these by the
symmetry w → −w and are left out, as in the paper's reduced model):

- **merged** (ATTN_M): Γ = Σ_i v_i U_i, head i a merged key-query block U_i (D×D), value v_i;
- **separate**, rank R (ATTN_S): Γ = Σ_i v_i K_i Q_iᵀ, K_i, Q_i ∈ R^{D×R} (rank one: v_i k_i q_iᵀ).

**Population loss** (ours, derived in the chapter and checked by Monte Carlo in the tests):
E[bbᵀ] = Ω = Λ² + Λ(Λ + tr Λ·I)/N, so

    L(Γ) = E(ŷ − y_q)² = tr Λ − 2 tr(ΓΛ²) + tr(Γᵀ Ω Γ Λ),   ∂L/∂Γ = −2G,  G = Λ² − ΩΓΛ.

**Gradient flow** τθ̇ = −½ ∂L/∂θ (τ = 1): merged U̇_i = v_i G, v̇_i = ⟨U_i, G⟩; separate
K̇_i = v_i G Q_i, Q̇_i = v_i Gᵀ K_i, v̇_i = tr(K_iᵀ G Q_i). One full-batch GD step of rate η on the
loss is Δt = 2η of this flow.

**Fixed points** (ATTN_S): Γ_S = Σ_{d∈S} (λ_d c_d)⁻¹ e_d e_dᵀ, c_d = 1 + (1 + tr Λ/λ_d)/N, with
loss L(M_m) = tr Λ − Σ_{d≤m} λ_d/c_d on plateau m (S = the top m directions): in-context
principal component regression with m components. m = D is the global minimum, which is also the
merged model's converged Γ* = (Λ + (Λ + tr Λ·I)/N)⁻¹.

Shapes: U (H, D, D), K and Q (H, D, R), v (H,); a trajectory's states are flat vectors (n_t, P).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp

__all__ = [
    "Setting",
    "paper_spectrum",
    "setting",
    "omega",
    "population_loss",
    "gradient_G",
    "c_d",
    "plateau_gamma",
    "plateau_losses",
    "converged_loss",
    "Params",
    "init_merged",
    "init_separate",
    "flow",
    "Sequences",
    "sample_sequences",
    "sampled_loss",
    "sampled_G",
    "param_velocity",
    "gd",
    "gd_autograd",
    "Trajectory",
    "white_loss",
    "scalar_ode",
    "Drop",
    "detect_drops",
    "plateau_readings",
    "eigen_contributions",
    "escape_slope",
    "prediction_gap",
    "pcr_gaps",
    "halfway_time",
    "white_init",
]


# ----------------------------------------------------------------------------- the setting
@dataclass(frozen=True)
class Setting:
    """lam: eigenvalues of Λ, largest first (D,); E: orthonormal eigenvectors as columns (D, D); N: context pairs."""

    lam: np.ndarray
    E: np.ndarray
    N: int

    D = property(lambda self: len(self.lam))
    Lam = property(lambda self: (self.E * self.lam) @ self.E.T)
    trace = property(lambda self: float(np.sum(self.lam)))


def paper_spectrum(D: int) -> np.ndarray:
    """The authors' eigenvalues: ∝ D, D−1, …, 1, scaled to trace 1 (D = 4: 0.4, 0.3, 0.2, 0.1)."""
    lam = np.arange(D, 0, -1, dtype=float)
    return lam / lam.sum()


def setting(D: int, N: int = 31, seed: int = 0, lam=None) -> Setting:
    """Λ with eigenvalues `lam` (default `paper_spectrum(D)`) in a random orthogonal basis (QR of a Gaussian)."""
    lam = paper_spectrum(D) if lam is None else np.asarray(lam, float)
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((D, D)))
    return Setting(lam, q * np.sign(np.diag(r)), N)


def omega(Lam, N):
    """Ω = E[bbᵀ] = Λ² + Λ(Λ + tr Λ·I)/N."""
    return Lam @ Lam + Lam @ (Lam + np.trace(Lam) * np.eye(len(Lam))) / N


def population_loss(Gamma, Lam, N) -> float:
    """L(Γ) = tr Λ − 2 tr(ΓΛ²) + tr(Γᵀ Ω Γ Λ): the test MSE of ŷ = bᵀΓx_q."""
    return float(np.trace(Lam) - 2 * np.trace(Gamma @ Lam @ Lam) + np.trace(Gamma.T @ omega(Lam, N) @ Gamma @ Lam))


def gradient_G(Gamma, Lam, N, Om=None):
    """G = Λ² − ΩΓΛ = −½ ∂L/∂Γ."""
    Om = omega(Lam, N) if Om is None else Om
    return Lam @ Lam - Om @ Gamma @ Lam


def c_d(s: Setting) -> np.ndarray:
    """c_d = 1 + (1 + tr Λ/λ_d)/N, so that λ_d c_d = λ_d + (λ_d + tr Λ)/N."""
    return 1 + (1 + s.trace / s.lam) / s.N


def plateau_gamma(s: Setting, m: int) -> np.ndarray:
    """Γ at plateau m (fixed point M_m): Σ_{d≤m} (λ_d c_d)⁻¹ e_d e_dᵀ — PCR on the top m components."""
    w = np.where(np.arange(s.D) < m, 1 / (s.lam * c_d(s)), 0.0)
    return (s.E * w) @ s.E.T


def plateau_losses(s: Setting) -> np.ndarray:
    """L(M_m) = tr Λ − Σ_{d≤m} λ_d/c_d for m = 0, …, D."""
    return s.trace - np.concatenate([[0.0], np.cumsum(s.lam / c_d(s))])


def converged_loss(s: Setting) -> float:
    """The global minimum L(Γ*) = L(M_D), Γ* = (Λ + (Λ + tr Λ·I)/N)⁻¹."""
    return float(plateau_losses(s)[-1])


# ----------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Params:
    """kind: "merged" or "separate"; H heads, D, rank R (merged: R = D, unused). Packs/unpacks flat vectors."""

    kind: str
    H: int
    D: int
    R: int = 1

    @property
    def size(self) -> int:
        return self.H * (1 + (self.D * self.D if self.kind == "merged" else 2 * self.D * self.R))

    def unpack(self, y):
        """Flat (…, P) → merged (v (…,H), U (…,H,D,D)); separate (v, K (…,H,D,R), Q (…,H,D,R))."""
        lead, H, D = y.shape[:-1], self.H, self.D
        v = y[..., :H]
        if self.kind == "merged":
            return v, y[..., H:].reshape(*lead, H, D, D)
        n = H * D * self.R
        return v, y[..., H : H + n].reshape(*lead, H, D, self.R), y[..., H + n :].reshape(*lead, H, D, self.R)

    def gamma(self, y):
        """Γ (…, D, D) of flat parameters y (numpy or torch)."""
        ein = np.einsum if isinstance(y, np.ndarray) else torch.einsum
        parts = self.unpack(y)
        if self.kind == "merged":
            return ein("...h,...hde->...de", parts[0], parts[1])
        return ein("...h,...hdr,...her->...de", *parts)


def init_merged(H: int, D: int, init: float, N: int, seed: int = 0) -> tuple[Params, np.ndarray]:
    """The authors' merged init (their code: every weight i.i.d. N(0, init²)), in our units. Their model sums
    over the N tokens where we average, so Γ_ours = N·Γ_theirs: each of Γ's two factors is × N^{1/2}."""
    p = Params("merged", H, D)
    return p, init * np.sqrt(N) * np.random.default_rng(seed).standard_normal(p.size)


def init_separate(H: int, D: int, R: int, init: float, N: int, seed: int = 0) -> tuple[Params, np.ndarray]:
    """The authors' separate init, in our units. Their code draws each layer's weights i.i.d.
    N(0, init²/numel): the key and query layers are (H·R) × (D+1), the value layer H(D+1) × (D+1); Γ is a
    product of three factors, so each is × N^{1/3} (sum over tokens → average)."""
    p = Params("separate", H, D, R)
    rng, a = np.random.default_rng(seed), init * N ** (1 / 3)
    v = a / ((D + 1) * np.sqrt(H)) * rng.standard_normal(H)
    kq = a / np.sqrt(H * R * (D + 1)) * rng.standard_normal(2 * H * D * R)
    return p, np.concatenate([v, kq])


# ----------------------------------------------------------------------------- two ways to train
@dataclass
class Trajectory:
    """t: times (n_t,) in flow units (τ = 1); loss: population loss L(Γ(t)) (n_t,); y: parameters (n_t, P);
    train_loss: the sampled-sequence loss (GD only, else None)."""

    p: Params
    t: np.ndarray
    loss: np.ndarray
    y: np.ndarray
    train_loss: np.ndarray | None = None

    def gammas(self) -> np.ndarray:
        return self.p.gamma(self.y)


def param_velocity(p: Params, y, G):
    """θ̇ = −½ ∂L/∂θ given G = −½ ∂L/∂Γ (any loss of Γ): merged (⟨U_i, G⟩, v_i G); separate
    (tr K_iᵀ G Q_i, v_i G Q_i, v_i Gᵀ K_i)."""
    if p.kind == "merged":
        v, U = p.unpack(y)
        return np.concatenate([np.einsum("hde,de->h", U, G), (v[:, None, None] * G).ravel()])
    v, K, Q = p.unpack(y)
    GQ = np.einsum("de,her->hdr", G, Q)
    return np.concatenate(
        [
            np.einsum("hdr,hdr->h", K, GQ),
            (v[:, None, None] * GQ).ravel(),
            (v[:, None, None] * np.einsum("de,hdr->her", G, K)).ravel(),
        ]
    )


def _flow_rhs(p: Params, Lam, N):
    Om, Lam2 = omega(Lam, N), Lam @ Lam
    return lambda _t, y: param_velocity(p, y, Lam2 - Om @ p.gamma(y) @ Lam)


def _losses(p, ys, Lam, N):
    return np.array([population_loss(g, Lam, N) for g in p.gamma(ys)])


def flow(p: Params, y0, s: Setting, t_eval, rtol: float = 1e-8, method: str = "DOP853") -> Trajectory:
    """Gradient flow of the population loss from y0, recorded at t_eval (SciPy's DOP853; "LSODA" for long
    horizons: once the last directions are slow the flow is stiff and LSODA takes ~10× fewer steps, agreeing
    to ~1e-4 relative — the tests compare the two)."""
    t_eval = np.asarray(t_eval, float)
    atol = 1e-6 * np.abs(y0).max()
    sol = solve_ivp(_flow_rhs(p, s.Lam, s.N), (0.0, t_eval[-1]), y0, method=method, t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(sol.message)
    return Trajectory(p, sol.t, _losses(p, sol.y.T, s.Lam, s.N), sol.y.T)


@dataclass(frozen=True)
class Sequences:
    """S sampled sequences, reduced to what the loss needs: b (S, D), x_q (S, D), y_q (S,)."""

    b: torch.Tensor
    xq: torch.Tensor
    yq: torch.Tensor


def sample_sequences(s: Setting, S: int, seed: int) -> Sequences:
    """x ~ N(0, Λ) (N context pairs and a query), w ~ N(0, I_D), y = wᵀx; b = (1/N) Σ_n y_n x_n."""
    g = torch.Generator().manual_seed(seed)
    root = torch.as_tensor(s.E * np.sqrt(s.lam))  # Λ^{1/2} up to rotation: x = root z
    x = torch.randn(S, s.N + 1, s.D, generator=g, dtype=torch.float64) @ root.T
    w = torch.randn(S, s.D, generator=g, dtype=torch.float64)
    y = torch.einsum("snd,sd->sn", x, w)
    b = torch.einsum("sn,snd->sd", y[:, :-1], x[:, :-1]) / s.N
    return Sequences(b, x[:, -1], y[:, -1])


def sampled_loss(gamma, data: Sequences):
    """The full-batch loss mean_s (b_sᵀΓx_{q,s} − y_{q,s})² on the sampled sequences (torch, differentiable)."""
    return ((((data.b @ gamma) * data.xq).sum(1) - data.yq) ** 2).mean()


def _moments(data: Sequences):
    """The same loss as a quadratic in vec Γ: mean y² − 2⟨Γ, A⟩ + vec Γᵀ M vec Γ, A = mean y_q b x_qᵀ,
    M = mean (b⊗x_q)(b⊗x_q)ᵀ: exact on the sample, and a step costs O(D⁴) instead of O(S D²)."""
    z = torch.einsum("sd,se->sde", data.b, data.xq).reshape(len(data.yq), -1)
    return (data.yq**2).mean(), (data.yq[:, None] * z).mean(0), z.T @ z / len(data.yq)


def sampled_G(data: Sequences):
    """Γ ↦ −½ ∂(sampled loss)/∂Γ = A − M vec Γ (numpy), from the sample's exact moments."""
    _, A, M = (x.numpy() for x in _moments(data))
    D = data.b.shape[1]
    return lambda gamma: (A - M @ gamma.ravel()).reshape(D, D)


def gd(p: Params, y0, s: Setting, data: Sequences, lr: float, steps: int, record) -> Trajectory:
    """Full-batch gradient descent on `sampled_loss`, rate lr: θ ← θ − lr ∂L̂/∂θ = θ + 2 lr θ̇, with the sampled
    gradient in closed form (equal to autograd's: `gd_autograd` and the tests), so that a step costs
    microseconds. Parameters are recorded at the step numbers `record` (sorted ints); time t = 2·lr·step."""
    Gs, y = sampled_G(data), np.array(y0, float)
    y2, A, M = (x.numpy() for x in _moments(data))
    rec, keep, train = set(int(r) for r in record), [], []
    for step in range(steps + 1):
        gamma = p.gamma(y)
        if step in rec:
            g = gamma.ravel()
            keep.append(y.copy()), train.append(float(y2 - 2 * g @ A + g @ M @ g))
        if step == steps:
            break
        y = y + 2 * lr * param_velocity(p, y, Gs(gamma))
    ys = np.array(keep)
    return Trajectory(p, 2 * lr * np.asarray(sorted(rec), float), _losses(p, ys, s.Lam, s.N), ys, np.array(train))


def gd_autograd(p: Params, y0, data: Sequences, lr: float, steps: int) -> np.ndarray:
    """The same descent with torch autograd on `sampled_loss` itself (the reference for `gd`): final parameters."""
    theta = torch.tensor(y0, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        (grad,) = torch.autograd.grad(sampled_loss(p.gamma(theta), data), theta)
        with torch.no_grad():
            theta -= lr * grad
    return theta.detach().numpy()


# ----------------------------------------------------------------------------- analytic pieces
def white_loss(t, D: int, N: int, s0: float):
    """Merged model, Λ = I, Γ(0) = s0·I with every head U_i ∝ I and |v_i| = ‖U_i‖_F: Γ(t) = s(t) I with
    the logistic ṡ = 2√D s(1 − κs), κ = 1 + (1 + D)/N, so L(t) = D(1 − 2s + κs²)."""
    kappa, e = 1 + (1 + D) / N, np.exp(-2 * np.sqrt(D) * np.asarray(t, float))  # e^{-rt}: no overflow
    s = s0 / (e + kappa * s0 * (1 - e))
    return D * (1 - 2 * s + kappa * s**2)


def scalar_ode(lam: float, c: float, v0: float, t_eval):
    """The newly learning head of ATTN_S (k = q = v·e, balanced): v̇ = λ²v² − λ³c v⁵, from v0."""
    sol = solve_ivp(
        lambda _t, v: lam**2 * v**2 - lam**3 * c * v**5,
        (0.0, float(np.max(t_eval))),
        [v0],
        t_eval=t_eval,
        rtol=1e-9,
        atol=1e-12,
    )
    return sol.y[0]


def eigen_contributions(traj: Trajectory, s: Setting) -> np.ndarray:
    """(n_t, H, D): head i's part of Γ's d-th eigen-diagonal, e_dᵀ(v_i K_i Q_iᵀ)e_d, over its converged
    value (λ_d c_d)⁻¹ — 1 when head i alone carries direction d."""
    p = traj.p
    v, K, Q = p.unpack(traj.y)
    kd, qd = np.einsum("dj,thdr->thjr", s.E, K), np.einsum("dj,thdr->thjr", s.E, Q)
    return v[..., None] * np.einsum("thjr,thjr->thj", kd, qd) * (s.lam * c_d(s))


# ----------------------------------------------------------------------------- reading loss curves
@dataclass(frozen=True)
class Drop:
    """One abrupt drop of a loss curve: [t_start, t_end], the time of its steepest point, loss before/after."""

    t_start: float
    t_end: float
    t_mid: float
    before: float
    after: float


def detect_drops(t, loss, threshold: float = 1.0, min_frac: float = 0.02) -> list[Drop]:
    """Drops of a loss curve sampled on a grid in ln t (t > 0): maximal runs where −dL/d ln t exceeds
    `threshold` × the curve's mean descent rate (L_first − L_last)/ln(t_last/t_first), keeping runs
    that fall by at least `min_frac` of the total descent."""
    t, loss = np.asarray(t, float), np.asarray(loss, float)
    u, total = np.log(t), loss[0] - loss[-1]
    rate = -np.diff(loss) / np.diff(u) / (total / (u[-1] - u[0]))
    fast = np.concatenate([[False], rate > threshold, [False]])
    edges = np.flatnonzero(np.diff(fast.astype(int)))
    drops = []
    for a, b in zip(edges[::2], edges[1::2]):  # intervals a..b-1, i.e. points a..b
        if loss[a] - loss[b] >= min_frac * total:
            k = a + int(np.argmax(rate[a:b]))
            drops.append(Drop(t[a], t[b], float(np.sqrt(t[k] * t[k + 1])), loss[a], loss[b]))
    return drops


def plateau_readings(t, loss, drops: list[Drop]):
    """For each plateau (before the first drop, between drops, after the last): the loss and the index at its
    flattest point (smallest |dL/d ln t|) — the closest the curve comes to the saddle."""
    t, loss = np.asarray(t, float), np.asarray(loss, float)
    rate = np.abs(np.diff(loss) / np.diff(np.log(t)))
    bounds = (
        [0] + [x for d in drops for x in (np.searchsorted(t, d.t_start), np.searchsorted(t, d.t_end))] + [len(t) - 1]
    )
    # a drop that runs to the last point leaves an empty final plateau: read it at the last rate
    bounds = [min(x, len(rate) - 1) for x in bounds]
    idx = [a + int(np.argmin(rate[a : max(b, a + 1)])) for a, b in zip(bounds[::2], bounds[1::2])]
    return loss[idx], np.array(idx)


def escape_slope(t_drop, inits) -> float:
    """Least-squares slope of the drop time against ln(1/init)."""
    return float(np.polyfit(np.log(1 / np.asarray(inits, float)), np.asarray(t_drop, float), 1)[0])


def prediction_gap(Gamma, Gamma_ref, data: Sequences) -> float:
    """E[(bᵀ(Γ − Γ_ref)x_q)²] / E[(bᵀΓ_ref x_q)²] on fresh prompts (Monte Carlo): how far apart two predictors are."""
    b, xq = data.b.numpy(), data.xq.numpy()
    diff = np.einsum("sd,de,se->s", b, Gamma - Gamma_ref, xq)
    ref = np.einsum("sd,de,se->s", b, Gamma_ref, xq)
    return float(np.mean(diff**2) / np.mean(ref**2))


def pcr_gaps(traj: Trajectory, s: Setting, idx, data: Sequences) -> np.ndarray:
    """At plateau m (record index idx[m], m ≥ 1): the model's predictor against PCR on the top m components."""
    G = traj.gammas()
    return np.array([prediction_gap(G[i], plateau_gamma(s, m), data) for m, i in enumerate(idx) if m >= 1])


def halfway_time(t, loss, hi: float, lo: float) -> float:
    """The first time the loss crosses (hi + lo)/2, interpolated linearly in ln t."""
    loss, half = np.asarray(loss, float), (hi + lo) / 2
    k = int(np.argmax(loss < half))
    u = np.log(np.asarray(t, float))
    return float(np.exp(u[k - 1] + (loss[k - 1] - half) / (loss[k - 1] - loss[k]) * (u[k] - u[k - 1])))


def white_init(H: int, D: int, scale: float) -> tuple[Params, np.ndarray]:
    """Merged heads U_i = scale·I/√D, v_i = scale (balanced), so Γ(0) = s0·I with s0 = H·scale²/√D."""
    p = Params("merged", H, D)
    U = np.broadcast_to(scale * np.eye(D) / np.sqrt(D), (H, D, D))
    return p, np.concatenate([np.full(H, scale), U.ravel()])
