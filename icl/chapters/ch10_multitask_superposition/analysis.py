"""Chapter 10's analysis (§5.4, App. A.3, Figs 16–19, Table 2): multi-task regression, how the heads
are shared out among T tasks, and superposition.

The setting (the paper's §5.4 and the authors' notebook `icl_linear_multitask.ipynb`): d = 6, L = 48,
T = 2 tasks on the supports S_1 = {1..4}, S_2 = {3..6} (coordinates 3, 4 shared); the token is
z = (x, y⁽¹⁾, y⁽²⁾). `task_params` builds it for any d (our generalisation for d ≠ 6: two supports of
equal size overlapping in max(1, ⌊d/3⌋) coordinates, as the authors' code cuts them: the first and
the last coordinates).

Circuits (ours, the paper's (5.7)–(5.8) made computable). Head h: ω_h = diag of the KQ x-block
(key × query), M_h = the T × T y-block of OV (row t writes task t, column s reads y⁽ˢ⁾), and
μ_{h,t} = M_h[t, t]. With the rest ≈ 0 the model is the weighted kernel sum

    ŷ_t = Σ_h Σ_s M_h[t, s] Σ_l y_l⁽ˢ⁾ softmax_l(Σ_i ω_{h,i} x_{l,i} x_{q,i})          (`WeightedKernelSum`)

and, to first order in small ω (as (A.2)–(A.4)), with Σ_h μ_{h,t} ≈ 0, a debiased GD per task with
a diagonal pre-conditioner

    ŷ_t = (1/L) Σ_l y_l⁽ᵗ⁾ (x_l − x̄)ᵀ diag(γ_t) x_q,      γ_t = Σ_h μ_{h,t} ω_h          (`DiagonalDGD`)

Exact risk of that family (ours; β_t with prior variance v per coordinate of S_t, k = |S_t|, label
noise variance s², query noise q², n = L − 1, from E[W²] of a Wishart(I, n)):

    R_t(γ) = vk + q² − 2 (n/L) v Σ_{i∈S_t} γ_i + (n/L²) Σ_i γ_i² [v (k + (n+1)·1[i∈S_t]) + s²]

minimised by γ_i = 0 off S_t and γ_i = η* = L v / (v(L + k) + s²) on it: debiased GD restricted to
the true support at its optimal rate (App. A.1, (A.1)) is the best predictor of the family, the
reference of modes III and IV. Modes I–II use one weighting for both tasks (γ_t ∝ a common γ); the
best common γ (equal task scales) is γ_i = L v N_i / Σ_t [v(k_t + (n+1)·1[i∈S_t]) + s_t²], N_i the
number of tasks that use coordinate i: more weight where more tasks look (`best_common_gamma`).

The modes (the paper's four, decided by `classify` from the circuits, not by eye): see its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from ...core.data import Prompts, TaskConfig
from ...core.engine import TrainConfig
from ...core.estimators import Predictor, Risk, paired_errors
from ...core.models import ModelConfig
from ...runs.config import RunConfig
from ...runs.load import load_or_train_many

__all__ = [
    "PAPER_D",
    "PAPER_L",
    "PAPER_SIGMA2",
    "PAPER_HEADS",
    "default_supports",
    "task_params",
    "task_moments",
    "groups",
    "read_circuits",
    "Circuits",
    "head_roles",
    "super_shared",
    "classify",
    "MODES",
    "WeightedKernelSum",
    "DiagonalDGD",
    "restricted_dgd",
    "dgd_rate",
    "diag_dgd_risk",
    "best_common_gamma",
    "task_risks",
    "per_task_risks",
    "restricted_ridge",
    "TABLE2",
    "table2_circuits",
    "Model",
    "Curves",
    "Study",
    "configs",
    "shared_ratio",
]

PAPER_D, PAPER_L, PAPER_SIGMA2 = 6, 48, 0.1  # §5.4 / App. A.3 and the authors' notebook (noise_std = √0.1)
PAPER_HEADS = (1, 2, 3, 4)  # the head counts the paper trains, one per mode (App. A.3, Figs 16–19)
DUMMY_REL = 0.1  # a head is a dummy when |ω|·|μ| is below 1/10 of the largest head's (`circuits.dummy_heads`)


# --- the task -----------------------------------------------------------------------------------


def default_supports(d: int) -> tuple[tuple[int, ...], ...]:
    """S_1 = the first k coordinates, S_2 = the last k, overlapping in max(1, ⌊d/3⌋): d = 6 gives the
    paper's {1..4}, {3..6}; other d are our generalisation."""
    ov = max(1, d // 3)
    k1 = (d + ov + 1) // 2
    k2 = d + ov - k1
    return tuple(range(1, k1 + 1)), tuple(range(d - k2 + 1, d + 1))


def task_params(d=None, L=None, sigma2=None, convention=None) -> dict:
    """The chapter's TaskConfig fields: None gives the paper's d = 6, L = 48, σ² = 0.1 and the authors'
    convention ("authors": independent β_t ~ N(0, I), noise std √(|S_t|σ²), noiseless query);
    "paper" is Def. 5.1 (one β ~ N(0, I/d), noise σ², a noisy query)."""
    d = PAPER_D if d is None else d
    conv = "authors" if convention is None else convention
    return {
        "d": d,
        "L": PAPER_L if L is None else L,
        "sigma2": PAPER_SIGMA2 if sigma2 is None else sigma2,
        "supports": default_supports(d),
        "shared_beta": conv == "paper",
        "convention": conv,
    }


def task_moments(task: TaskConfig):
    """(v, s², q²): prior variance of a coefficient on S_t, label-noise variance (T,), query-noise
    variance (T,), as `icl.core.data` draws them."""
    s2 = task.noise_std() ** 2
    if task.convention == "authors":
        return 1.0, s2, np.zeros(task.n_tasks)
    return 1.0 / task.d, s2, s2.copy()


def groups(task: TaskConfig) -> dict:
    """Coordinate groups (0-based index arrays) for T = 2: "private1" = S_1∖S_2, "private2" = S_2∖S_1,
    "shared" = S_1∩S_2, "none" = the rest."""
    m = task.support_mask().astype(bool)
    if m.shape[1] != 2:
        raise ValueError("coordinate groups are defined for T = 2 tasks")
    a, b = m[:, 0], m[:, 1]
    return {
        "private1": np.flatnonzero(a & ~b),
        "private2": np.flatnonzero(b & ~a),
        "shared": np.flatnonzero(a & b),
        "none": np.flatnonzero(~a & ~b),
    }


# --- circuits -----------------------------------------------------------------------------------


@dataclass
class Circuits:
    """One model read per head: omega (H, d), M (H, T, T) the OV y-block, mu (H, T) its diagonal, and
    the parts that should vanish: KQ x-block off-diagonal, key-y rows, OV x-part (largest |entry| per
    head), the off-diagonal of M."""

    omega: np.ndarray
    M: np.ndarray
    kq_offdiag: np.ndarray
    kq_key_y: np.ndarray
    ov_x: np.ndarray

    @property
    def mu(self) -> np.ndarray:
        return np.diagonal(self.M, axis1=-2, axis2=-1)

    @property
    def heads(self) -> int:
        return self.omega.shape[0]

    @property
    def gamma(self) -> np.ndarray:
        """First-order pre-conditioners γ_t = Σ_h μ_{h,t} ω_h, (T, d)."""
        return np.einsum("ht,hd->td", self.mu, self.omega)


def read_circuits(kq, ov, d: int) -> Circuits:
    """`Circuits` from one model's KQ and OV circuits ((H, D, D), row = key / written coordinate)."""
    kq, ov = np.asarray(kq, float), np.asarray(ov, float)
    A = kq[:, :d, :d]
    omega = np.diagonal(A, axis1=1, axis2=2).copy()
    off = np.abs(A - omega[:, :, None] * np.eye(d)).max(axis=(1, 2))
    return Circuits(
        omega, ov[:, d:, d:].copy(), off, np.abs(kq[:, d:, :d]).max(axis=(1, 2)), np.abs(ov[:, d:, :d]).max(axis=(1, 2))
    )


MODES = ("I", "II", "III", "IV", "other")


def head_roles(omega, mu, mask, small: float, dummy_rel: float = DUMMY_REL) -> list[str]:
    """Each head's role, from its ω_h (d,) and μ_h (T,) and the support mask (d, T) (T = 2):

    "dummy": |ω_h|_∞|μ_h|_∞ < dummy_rel × the largest head's; "shared±": writes every task with one
    sign (|μ_{h,t}| > small·max_t |μ_{h,t}|), its ω of that sign and non-negligible (> small·|ω_h|_∞) on
    every coordinate; "task{t}±": writes task t only, ω ≈ 0 (≤ small·|ω_h|_∞) off S_t and of μ's
    sign on S_t's mean; "super": writes the two tasks with opposite signs, ω of the sign of μ_{h,t} on
    every private coordinate of task t (a positive head for one task, a negative one for the other,
    §5.4 (iv)); whether its ω is also ≈ 0 on the shared coordinates, as Table 2's head 3, is measured
    apart (`super_shared`); "mixed" otherwise.
    """
    omega, mu, m = np.asarray(omega, float), np.asarray(mu, float), np.asarray(mask, bool)
    scale = np.abs(omega).max(1) * np.abs(mu).max(1)
    roles = []
    for h in range(omega.shape[0]):
        w, u = omega[h], mu[h]
        wmax = np.abs(w).max()
        if scale[h] < dummy_rel * scale.max() or wmax == 0:
            roles.append("dummy")
            continue
        writes = np.abs(u) > small * np.abs(u).max()
        roles.append(_role(w, u, writes, m, small * wmax))
    return roles


def _role(w, u, writes, m, eps) -> str:
    def sign(x):
        return "+" if x > 0 else "-"

    if writes.all() and (np.sign(u) == np.sign(u[0])).all():
        ok = (np.sign(w) == np.sign(u[0])).all() and (np.abs(w) > eps).all()
        return f"shared{sign(u[0])}" if ok else "mixed"
    if writes.sum() == 1:
        t = int(np.flatnonzero(writes)[0])
        ok = np.abs(w[~m[:, t]]).max(initial=0.0) <= eps and np.sign(w[m[:, t]].mean()) == np.sign(u[t])
        return f"task{t + 1}{sign(u[t])}" if ok else "mixed"
    if writes.all() and m.shape[1] == 2:
        p1, p2 = m[:, 0] & ~m[:, 1], m[:, 1] & ~m[:, 0]
        ok = (np.sign(w[p1]) == np.sign(u[0])).all() and (np.sign(w[p2]) == np.sign(u[1])).all()
        return "super" if ok else "mixed"
    return "mixed"


def super_shared(omega, roles, mask) -> np.ndarray:
    """For every "super" head, max |ω| on the shared coordinates / max |ω_h| (Table 2's head 3: ≈ 0)."""
    m = np.asarray(mask, bool)
    sh = m.all(1)
    w = np.asarray(omega, float)
    return np.array([np.abs(w[h, sh]).max() / np.abs(w[h]).max() for h, r in enumerate(roles) if r == "super"])


def classify(omega, mu, mask, small: float, dummy_rel: float = DUMMY_REL) -> str:
    """The paper's mode of one model (T = 2), from its heads' roles (`head_roles`):

    IV (superposition): some head is "super". III (independent debiased GD per task): every live head
    is dedicated ("task{t}±") and each task has a positive and a negative one. II (one weighted
    pre-conditioned GD): every live head is "shared", both signs present. I (one weighted kernel
    regressor): every live head is "shared", one sign. "other" otherwise.
    """
    roles = [r for r in head_roles(omega, mu, mask, small, dummy_rel) if r != "dummy"]
    T = np.asarray(mask).shape[1]
    if "super" in roles:
        return "IV"
    if (
        roles
        and all(r.startswith("task") for r in roles)
        and all(f"task{t + 1}+" in roles and f"task{t + 1}-" in roles for t in range(T))
    ):
        return "III"
    if roles and all(r.startswith("shared") for r in roles):
        return "II" if {"shared+", "shared-"} <= set(roles) else "I"
    return "other"


# --- predictors ---------------------------------------------------------------------------------


@dataclass
class WeightedKernelSum(Predictor):
    """ŷ_t = Σ_h Σ_s M_h[t, s] Σ_l y_l⁽ˢ⁾ softmax_l(Σ_i ω_{h,i} x_{l,i} x_{q,i}): omega (H, d), M (H, T, T)."""

    omega: np.ndarray
    M: np.ndarray
    name: str = "weighted kernel sum"

    def __call__(self, prompts: Prompts) -> torch.Tensor:
        X, y, xq = prompts.X, prompts.y, prompts.x_q
        w = torch.as_tensor(np.asarray(self.omega), dtype=X.dtype, device=X.device)
        M = torch.as_tensor(np.asarray(self.M), dtype=X.dtype, device=X.device)
        p = torch.softmax(torch.einsum("bld,hd,bd->bhl", X, w, xq), dim=-1)
        return torch.einsum("bhl,bls,hts->bt", p, y, M)


@dataclass
class DiagonalDGD(Predictor):
    """ŷ_t = (1/L) Σ_l y_l⁽ᵗ⁾ (x_l − x̄)ᵀ diag(γ_t) x_q: gamma (T, d)."""

    gamma: np.ndarray
    name: str = "diagonal pre-conditioned dGD"

    def __call__(self, prompts: Prompts) -> torch.Tensor:
        X, y, xq = prompts.X, prompts.y, prompts.x_q
        G = torch.as_tensor(np.asarray(self.gamma), dtype=X.dtype, device=X.device)
        Xc = X - X.mean(dim=1, keepdim=True)
        return torch.einsum("blt,bld,td,bd->bt", y, Xc, G, xq) / X.shape[1]


def dgd_rate(task: TaskConfig) -> np.ndarray:
    """η*_t = L v / (v(L + k_t) + s_t²): the optimal rate of debiased GD restricted to S_t (ours)."""
    v, s2, _ = task_moments(task)
    k = task.support_mask().sum(0)
    return task.L * v / (v * (task.L + k) + s2)


def restricted_dgd(task: TaskConfig, name: str = "support-restricted dGD") -> DiagonalDGD:
    """Debiased GD on each task's true support at its optimal rate (App. A.1, (A.1)): γ_t = η*_t 1_{S_t}."""
    return DiagonalDGD(dgd_rate(task)[:, None] * task.support_mask().T, name=name)


def diag_dgd_risk(gamma, task: TaskConfig, L: int | None = None) -> np.ndarray:
    """Exact per-task risk (T,) of `DiagonalDGD(gamma)` at test length L (default task.L), ours:
    R_t = vk + q² − 2(n/L) v Σ_{S_t} γ + (n/L²) Σ_i γ_i² [v(k + (n+1)1_{S_t}) + s²]."""
    L = task.L if L is None else L
    v, s2, q2 = task_moments(task)
    m = task.support_mask().T  # (T, d)
    k, n, g = m.sum(1), L - 1, np.asarray(gamma, float)
    lin = n / L * v * (g * m).sum(1)
    quad = n / L**2 * (g**2 * (v * (k[:, None] + (n + 1) * m) + s2[:, None])).sum(1)
    return v * k + q2 - 2 * lin + quad


def best_common_gamma(task: TaskConfig) -> np.ndarray:
    """The best diagonal weighting shared by all tasks (equal scales; ours): γ_i = L v N_i /
    Σ_t [v(k_t + (n+1)1[i∈S_t]) + s_t²], N_i = number of tasks using coordinate i. (d,)"""
    v, s2, _ = task_moments(task)
    m = task.support_mask()  # (d, T)
    k, n = m.sum(0), task.L - 1
    return task.L * v * m.sum(1) / (v * (k[None, :] + (n + 1) * m) + s2[None, :]).sum(1)


def task_risks(
    predictors: dict, task: TaskConfig, n_prompts: int, *, L: int | None = None, seed: int = 0, batch: int = 5_000
) -> dict:
    """Per-task Monte Carlo risks on common prompts: id → (Risk per task, a list of T `Risk`s)."""
    errs = paired_errors(predictors, task, n_prompts, L=L, seed=seed, batch=batch, per_task=True)
    return {k: per_task_risks(e) for k, e in errs.items()}


def per_task_risks(e) -> list:
    """T `Risk`s (mean, standard error over prompts) from per-prompt, per-task errors e: (n, T)."""
    return [Risk(float(e[:, t].mean()), float(e[:, t].std() / np.sqrt(len(e))), len(e)) for t in range(e.shape[1])]


def restricted_ridge(task: TaskConfig, name: str = "ridge on S_t") -> Predictor:
    """Per task, ridge on the true support with λ = s_t²/v: the Bayes predictor of each task alone
    (exactly Bayes for the authors' independent β_t; Def. 5.1's shared β would let tasks help each other)."""
    return _RestrictedRidge(task, name)


@dataclass
class _RestrictedRidge(Predictor):
    task: TaskConfig
    name: str

    def __call__(self, prompts: Prompts) -> torch.Tensor:
        v, s2, _ = task_moments(self.task)
        out = []
        for t, S in enumerate(self.task.supports):
            idx = [i - 1 for i in S]
            X, xq, y = prompts.X[..., idx], prompts.x_q[..., idx], prompts.y[..., t : t + 1]
            A = X.transpose(1, 2) @ X + s2[t] / v * torch.eye(len(idx), dtype=X.dtype, device=X.device)
            out.append(torch.einsum("bd,bdo->bo", xq, torch.linalg.solve(A, X.transpose(1, 2) @ y)))
        return torch.cat(out, dim=-1)


# Table 2 of the paper (H = 3): ω averaged over S_1∖S_2, S_2∖S_1, S_1∩S_2 (the column order as we read it:
# head 3 is "negative on the first two entries, positive on the last two, ≈ 0 in the middle"), μ task 1, task 2
TABLE2 = np.array(
    [
        [-0.0316, -0.0689, -0.0893, -3.9911, -7.0742],
        [0.0779, 0.0000, 0.0870, 6.9204, 2.3371],
        [-0.0837, 0.0927, 0.0152, -2.8739, 4.7399],
    ]
)


def table2_circuits(task: TaskConfig):
    """Table 2 as (ω (3, d), μ (3, 2)), each group's value on all its coordinates."""
    g = groups(task)
    omega = np.zeros((3, task.d))
    for col, key in enumerate(("private1", "private2", "shared")):
        omega[:, g[key]] = TABLE2[:, col : col + 1]
    return omega, TABLE2[:, 3:].copy()


# --- the study ----------------------------------------------------------------------------------


@dataclass
class Model:
    """One trained model: H, seed, its run, circuits, head roles, mode, and per-task risks at L' = L."""

    H: int
    seed: int
    run: object
    circuits: Circuits
    roles: list
    mode: str
    risk: list  # model, Monte Carlo, T Risks
    kernel_risk: list  # its weighted kernel sum reading (Monte Carlo)
    first_order_risk: np.ndarray  # its first-order reading, γ_t = Σ_h μ_{h,t} ω_h (exact)
    vs_dgd: list  # T Risks of the paired difference: model − dGD on S_t at η*, on the same prompts

    @property
    def gamma(self) -> np.ndarray:
        """First-order pre-conditioners γ_t = Σ_h μ_{h,t} ω_h, (T, d)."""
        return self.circuits.gamma


@dataclass
class Curves:
    """Per-task risk against the test length L'."""

    lengths: np.ndarray
    mc: dict  # H → (T, n_lengths, seeds) Monte Carlo risks
    exact: dict  # id → (T, n_lengths)


def configs(ch) -> list:
    """Every model chapter 10 trains: `ch.budget`'s heads × seeds on the chapter's multi-task task."""
    b = ch.budget
    return [
        RunConfig(
            ch.task, ModelConfig(heads=H), TrainConfig(steps=b.steps or ch.prof.steps, batch=ch.prof.batch, seed=s)
        )
        for H in b.heads
        for s in b.seeds
    ]


class Study:
    """Chapter 10's evidence, lazy: every (H, seed) model of the budget, read and classified (`models`), the
    references at L' = L (`refs`) and the per-task risk curves against L' (`curves`)."""

    def __init__(self, ch):
        self.ch = ch
        self.task = ch.task

    @cached_property
    def runs(self) -> dict:
        """(H, seed) → the trained run of every model of `configs(ch)`, loaded or trained (the seeds of one H
        in one Trainer)."""
        cfgs = configs(self.ch)
        return {
            (cfg.model.heads, cfg.train.seed): run
            for cfg, run in zip(cfgs, load_or_train_many(cfgs, device=self.ch.device))
        }

    @cached_property
    def circuits(self) -> dict:
        """(H, seed) → the model's `Circuits`."""
        return {k: read_circuits(run.kq, run.ov, self.task.d) for k, run in self.runs.items()}

    @cached_property
    def risks(self) -> dict:
        """Per-task risks at L' = L on common prompts (T `Risk`s each): ("model", H, seed) each model,
        ("kernel", H, seed) its weighted kernel sum, ("ridge",) ridge on S_t, ("dgd",) dGD on S_t at η*; and
        ("vs_dgd", H, seed) the paired difference model − dGD on S_t, prompt by prompt."""
        b = self.ch.budget
        preds = {("model",) + k: run.predictor() for k, run in self.runs.items()}
        preds |= {("kernel",) + k: WeightedKernelSum(c.omega, c.M) for k, c in self.circuits.items()}
        preds[("ridge",)] = restricted_ridge(self.task)
        preds[("dgd",)] = restricted_dgd(self.task)
        errs = paired_errors(preds, self.task, b.claim_prompts, seed=b.seed, per_task=True)
        out = {k: per_task_risks(e) for k, e in errs.items()}
        out |= {("vs_dgd",) + k: per_task_risks(errs[("model",) + k] - errs[("dgd",)]) for k in self.runs}
        return out

    @cached_property
    def models(self) -> dict:
        """(H, seed) → `Model`: its circuits' head roles and mode (`classify`), its risks and their two readings."""
        task, small, r = self.task, self.ch.tol.small, self.risks
        mask = task.support_mask()
        models = {}
        for (H, s), run in self.runs.items():
            c = self.circuits[(H, s)]
            models[(H, s)] = Model(
                H,
                s,
                run,
                c,
                head_roles(c.omega, c.mu, mask, small),
                classify(c.omega, c.mu, mask, small),
                r[("model", H, s)],
                r[("kernel", H, s)],
                diag_dgd_risk(c.gamma, task),
                r[("vs_dgd", H, s)],
            )
        return models

    @cached_property
    def refs(self) -> dict:
        """id → per-task risks (T,) at L' = L: "restricted" (dGD on S_t at η*), "common" (the best common
        weighting), "full" (plain dGD at its best rate), exact; "ridge" (ridge on S_t, Monte Carlo)."""
        task = self.task
        g = best_common_gamma(task)
        return {
            "restricted": diag_dgd_risk(restricted_dgd(task).gamma, task),
            "common": diag_dgd_risk(np.stack([g] * task.n_tasks), task),
            "full": diag_dgd_risk(_full_dgd_gamma(task), task),
            "ridge": np.array([x.mean for x in self.risks[("ridge",)]]),
        }

    @cached_property
    def curves(self) -> Curves:
        """Per-task risk against L' for every model (Monte Carlo on common prompts) and the exact references."""
        b, task = self.ch.budget, self.task
        lengths = np.asarray(b.lengths)
        seeds = sorted({s for _, s in self.runs})
        mc = {H: np.full((task.n_tasks, len(lengths), len(seeds)), np.nan) for H in sorted({H for H, _ in self.runs})}
        preds = {k: run.predictor() for k, run in self.runs.items()}
        for i, Lp in enumerate(lengths):
            r = task_risks(preds, task, b.curve_prompts, L=int(Lp), seed=b.seed + 1 + i)
            for (H, s), risks in r.items():
                mc[H][:, i, seeds.index(s)] = [x.mean for x in risks]
        ex = {"restricted": [], "common": [], "full": []}
        for Lp in lengths:
            t_ = task.with_length(int(Lp))
            g = best_common_gamma(t_)
            ex["restricted"].append(diag_dgd_risk(restricted_dgd(t_).gamma, t_))
            ex["common"].append(diag_dgd_risk(np.stack([g] * task.n_tasks), t_))
            ex["full"].append(diag_dgd_risk(_full_dgd_gamma(t_), t_))
        return Curves(lengths, mc, {k: np.asarray(v).T for k, v in ex.items()})


def _full_dgd_gamma(task: TaskConfig, L: int | None = None) -> np.ndarray:
    """Plain debiased GD on all d coordinates at each task's best rate (T, d)."""
    L = task.L if L is None else L
    ones = np.ones((task.n_tasks, task.d))
    v, s2, _ = task_moments(task)
    m = task.support_mask().T
    k, n = m.sum(1), L - 1
    lin = n / L * v * m.sum(1)
    quad = n / L**2 * (v * (k[:, None] + (n + 1) * m) + s2[:, None]).sum(1)
    return (lin / quad)[:, None] * ones


def shared_ratio(m: Model, task: TaskConfig) -> float:
    """Mean over live heads of mean |ω| on shared coordinates / mean |ω| on private ones."""
    g = groups(task)
    priv = np.concatenate([g["private1"], g["private2"]])
    live = [h for h, r in enumerate(m.roles) if r != "dummy"]
    w = np.abs(m.circuits.omega[live])
    return float(np.mean(w[:, g["shared"]].mean(1) / w[:, priv].mean(1)))
