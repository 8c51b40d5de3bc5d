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
    "Setting", "paper_spectrum", "setting", "omega", "population_loss", "gradient_G", "c_d",
    "plateau_gamma", "plateau_losses", "converged_loss", "Params", "init_merged", "init_separate",
    "flow", "Sequences", "sample_sequences", "sampled_loss", "sampled_G", "param_velocity", "gd", "gd_autograd", "Trajectory", "white_loss", "scalar_ode",
    "Drop", "detect_drops", "plateau_readings", "eigen_contributions", "escape_slope",
    "prediction_gap", "pcr_gaps",
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
        return v, y[..., H:H + n].reshape(*lead, H, D, self.R), y[..., H + n:].reshape(*lead, H, D, self.R)

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
    return np.concatenate([np.einsum("hdr,hdr->h", K, GQ), (v[:, None, None] * GQ).ravel(),
                           (v[:, None, None] * np.einsum("de,hdr->her", G, K)).ravel()])


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
    sol = solve_ivp(_flow_rhs(p, s.Lam, s.N), (0.0, t_eval[-1]), y0, method=method, t_eval=t_eval,
                    rtol=rtol, atol=atol)
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
    sol = solve_ivp(lambda _t, v: lam**2 * v**2 - lam**3 * c * v**5, (0.0, float(np.max(t_eval))), [v0],
                    t_eval=t_eval, rtol=1e-9, atol=1e-12)
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
    bounds = [0] + [x for d in drops for x in (np.searchsorted(t, d.t_start), np.searchsorted(t, d.t_end))] + [len(t) - 1]
    # a drop that runs to the last point leaves an empty final plateau: read it at the last rate
    bounds = [min(x, len(rate) - 1) for x in bounds]
    idx = [a + int(np.argmin(rate[a:max(b, a + 1)])) for a, b in zip(bounds[::2], bounds[1::2])]
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


# ----------------------------------------------------------------------------- the chapter's studies
def _times(T: float, n: int, t0: float) -> np.ndarray:
    return np.geomspace(t0, T, n)


def _steps(T: float, lr: float, n: int) -> tuple[int, np.ndarray]:
    steps = int(round(T / (2 * lr)))
    return steps, np.unique(np.geomspace(1, steps, n).astype(int))


@dataclass
class Run:
    """One setting trained both ways: the population flow and GD on sampled sequences (from the same init)."""

    s: Setting
    flow: Trajectory
    gd: Trajectory | None = None
    y0: np.ndarray | None = None  # the common initial parameters


def run_both(s: Setting, p: Params, y0, T: float, lr: float, b, with_gd: bool = True) -> Run:
    """Flow on a ln-t grid from 2·lr to T, and GD at rate lr for T/(2 lr) steps on b.sequences sequences."""
    fl = flow(p, y0, s, _times(T, b.n_times, 2 * lr))
    if not with_gd:
        return Run(s, fl, None, y0)
    steps, rec = _steps(T, lr, b.n_times)
    return Run(s, fl, gd(p, y0, s, sample_sequences(s, b.sequences, b.seed + 1), lr, steps, rec), y0)


def merged_study(b) -> dict:
    """Fig. 1: merged D = merged_D, H = merged_H (flow + GD); the init scan (flow); white Λ (flow + GD)."""
    s = setting(b.merged_D, b.N, b.seed)
    main = run_both(s, *init_merged(b.merged_H, s.D, b.merged_init, b.N, b.seed), b.merged_T, b.merged_lr, b)
    _, direction = init_merged(b.merged_H, s.D, 1.0, b.N, b.seed)
    scan = {e: flow(Params("merged", b.merged_H, s.D), e * direction, s, _times(b.merged_T, b.n_times, 0.1))
            for e in b.merged_inits}
    white = setting(b.merged_D, b.N, b.seed, lam=np.ones(b.merged_D))
    wrun = run_both(white, *white_init(b.merged_H, s.D, b.white_init), b.white_T, b.white_lr, b)
    return {"main": main, "scan": scan, "white": wrun, "white_s0": b.merged_H * b.white_init**2 / np.sqrt(s.D)}


