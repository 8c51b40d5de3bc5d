"""Chapter 09's formulas (the pre-conditioners, their exact risk, the circuits' readings) and its
lazy `Study` (the package's docstring derives them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ...core import theory
from ...core.circuits import dummy_heads, effective_rate, extract, sign_matching, zero_sum_ratio
from ...core.data import TaskConfig, covariance_matrix
from ...core.estimators import bayes, icl_risks
from ...runs.config import run_config
from ...runs.load import load_or_train_many

# --- the reference pre-conditioners and the exact risk ------------------------------------------


def gamma_dgd_opt(Sigma, L: int, sigma2: float) -> np.ndarray:
    """Optimal pre-conditioner of debiased pre-conditioned GD, rate included:
    Γ_dGD = (Σ + ((tr Σ + dσ²)/L) I)⁻¹ (ours; Σ = I gives η_eff I)."""
    S = np.asarray(Sigma, float)
    d = S.shape[0]
    return np.linalg.inv(S + (np.trace(S) + d * sigma2) / L * np.eye(d))


def _risk_terms(G, Sigma, L, sigma2):
    S = np.asarray(Sigma, float)
    G = np.asarray(G, float)
    d, n = S.shape[0], L - 1
    lin = n / (L * d) * np.trace(S @ G.T @ S)
    M = L * S @ S + (np.trace(S) + d * sigma2) * S
    quad = n / (L**2 * d) * np.trace(S @ G.T @ M @ G)
    return sigma2 + np.trace(S) / d, lin, quad


def pdgd_risk(Gamma, Sigma, L: int, sigma2: float) -> float:
    """Exact ICL risk of ŷ = (1/L) Σ_l y_l (x_l − x̄)ᵀ Γ x_q for x ~ N(0, Σ), β ~ N(0, I/d), noise σ²."""
    c0, lin, quad = _risk_terms(Gamma, Sigma, L, sigma2)
    return float(c0 - 2 * lin + quad)


def best_scale(G, Sigma, L: int, sigma2: float) -> float:
    """The rate η minimising `pdgd_risk(η G)` (G = I: plain debiased GD at its optimal rate)."""
    _, lin, quad = _risk_terms(G, Sigma, L, sigma2)
    return float(lin / quad)


def mc_optimal_gamma(Sigma, L: int, sigma2: float, n_prompts: int, *, debiased: bool = True, seed: int = 0):
    """The Γ minimising the Monte Carlo risk mean (g̃ᵀ Γ x_q − y_q)² over `n_prompts` prompts: a
    least-squares fit of y_q on the d² features g̃ ⊗ x_q, g̃ = (1/L) Σ_l y_l (x_l − x̄) (or x_l)."""
    S = np.asarray(Sigma, float)
    d = S.shape[0]
    rng = np.random.default_rng(seed)
    C = np.linalg.cholesky(S)
    X = rng.standard_normal((n_prompts, L + 1, d)) @ C.T
    beta = rng.standard_normal((n_prompts, d)) / np.sqrt(d)
    y = np.einsum("bld,bd->bl", X, beta) + np.sqrt(sigma2) * rng.standard_normal((n_prompts, L + 1))
    Xc, xq = X[:, :L], X[:, L]
    if debiased:
        Xc = Xc - Xc.mean(1, keepdims=True)
    g = np.einsum("bl,bld->bd", y[:, :L], Xc) / L
    F = (g[:, :, None] * xq[:, None, :]).reshape(n_prompts, d * d)
    return np.linalg.lstsq(F, y[:, L], rcond=None)[0].reshape(d, d)


# --- circuits -------------------------------------------------------------------------------------


def kq_blocks(kq, d: int) -> np.ndarray:
    """A_h = W_h[:d, :d], the x-block of each head's KQ circuit (key × query): (..., H, d, d)."""
    return np.asarray(kq, float)[..., :d, :d]


def gamma_tf(kq, ov, d: int) -> np.ndarray:
    """Γ_TF = Σ_h μ_h A_h (μ_h = OV[d, d]): the pre-conditioner of the small-KQ expansion."""
    mu = np.asarray(ov, float)[..., d, d]
    return np.einsum("...h,...hij->...ij", mu, kq_blocks(kq, d))


def head_alignment(A, Gamma) -> tuple[np.ndarray, np.ndarray]:
    """Each head against the common direction Ĝ = Γ/‖Γ‖_F: the signed scale ω̃_h = ⟨A_h, Ĝ⟩ (the
    isotropic ω_h · √d when Ĝ = I/√d) and the relative residual ‖A_h − ω̃_h Ĝ‖_F / ‖A_h‖_F."""
    A = np.asarray(A, float)
    Gh = Gamma / np.linalg.norm(Gamma)
    w = np.einsum("hij,ij->h", A, Gh)
    res = np.linalg.norm(A - w[:, None, None] * Gh, axis=(1, 2)) / np.linalg.norm(A, axis=(1, 2))
    return w, res