def separate_study(b) -> dict:
    """Fig. 3: separate rank one, D = sep_D, H = sep_H (flow + GD); H = stall_H < D (flow)."""
    s = setting(b.sep_D, b.N, b.seed)
    main = run_both(s, *init_separate(b.sep_H, s.D, 1, b.sep_init, b.N, b.seed), b.sep_T, b.sep_lr, b)
    stall = run_both(s, *init_separate(b.stall_H, s.D, 1, b.sep_init, b.N, b.seed), b.sep_T, b.sep_lr, b, with_gd=False)
    return {"main": main, "stall": stall}


def duration_study(b, tol) -> np.ndarray:
    """Plateau durations (flow) of the separate rank-one model from `duration_seeds` init seeds: (seeds, D − 1),
    NaN where a run shows fewer than D drops by `duration_T`; the chapter's detector (`read` with `tol`)."""
    s, out = setting(b.sep_D, b.N, b.seed), np.full((b.duration_seeds, b.sep_D - 1), np.nan)
    for k in range(b.duration_seeds):
        tr = flow(*init_separate(b.sep_H, s.D, 1, b.sep_init, b.N, b.seed + k), s, _times(b.duration_T, b.n_times, 0.1))
        dur = plateau_durations(read(tr, tol))
        out[k, :min(len(dur), s.D - 1)] = dur[:s.D - 1]
    return out


def ranks_study(b) -> dict:
    """Fig. 4: D = ranks_D, H = ranks_H heads of rank R for each R in `ranks` (flow)."""
    s = setting(b.ranks_D, b.N, b.seed)
    return {R: flow(*init_separate(b.ranks_H, s.D, R, b.ranks_init, b.N, b.seed), s, _times(b.ranks_T, b.n_times, 1.0),
                    method="LSODA")
            for R in b.ranks}


# ----------------------------------------------------------------------------- readings and claims
@dataclass
class Readings:
    """What the claims read off a loss curve: its drops, its plateau losses (flattest points) and their indices."""

    drops: list
    plateaus: np.ndarray
    idx: np.ndarray


def read(traj: Trajectory, tol) -> Readings:
    """Drops (with the chapter's detector threshold) and plateau readings of a trajectory's population loss."""
    drops = detect_drops(traj.t, traj.loss, tol.drop_threshold, tol.drop_min_frac)
    return Readings(drops, *plateau_readings(traj.t, traj.loss, drops))


def learned_order(traj: Trajectory, s: Setting, r: Readings) -> list[int]:
    """On each plateau after the first (m = 1, 2, …): how many eigen-directions carry at least half of their converged
    Γ (summed over heads), in the order d = 1..D — [1, 2, …] when e_1, e_2, … are learned one per drop."""
    frac = eigen_contributions(traj, s).sum(axis=1)  # (n_t, D)
    return [int(np.sum(frac[i] > 0.5)) if np.all((frac[i] > 0.5) == (np.arange(s.D) < np.sum(frac[i] > 0.5)))
            else -1 for i in r.idx[1:]]


def plateau_durations(r: Readings) -> np.ndarray:
    """Durations of the plateaus between consecutive drops (m = 1 … n_drops − 1): t_start(m+1) − t_end(m)."""
    return np.array([b.t_start - a.t_end for a, b in zip(r.drops[:-1], r.drops[1:])])


def max_rel(measured, target) -> float:
    return float(np.max(np.abs(np.asarray(measured) - np.asarray(target)) / np.abs(np.asarray(target))))


@dataclass
class Summary:
    """Every number the chapter's prose and claims use (see `summarise`)."""

    merged: Readings
    merged_final: float
    converged: float
    trace: float
    escape_times: np.ndarray
    escape_slope: float
    escape_slope_theory: float
    white_dev: float
    white_D: int
    sep: Readings
    sep_s: Setting
    sep_targets: np.ndarray
    sep_order: list
    sep_durations: np.ndarray
    sep_final: float
    sep_converged: float
    pcr: np.ndarray
    stall_final: float
    stall_target: float
    rank_drops: dict
    rank_plateaus: dict
    rank_final: dict
    ranks_targets: np.ndarray
    seed_durations: np.ndarray  # (seeds, D − 1): `duration_study`
    scalar_gaps: list  # per direction: `scalar_gaps` of `scalar_comparison`

    @property
    def median_durations(self) -> np.ndarray:
        """Per plateau m = 1 … D − 1, the median duration over the seeds that show all D drops."""
        full = self.seed_durations[~np.isnan(self.seed_durations).any(axis=1)]
        return np.median(full, axis=0) if len(full) else np.full(self.seed_durations.shape[1], np.nan)

    @property
    def ordered_seeds(self) -> tuple[int, int]:
        """(seeds whose own durations strictly increase, seeds that show all D drops)."""
        full = self.seed_durations[~np.isnan(self.seed_durations).any(axis=1)]
        return int(np.sum(np.all(np.diff(full, axis=1) > 0, axis=1))), len(full)


def summarise(b, tol, merged: dict, sep: dict, ranks: dict, durations: np.ndarray, scalar: list) -> Summary:
    """Read the studies: detector, plateaus, escape times, white-Λ deviation, PCR gaps on fresh prompts; `durations`
    from `duration_study`, `scalar` from `scalar_comparison`."""
    m, s = merged["main"], merged["main"].s
    esc = np.array([halfway_time(tr.t, tr.loss, s.trace, converged_loss(s)) for tr in merged["scan"].values()])
    w = merged["white"]
    sw = w.s
    white_dev = float(np.max(np.abs(w.gd.loss - white_loss(w.gd.t, sw.D, sw.N, merged["white_s0"]))))
    ss, g = sep["main"].s, sep["main"].gd
    r = read(g, tol)
    fresh = sample_sequences(ss, b.mc_prompts, b.seed + 2)
    st = sep["stall"].flow
    rs = setting(b.ranks_D, b.N, b.seed)
    return Summary(read(m.gd, tol), float(m.gd.loss[-1]), converged_loss(s), s.trace, esc,
                   escape_slope(esc, list(merged["scan"])), 1 / float(np.linalg.norm(s.Lam @ s.Lam)),
                   white_dev, sw.D, r, ss, plateau_losses(ss), learned_order(g, ss, r), plateau_durations(r),
                   float(g.loss[-1]), converged_loss(ss), pcr_gaps(g, ss, r.idx, fresh), float(st.loss[-1]),
                   float(plateau_losses(ss)[b.stall_H]), {R: len(read(tr, tol).drops) for R, tr in ranks.items()},
                   {R: plateau_indices(tr, rs, tol) for R, tr in ranks.items()},
                   {R: float(tr.loss[-1]) for R, tr in ranks.items()}, plateau_losses(rs), durations,
                   scalar_gaps(scalar))