def sin_angle(G, R) -> float:
    """min_a ‖G − a R‖_F / ‖G‖_F: the sine of the Frobenius angle between G and R (scale-free)."""
    G, R = np.asarray(G, float), np.asarray(R, float)
    cos = np.sum(G * R) / (np.linalg.norm(G) * np.linalg.norm(R))
    return float(np.sqrt(max(0.0, 1 - cos**2)))


def rel_distance(G, R) -> float:
    """‖G − R‖_F / ‖R‖_F."""
    return float(np.linalg.norm(np.asarray(G) - R) / np.linalg.norm(R))


def beyond_tridiagonal(G, R) -> tuple[float, float]:
    """App. A.2's entries beyond the tridiagonal (|i − j| ≥ 2, where the inverse of a KMS Σ is zero), B(·).
    With G put on R's scale (a = ⟨G, R⟩/‖G‖²_F): (‖B(aG) − B(R)‖_F − ‖B(aG)‖_F) / ‖B(R)‖_F, in [−1, 1],
    below 0 when G's entries there are closer to R's than to zeros (−1: R's, +1: zeros, as Σ⁻¹); and
    max |B(G)| / max |G| (how small they are)."""
    G, R = np.asarray(G, float), np.asarray(R, float)
    d = len(G)
    B = np.abs(np.subtract.outer(np.arange(d), np.arange(d))) >= 2
    aG = np.sum(G * R) / np.sum(G * G) * G
    closer = (np.linalg.norm((aG - R)[B]) - np.linalg.norm(aG[B])) / np.linalg.norm(R[B])
    return float(closer), float(np.abs(G[B]).max() / np.abs(G).max())


def harmonic_rate(G) -> float:
    """d / tr(G⁻¹): the rate of G = η Γ when Γ is normalised so that Γ⁻¹ has unit mean diagonal (as a KMS Σ;
    Γ_dGD = (Σ + cI)⁻¹ then gives η = 1/(1 + c) = η_eff exactly when tr Σ = d)."""
    G = np.asarray(G, float)
    return float(len(G) / np.trace(np.linalg.inv(G)))


# --- the study ---------------------------------------------------------------------------------


@dataclass
class Case:
    """One covariance: id, task, Σ, the references at the training length, the trained runs."""

    id: str
    task: TaskConfig
    heads: tuple
    runs: dict = field(default_factory=dict)  # (H, seed) → TrainedRun

    @property
    def Sigma(self) -> np.ndarray:
        return covariance_matrix(self.task)

    def refs(self) -> dict:
        """Reference pre-conditioners, id → matrix: Γ_dGD, Σ⁻¹, I."""
        S, t = self.Sigma, self.task
        return {"opt": gamma_dgd_opt(S, t.L, t.sigma2), "sigma_inv": np.linalg.inv(S), "identity": np.eye(t.d)}


_REF_LABEL = {"opt": "optimal $\\Gamma_\\mathrm{dGD}$", "sigma_inv": "$\\Sigma^{-1}$", "identity": "$I$"}


def case_label(case_id: str) -> str:
    """Display name of a case id."""
    kind, r = case_id[:-2], int(case_id[-2:]) / 10 if case_id != "iso" else 0.0
    return {"kms": f"KMS ρ = {r:g}", "diag": f"diagonal, KMS({r:g}) spectrum", "iso": "isotropic (ρ = 0)"}[
        "iso" if case_id == "iso" else kind
    ]


def _case_id(cov: str, rho: float) -> str:
    return "iso" if cov == "isotropic" else f"{'kms' if cov == 'kms' else 'diag'}{round(rho * 10):02d}"


def make_cases(ch) -> list[Case]:
    """The budget's covariances (KMS at each ρ, the diagonal one, the isotropic ρ = 0 check)."""
    b, t = ch.budget, ch.task
    spec = [("kms", r, b.heads if i == 0 else b.other_heads) for i, r in enumerate(b.rhos)]
    if b.diagonal_rho is not None:
        spec.append(("diagonal", b.diagonal_rho, b.other_heads))
    spec.append(("isotropic", 0.5, b.isotropic_heads))
    out = []
    for cov, rho, heads in spec:
        task = (
            TaskConfig(d=t.d, L=t.L, sigma2=t.sigma2)
            if cov == "isotropic"
            else TaskConfig(d=t.d, L=t.L, sigma2=t.sigma2, covariance=cov, rho=rho)
        )
        out.append(Case(_case_id(cov, rho), task, tuple(heads)))
    return out