def glue_summary(ch, sm: Summary):
    """Glue the summary's numbers under the chapter's `lin-` keys."""
    b, t = ch.budget, ch.tol
    for k, v, f in [("lin-trace", sm.trace, "{:.3f}"), ("lin-loss-rel", t.loss_rel, "{:.0%}"),
                    ("lin-start-share", SCALAR_START, "{:.1%}"), ("lin-converged", sm.converged, "{:.4f}"),
                    ("lin-merged-final", sm.merged_final, "{:.4f}"), ("lin-merged-ndrops", len(sm.merged.drops), "{}"),
                    ("lin-slope", sm.escape_slope, "{:.2f}"), ("lin-slope-theory", sm.escape_slope_theory, "{:.2f}"),
                    ("lin-white-dev", sm.white_dev / sm.white_D, "{:.2%}"), ("lin-sep-ndrops", len(sm.sep.drops), "{}"),
                    ("lin-sep-final", sm.sep_final, "{:.4f}"), ("lin-sep-converged", sm.sep_converged, "{:.4f}"),
                    ("lin-pcr-max", float(np.max(sm.pcr)) if len(sm.pcr) else float("nan"), "{:.2%}"),
                    ("lin-stall-final", sm.stall_final, "{:.4f}"), ("lin-stall-target", sm.stall_target, "{:.4f}"),
                    ("lin-threshold", t.drop_threshold, "{:g}"), ("lin-minfrac", t.drop_min_frac, "{:.0%}"),
                    ("lin-N", b.N, "{}"), ("lin-S", b.sequences, "{:,}"), ("lin-stall-H", b.stall_H, "{}"),
                    ("lin-sep-H", b.sep_H, "{}"), ("lin-merged-H", b.merged_H, "{}"), ("lin-sep-D", b.sep_D, "{}"),
                    ("lin-merged-D", b.merged_D, "{}"), ("lin-ranks-D", b.ranks_D, "{}"), ("lin-ranks-H", b.ranks_H, "{}")]:
        ch.glue(k, v, f)
    ch.glue("lin-plateaus", ", ".join(f"{x:.4f}" for x in sm.sep_targets), "{}")
    ch.glue("lin-sep-measured", ", ".join(f"{x:.4f}" for x in sm.sep.plateaus), "{}")
    ch.glue("lin-durations", ", ".join(f"{x:,.0f}" for x in sm.sep_durations), "{}")
    ch.glue("lin-median-durations", ", ".join(f"{x:,.0f}" for x in sm.median_durations), "{}")
    ch.glue("lin-ordered-seeds", "{} of {}".format(*sm.ordered_seeds), "{}")
    ch.glue("lin-duration-seeds", b.duration_seeds, "{}")
    ch.glue("lin-scalar-gaps", ", ".join(f"{g:.1%}" for g in sm.scalar_gaps), "{}")
    ch.glue("lin-rank-drops", "; ".join(f"R = {R}: {n}" for R, n in sm.rank_drops.items()), "{}")
    ch.glue("lin-rank-plateaus", "; ".join(f"R = {R}: m = {', '.join(map(str, ms))}" for R, ms in sm.rank_plateaus.items()), "{}")
    ch.glue("lin-rank-final", "; ".join(f"R = {R}: {x:.4f}" for R, x in sm.rank_final.items()), "{}")
    ch.glue("lin-ranks-converged", sm.ranks_targets[-1], "{:.4f}")