def _case_configs(ch, case: Case, first: bool) -> list:
    b = ch.budget
    seeds = b.seeds if first or case.id == "iso" else b.other_seeds
    return [run_config(ch.prof, heads=H, seed=s, task=case.task) for H in case.heads for s in seeds]


def configs(ch) -> list:
    """Every model chapter 09 trains: each case's heads × seeds (its first case and the isotropic
    check at `seeds`, the others at `other_seeds`)."""
    cs = make_cases(ch)
    return [cfg for c in cs for cfg in _case_configs(ch, c, first=c is cs[0])]


@dataclass
class RunReading:
    """One trained model read as pre-conditioned debiased GD."""

    A: np.ndarray  # (H, d, d) KQ x-blocks
    mu: np.ndarray  # (H,)
    omega: np.ndarray  # (H,) mean diagonal of A_h, the isotropic chapters' ω_h
    not_identity: np.ndarray  # (H,) max(diagonal spread, largest |off-diagonal|) / |ω_h| (chapter 02's reading)
    ov_x: np.ndarray  # (H,) largest |OV x-part entry| / |μ_h|
    gamma: np.ndarray  # Γ_TF
    omega_t: np.ndarray  # signed head scales along Γ_TF's direction
    residual: np.ndarray  # per head, ‖A_h − ω̃_h Ĝ‖/‖A_h‖
    dummy: np.ndarray
    risk: object = None  # Monte Carlo risk at L' = L

    @property
    def rate(self) -> float:
        """Σ_h ω_h μ_h = tr Γ_TF / d: the effective rate 2ωμ read as the isotropic chapters read it."""
        return float(effective_rate(self.omega, self.mu))


def read_run(run) -> RunReading:
    """A trained model read as pre-conditioned debiased GD (its risk is set by `Study.readings`)."""
    d = run.config.task.d
    A, mu = kq_blocks(run.kq, d), np.asarray(run.ov, float)[:, d, d]
    p = extract(run.kq, run.ov, d)
    G = gamma_tf(run.kq, run.ov, d)
    w, res = head_alignment(A, G)
    not_id = np.maximum(p.diag_spread, p.offdiag_max) / np.abs(p.omega)
    return RunReading(A, mu, p.omega, not_id, p.ov_x_part / np.abs(mu), G, w, res, dummy_heads(w, mu))


@dataclass
class Curves:
    lengths: np.ndarray
    mc: dict  # id → (means, s.e.): models (H) and "bayes"
    exact: dict  # id → exact risks: "tf" (Γ_TF of the first model), "opt", "sigma_inv", "plain"