def add_claims(ch, sm: Summary):
    """The issue's claims; targets computed from the formulas above, tolerances from `ch.tol`."""
    t, c, b = ch.tol, ch.claims, ch.budget
    det = f"computed detector: −dL/d ln t above {t.drop_threshold:g} × the mean rate, drops of ≥ {t.drop_min_frac:.0%}"
    lrel = f"'≈' read as {t.loss_rel:.0%} of the target"
    c.add("merged_one_drop", f"merged KQ (D = {b.merged_D}, H = {b.merged_H}, GD): the loss has exactly one abrupt drop", "Zhang+25 Fig. 1",
          len(sm.merged.drops), 1, kind="abs", target_origin="the paper (a single, abrupt drop)", tol_origin=det)
    c.add("merged_plateau_trace", "merged: the plateau before the drop sits at L = tr Λ", "Zhang+25 Fig. 1",
          float(sm.merged.plateaus[0]), sm.trace, tol=t.loss_rel, kind="rel",
          target_origin="L(0) = tr Λ (the unstable fixed point Γ = 0)", tol_origin=lrel)
    c.add("merged_final", "merged: final loss = the converged formula L(Γ*)", "Zhang+25 (merged)", sm.merged_final, sm.converged,
          tol=t.loss_rel, kind="rel", target_origin="ours: L(Γ*), Γ* = (Λ + (Λ + tr Λ·I)/N)⁻¹", tol_origin=lrel)
    c.add("merged_escape_log", "merged: the plateau's length grows like ln(1/init), slope 1/‖Λ²‖_F",
          "Zhang+25 (merged: escape time)", sm.escape_slope, sm.escape_slope_theory, tol=t.slope_rel, kind="rel",
          target_origin="ours: the linearised flow around Γ = 0 grows at rate ‖Λ²‖_F",
          tol_origin=f"{t.slope_rel:.0%}: O(init²) corrections, half-way times interpolated in ln t",
          note_if_fail="the escape time is not linear in ln(1/init) with the linearised rate")
    c.add("white_time_course", "white Λ = I: GD follows the analytic time course L(t)", "Zhang+25 (analytic time course)",
          sm.white_dev / sm.white_D, t.white_abs_frac, kind="max",
          target_origin="ours: the logistic solution for Γ(0) ∝ I, compared at every recorded time (max |ΔL|/D)",
          tol_origin=f"{t.white_abs_frac:.0%} of the initial loss D")
    c.add("sep_d_drops", f"separate rank one (D = {b.sep_D}, H = {b.sep_H}, GD): D drops", "Zhang+25 Fig. 3", len(sm.sep.drops),
          sm.sep_s.D, kind="abs", target_origin="the paper (saddle to saddle, one drop per eigen-direction)",
          tol_origin=det)
    c.add("sep_order", "separate: drop m learns e_m, in order of decreasing eigenvalue", "Zhang+25 Fig. 3",
          sm.sep_order == list(range(1, len(sm.sep_order) + 1)) and len(sm.sep_order) == sm.sep_s.D, True,
          kind="true", target_origin="the paper (largest eigenvalue first)",
          tol_origin="on plateau m exactly e_1 … e_m carry > 1/2 of their converged Γ (ours)",
          note=f"directions learned on each plateau: {sm.sep_order}")
    n = min(len(sm.sep.plateaus), len(sm.sep_targets))
    c.add("sep_plateau_losses", "separate: each plateau's loss = L(M_m) (max relative deviation over m)", "Zhang+25 Fig. 3",
          max_rel(sm.sep.plateaus[:n], sm.sep_targets[:n]), t.loss_rel, kind="max",
          target_origin="ours: L(M_m) = tr Λ − Σ_{d≤m} λ_d/c_d", tol_origin=lrel)
    med, (n_ord, n_full) = sm.median_durations, sm.ordered_seeds
    c.add("sep_durations_increase", f"separate: plateau durations increase as λ_m decreases (m = 1 … D−1; median over "
          f"{b.duration_seeds} init seeds, flow)", "Zhang+25 (time ∝ λ_m^{-2})",
          bool(n_full >= 2 and np.all(np.diff(med) > 0)), True, kind="true", target_origin="the paper",
          tol_origin="strict increase of the median durations over the paper's seed count (ours)",
          note=f"medians: {', '.join(f'{x:,.0f}' for x in med)}; {n_ord} of {n_full} seeds ordered on their own",
          note_if_fail="each direction starts from its own random small component, and the time to learn it goes "
                       "like 1/(λ² v0): the durations need not be ordered")
    gaps = sm.scalar_gaps
    c.add("sep_scalar_ode", "separate: each newly learning head follows the scalar ODE τv̇ = λ²v² − λ³c v⁵ "
          "(max deviation over its final value, worst direction)", "Zhang+25 (reduction to scalar ODEs)",
          float(np.max(gaps)), t.scalar_rel, kind="max",
          target_origin="the paper's reduction, started from the head's own effective scale",
          tol_origin=f"{t.scalar_rel:.0%} of the final value (ours: the reduction assumes k = q and one head per "
                     "direction, which the flow reaches only approximately)",
          note=", ".join(f"e_{m + 1}: {g:.1%}" for m, g in enumerate(gaps)))
    c.add("sep_final", "separate: final loss = the converged formula L(M_D)", "Zhang+25 (separate)", sm.sep_final, sm.sep_converged,
          tol=t.loss_rel, kind="rel", target_origin="ours: L(M_D) = L(Γ*)", tol_origin=lrel)
    c.add("sep_pcr", "separate: on plateau m the predictor is PCR with m components (max over m)", "Zhang+25 (separate)",
          float(np.max(sm.pcr)) if len(sm.pcr) else float("inf"), t.pcr_gap, kind="max",
          target_origin="ours: mean squared difference to Γ_{M_m} on fresh prompts over PCR's mean square",
          tol_origin=f"{t.pcr_gap:.0%} of PCR's mean square")
    off = {R: [m for m in ms if m % R] for R, ms in sm.rank_plateaus.items()}
    c.add("rank_plateaus_at_multiples", "rank-R heads: visible plateaus only at m = multiples of R (every R)",
          "Zhang+25 Fig. 4", all(not v for v in off.values()), True, kind="true", target_origin="the paper",
          tol_origin="the plateaus the detector finds at L(M_m), within the '≈' reading of the plateau losses",
          note=f"plateaus found: {'; '.join(f'R = {R}: m = {list(ms)}' for R, ms in sm.rank_plateaus.items())}",
          note_if_fail="off-multiple plateaus: " + "; ".join(f"R = {R}: m = {v}" for R, v in off.items() if v)
                       + ". The directions inside one rank-R head escape one after another when the init is not "
                         "small enough for them to grow together (ours).")
    c.add("stall_h_lt_d", "H < D rank-one heads stall at L(M_H) (flow)", "beyond the paper", sm.stall_final,
          sm.stall_target, tol=t.loss_rel, kind="rel", target_origin="ours: rank Γ ≤ H, so at best M_H",
          tol_origin=lrel)


def show_budget(ch):
    """The run's profile, device and budget (the book's d, L, σ² do not enter this chapter)."""
    from IPython.display import Markdown, display

    text = ch.budget_markdown()
    display(Markdown(text[:text.index(", task")] + ". " + text[text.index("Budget:"):]))


# ----------------------------------------------------------------------------- figures
def _curve(ax, run: Run, label: str, color):
    ax.plot(run.flow.t, run.flow.loss, color=color, lw=2, alpha=0.6, label=f"{label}: population flow")
    if run.gd is not None:
        ax.plot(run.gd.t, run.gd.loss, ls="none", marker=".", ms=3, color=color, label=f"{label}: GD, t = 2ηk")
    ax.set_xscale("log"), ax.set_xlabel("time t (flow units)"), ax.set_ylabel("population loss")


def plot_merged(merged: dict, sm: Summary):
    """(a) merged D = 4: flow and GD, tr Λ and L(Γ*); (b) the init scan and escape time vs ln(1/init); (c) white Λ."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    _curve(ax[0], merged["main"], "merged", "C0")
    ax[0].axhline(sm.trace, color="gray", ls=":", label="tr Λ"), ax[0].axhline(sm.converged, color="k", ls="--", label="L(Γ*)")
    for d in sm.merged.drops:
        ax[0].axvspan(d.t_start, d.t_end, color="C1", alpha=0.15, label="detected drop")
    ax[0].legend(fontsize=7), ax[0].set_title(f"(a) merged KQ, D = {merged['main'].s.D}")
    inits = list(merged["scan"])
    ins = ax[1].inset_axes([0.08, 0.12, 0.35, 0.35])
    for k, (e, tr) in enumerate(merged["scan"].items()):
        ax[1].plot(tr.t, tr.loss, color=plt.cm.viridis(k / max(len(inits) - 1, 1)), label=f"init {e:g}")
    x = np.log(1 / np.asarray(inits))
    ins.plot(x, sm.escape_times, "o", ms=3)
    ins.plot(x, sm.escape_times.mean() + sm.escape_slope_theory * (x - x.mean()), "k--", lw=1)
    ins.set_xlabel("ln(1/init)", fontsize=7), ins.set_ylabel("t½", fontsize=7), ins.tick_params(labelsize=6)
    ax[1].set_xscale("log"), ax[1].set_xlabel("time t"), ax[1].legend(fontsize=7, loc="upper right")
    ax[1].set_title("(b) flow from several init scales")
    w = merged["white"]
    _curve(ax[2], w, "white Λ", "C2")
    ax[2].plot(w.flow.t, white_loss(w.flow.t, w.s.D, w.s.N, merged["white_s0"]), "k--", lw=1, label="analytic L(t)")
    ax[2].legend(fontsize=7), ax[2].set_title("(c) Λ = I: analytic time course")
    return fig


def plot_separate(sep: dict, sm: Summary):
    """Top: separate rank one, flow and GD, the plateau lines L(M_m), H < D stalling. Bottom: per head, its part
    of each eigen-direction of Γ (1 = the head alone carries e_d at its converged value)."""
    import matplotlib.pyplot as plt

    run, H = sep["main"], sep["main"].flow.p.H
    fig = plt.figure(figsize=(14, 6.5))
    top = fig.add_subplot(2, 1, 1)
    _curve(top, run, f"H = {H}", "C0")
    top.plot(sep["stall"].flow.t, sep["stall"].flow.loss, color="C3", lw=1.5, label=f"H = {sep['stall'].flow.p.H}: flow")
    for m, Lm in enumerate(sm.sep_targets):
        top.axhline(Lm, color="gray", ls=":", lw=1)
        top.text(run.flow.t[0], Lm, f" L(M_{m})", fontsize=7, va="bottom")
    top.legend(fontsize=7, loc="upper right"), top.set_title(f"separate K, Q, rank one, D = {run.s.D}: loss in steps")
    contrib = eigen_contributions(run.gd or run.flow, run.s)
    t = (run.gd or run.flow).t
    for i in range(H):
        ax = fig.add_subplot(2, H, H + i + 1)
        for d in range(run.s.D):
            ax.plot(t, contrib[:, i, d], label=f"e_{d + 1} (λ = {run.s.lam[d]:.2f})")
        ax.set_xscale("log"), ax.set_ylim(-0.1, 1.1), ax.set_title(f"head {i + 1}", fontsize=9), ax.set_xlabel("t")
        if i == 0:
            ax.set_ylabel("share of e_d"), ax.legend(fontsize=6)
    return fig


def plot_ranks(ranks: dict, sm: Summary):
    """D = 8, H = 9: the flow for each rank R, with the plateau lines L(M_m)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, len(ranks), figsize=(3.5 * len(ranks), 3.2), sharey=True, squeeze=False)
    for a, (R, tr) in zip(ax[0], ranks.items()):
        a.plot(tr.t, tr.loss, lw=2)
        for Lm in sm.ranks_targets:
            a.axhline(Lm, color="gray", ls=":", lw=1)
        a.set_xscale("log"), a.set_title(f"rank R = {R}"), a.set_xlabel("time t")
    ax[0][0].set_ylabel("population loss")
    return fig