class Study:
    """Chapter 09's evidence, each part computed on first use: the cases with their trained models,
    each model read as pre-conditioned debiased GD, the risks at L' = L and against L'."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def cases(self) -> list[Case]:
        """The budget's covariances (`make_cases`), each with its models trained (or loaded)."""
        cs = make_cases(self.ch)
        for c in cs:
            cfgs = _case_configs(self.ch, c, first=c is cs[0])
            for cfg, run in zip(cfgs, load_or_train_many(cfgs, device=self.ch.device)):
                c.runs[(cfg.model.heads, cfg.train.seed)] = run
        return cs

    @cached_property
    def _mc(self) -> dict:
        """case id → Monte Carlo risks at L' = L on common prompts: (H, seed) → Risk, and "bayes"."""
        b = self.ch.budget
        return {
            c.id: icl_risks(
                {k: r.predictor() for k, r in c.runs.items()} | {"bayes": bayes(c.task)},
                c.task,
                b.claim_prompts,
                seed=b.seed,
            )
            for c in self.cases
        }

    @cached_property
    def readings(self) -> dict:
        """(case id, H, seed) → RunReading, with its risk at L' = L."""
        readings = {}
        for c in self.cases:
            for k, run in c.runs.items():
                readings[(c.id,) + k] = rr = read_run(run)
                rr.risk = self._mc[c.id][k]
        return readings

    @cached_property
    def bayes(self) -> dict:
        """case id → Risk of the Bayes predictor (ridge λ = dσ², squared errors, the models' prompts)."""
        return {c.id: self._mc[c.id]["bayes"] for c in self.cases}

    @cached_property
    def exact(self) -> dict:
        """case id → {"opt", "sigma_inv", "plain"} exact risks at their best scale (opt: as is)."""
        return {c.id: _exact_risks(c.Sigma, c.task.L, c.task.sigma2) for c in self.cases}

    @cached_property
    def dist(self) -> pd.DataFrame:
        """One row per model: head alignment, sign matching, zero sum, Γ_TF against the references."""
        rows = []
        for c in self.cases:
            refs = c.refs()
            for H, s in c.runs:
                r = self.readings[(c.id, H, s)]
                live = ~r.dummy
                rows.append(
                    {
                        "case": case_label(c.id),
                        "H": H,
                        "seed": s,
                        "max head residual": float(r.residual[live].max()),
                        "sign match": float(sign_matching(r.omega_t, r.mu, r.dummy)),
                        "zero-sum": float(zero_sum_ratio(r.mu)),
                        "‖Γ_TF − Γ_dGD‖/‖Γ_dGD‖": rel_distance(r.gamma, refs["opt"]),
                        **{
                            f"sin∠(Γ_TF, {k})": sin_angle(r.gamma, G)
                            for k, G in (("Γ_dGD", refs["opt"]), ("Σ⁻¹", refs["sigma_inv"]), ("I", refs["identity"]))
                        },
                        "sin∠(Γ_TF, Γ* vanilla)": sin_angle(
                            r.gamma, theory.gamma_star(c.Sigma, c.task.L, c.task.sigma2)
                        ),
                        "sin∠(Γ_dGD, Σ⁻¹)": sin_angle(refs["opt"], refs["sigma_inv"]),
                    }
                )
        return pd.DataFrame(rows)

    @cached_property
    def risks(self) -> pd.DataFrame:
        """Risks at L' = L per case: each model (Monte Carlo), Γ_TF, Γ_dGD, Σ⁻¹ and I (exact), Bayes."""
        rows = []
        for c in self.cases:
            S, t = c.Sigma, c.task
            e = self.exact[c.id]
            for H, s in c.runs:
                r = self.readings[(c.id, H, s)]
                rows.append(
                    {
                        "case": case_label(c.id),
                        "H": H,
                        "seed": s,
                        "model": r.risk.mean,
                        "± s.e.": r.risk.se,
                        "dGD with Γ_TF": pdgd_risk(r.gamma, S, t.L, t.sigma2),
                        "dGD with Γ_dGD": e["opt"],
                        "dGD with ηΣ⁻¹": e["sigma_inv"],
                        "plain dGD (best η)": e["plain"],
                        "Bayes": self.bayes[c.id].mean,
                    }
                )
        return pd.DataFrame(rows)

    @cached_property
    def curves(self) -> Curves:
        """Fig. 15's equivalent on the first case: risk against L' (models and Bayes by Monte Carlo on
        common prompts; the pre-conditioned debiased GD family exactly, Γ_dGD and the scales at each L')."""
        b, c = self.ch.budget, self.cases[0]
        S, s2 = c.Sigma, c.task.sigma2
        keys = [(H, b.figure_seed) for H in c.heads]
        preds = {k: c.runs[k].predictor() for k in keys} | {"bayes": bayes(c.task)}
        lengths = np.asarray(b.lengths)
        mc = {k: (np.zeros(len(lengths)), np.zeros(len(lengths))) for k in preds}
        for i, Lp in enumerate(lengths):
            r = icl_risks(preds, c.task, b.curve_prompts, L=int(Lp), seed=b.seed + i)
            for k in preds:
                mc[k][0][i], mc[k][1][i] = r[k].mean, r[k].se
        g_tf = self.readings[(c.id,) + keys[0]].gamma
        ex = {"tf": [pdgd_risk(g_tf, S, Lp, s2) for Lp in lengths]}
        for k, f in (
            ("opt", lambda Lp: gamma_dgd_opt(S, Lp, s2)),
            ("sigma_inv", lambda Lp: best_scale(np.linalg.inv(S), S, Lp, s2) * np.linalg.inv(S)),
            ("plain", lambda Lp: best_scale(np.eye(len(S)), S, Lp, s2) * np.eye(len(S))),
        ):
            ex[k] = [pdgd_risk(f(int(Lp)), S, int(Lp), s2) for Lp in lengths]
        return Curves(lengths, mc, {k: np.asarray(v) for k, v in ex.items()})


def _exact_risks(S, L, sigma2) -> dict:
    ref = {"opt": gamma_dgd_opt(S, L, sigma2), "sigma_inv": np.linalg.inv(S), "plain": np.eye(len(S))}
    return {k: pdgd_risk(G if k == "opt" else best_scale(G, S, L, sigma2) * G, S, L, sigma2) for k, G in ref.items()}