SCALAR_START = 1e-3  # the share of its direction at which a new head is compared with the scalar ODE


def scalar_comparison(run: Run, start_share: float = SCALAR_START, n: int = 4000) -> list[dict]:
    """For each direction e_m: the head that ends up carrying it, its effective scale (its share of Γ_mm times
    (λ_m c_m)⁻¹, to the power 1/3: v when k = q = v·e_m) on a dense flow, and the scalar ODE started from it
    when the share first reaches `start_share`. Returns per m: t (from that moment), model, ode."""
    s = run.s
    tr = flow(run.flow.p, run.y0, s, np.linspace(0, run.flow.t[-1], n))
    share, c = eigen_contributions(tr, s), c_d(s)
    out = []
    for m in range(s.D):
        i = int(np.argmax(share[-1, :, m]))
        k = int(np.argmax(share[:, i, m] >= start_share))
        veff = np.cbrt(np.clip(share[k:, i, m], 0, None) / (s.lam[m] * c[m]))
        t = tr.t[k:] - tr.t[k]
        out.append({"m": m + 1, "head": i + 1, "t": t, "model": veff, "ode": scalar_ode(s.lam[m], c[m], veff[0], t)})
    return out


def scalar_gaps(comp: list[dict]) -> list[float]:
    """Per direction e_m: the largest deviation of the head's effective scale from the scalar ODE, over the ODE's
    final value."""
    return [float(np.max(np.abs(c["model"] - c["ode"])) / np.max(c["ode"])) for c in comp]


def plateau_indices(traj: Trajectory, s: Setting, tol) -> list[int]:
    """The m whose L(M_m) some plateau of the curve sits at (within tol.loss_rel), by the chapter's detector."""
    levels, r = plateau_losses(s), read(traj, tol)
    return sorted({m for x in r.plateaus for m, Lm in enumerate(levels) if abs(x - Lm) <= tol.loss_rel * Lm})


def plot_scalar(comp: list[dict]):
    """Each newly learning head's effective scale against the scalar ODE, from the moment it starts to grow."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for k, c in enumerate(comp):
        ax.plot(c["t"], c["model"], color=f"C{k}", lw=2, alpha=0.6, label=f"e_{c['m']} (head {c['head']}): flow")
        ax.plot(c["t"], c["ode"], color=f"C{k}", ls="--", lw=1)
    ax.set_xscale("symlog", linthresh=10), ax.set_xlabel(f"time since the share reached {SCALAR_START:.1%}")
    ax.set_ylabel("effective scale v"), ax.legend(fontsize=7), ax.set_title("new head vs scalar ODE (dashed)")
    return fig
