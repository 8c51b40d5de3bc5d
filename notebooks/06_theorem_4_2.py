# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     notebook_metadata_filter: kernelspec
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Theorem 4.2: approximation, optimality and Bayes risk, checked numerically
#
# Theorem 4.2 of {cite:t}`he2025incontext` (§4.3, proof in App. D) is the paper's main result.
# It makes three statements about the multi-head predictor
# $\hat y_\theta = \sum_h \mu_h \sum_l y_l\,\mathrm{softmax}(\omega_h X x_q)_l$ (3.2):
#
# - **(i) Approximation.** On the solution manifold $S(\omega)$ (4.7), with no dummy head and the
#   OV weights chosen so that $2\omega\mu = \eta$, the predictor approaches one step of debiased
#   gradient descent $\hat y_{\mathrm{dGD}}(\eta) = \frac{\eta}{L}\sum_l y_l (x_l - \bar x)^\top x_q$
#   (4.11) as $\omega \to 0$, with an error bound that needs $L$ large and $\omega$ small.
# - **(ii) Optimality.** Minimising the approximate loss $\tilde{\mathcal L}$ (4.1) over a larger
#   parameter space $\Theta$ (4.13) lands on $S(\omega)$ and is attained as $\omega \to 0$; the
#   optimal predictor is debiased GD with $\eta = 1/(1 + d(1+\sigma^2)/L)$.
# - **(iii) Bayes risk.** In the proportional regime $d, L \to \infty$, $d/L \to \xi$, the risk of
#   that predictor is within a factor of the Bayes risk (ridge with $\lambda = d\sigma^2$).
#
# Our copy of the paper lost every formula, so the error bound of (i), the set $\Theta$ of (ii)
# and the factor of (iii) are not available in their printed form. We reconstruct what we need,
# say where a reading is ours, and check each statement with numbers. The chapter also measures
# where vanilla and debiased GD differ and why the single head (4.12) falls short.

# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"
seed = 0

# %% tags=["remove-cell"]
import math

import numpy as np
import pandas as pd
import torch
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from icl import theory
from icl.circuits import effective_rate
from icl.claims import ClaimsTable
from icl.data import TaskConfig, sample_prompts
from icl.engine import resolve_device
from icl.estimators import DebiasedGD, KernelSum, VanillaGD, bayes, icl_risks, nadaraya_watson, two_kernel
from icl.experiments import load_or_train_many, run_config
from icl.optimality import (approx_error_coefficient, gd_risk_mc, manifold_distance, minimise_mu, minimise_theta,
                            nw_moments, one_sign_dummy_loss, pattern_kind)
from icl.plotting import use_style
from icl.profiles import get_profile

use_style()
prof = get_profile(profile)
dev = resolve_device(device)
task = TaskConfig()  # d = 5, L = 40, σ² = 0.1: the paper's defaults
d, L, s2 = task.d, task.L, task.sigma2
c = (1 + s2) / L
eta_eff = theory.eta_eff(d, L, s2)
floor = theory.approx_floor(d, L, s2)
claims = ClaimsTable("06_theorem_4_2", evaluate=prof.evaluate_claims)

# %% [markdown]
# ## Budget
#
# Every size that depends on the compute budget is set here from the profile; the smoke profile
# only checks that the chapter runs.

# %%
small = prof.name == "smoke"
HEADS = (1, 2, 4)  # trained models, the configurations of the observations chapter
SEEDS = tuple(range(prof.seeds))
OMEGAS_I = np.geomspace(1e-3, 0.5, 5 if small else 12)  # (i): KQ scales ω
N_I = 300 if small else 4_000  # (i): prompts per (d, L)
LENGTHS_I = (40, 160, 640) if small else (20, 40, 80, 160, 320, 640, 1280)  # (i): L at d = 5
DIMS_I = (5, 10) if small else (5, 10, 20, 40)  # (i): d at L = 160
HEADS_OPT = (2, 4) if small else (2, 3, 4, 8)  # (ii): heads in Θ
N_STARTS = 4 if small else 24  # (ii): random starts of the joint minimisation, per H
OMEGAS_II = (0.1, 0.4) if small else (0.05, 0.1, 0.2, 0.4, 0.8)  # (ii): fixed scales for the profile
N_PATTERNS = 3 if small else 16  # (ii): random starts (sign pattern, μ) per fixed scale
XIS = (0.2, 1.0) if small else (0.1, 0.2, 0.5, 1.0)  # (iii): ξ = d/L
SIGMA2S = (0.1, 3.0) if small else (0.1, 1.0, 3.0)  # (iii): σ²
DIMS_III = (10,) if small else (10, 20, 40)  # (iii): growing d
N_III = 200 if small else 1_500  # (iii): context draws per Monte Carlo risk (conditional MC, low variance)
N_RISK = prof.mc_prompts  # prompts per risk at the defaults
OMEGAS_NW = np.linspace(0.2, 1.0, 5 if small else 33)  # single head: ω scan
N_NW_L = 1 if small else 4  # single head: batches of N_RISK // 10 prompts per L in the table of A, B
display(Markdown(
    f"Profile **{prof.name}**: (i) {len(OMEGAS_I)} scales × {N_I:,} prompts; (ii) {N_STARTS} random starts for each "
    f"$H \\in$ {HEADS_OPT}; (iii) $\\xi \\in$ {XIS}, $\\sigma^2 \\in$ {SIGMA2S}, $d \\in$ {DIMS_III} with {N_III:,} "
    f"context draws each; {N_RISK:,} prompts per risk at the defaults; device **{dev}**."))

# %% [markdown]
# ## (i) Approximation: the two-kernel model becomes debiased GD as $\omega \to 0$
#
# On $S(\omega)$ a model with positive heads at $+\omega$ whose OV weights sum to $\mu$ and negative
# heads at $-\omega$ summing to $-\mu$ computes, whatever $H$, the two-kernel predictor (4.9)
# $\mu\,(\mathrm{NW}_\omega - \mathrm{NW}_{-\omega})$. Theorem 4.2 (i) sets $\mu = \eta/(2\omega)$
# and lets $\omega \to 0$. We take $\eta = \eta_\mathrm{eff} = L/(L + d(1+\sigma^2))$.
#
# **Where the error comes from.** Write $t_l = (x_l - \bar x)^\top x_q$ and $\kappa_2, \kappa_3$ for the
# empirical second and third cumulants of $(t_l)_l$. The log-softmax is
# $\omega t_l - \log\frac1L\sum_{l'} e^{\omega t_{l'}}$, a cumulant expansion, and its odd part in $\omega$ gives
#
# $$\hat y_{\mathrm{TF}} - \hat y_{\mathrm{dGD}}(\eta) = \eta\,\omega^2 R + O(\omega^4),\qquad
# R = \frac1L\sum_l y_l\Big(\frac{t_l^3}{6} - \frac{\kappa_2 t_l}{2} - \frac{\kappa_3}{6}\Big)$$
#
# (the even orders cancel between the $+\omega$ and $-\omega$ kernels). So the error should fall
# like $\omega^2$. Its size is set by the sample: in the population limit $L \to \infty$, Stein's
# lemma gives $\mathbb E[y\,(e^{\omega s} - e^{-\omega s})] = 2\omega\,\beta^\top x_q\, e^{\omega^2|x_q|^2/2}$ for
# $s = x^\top x_q$, and the two-kernel model equals $\eta\,\beta^\top x_q$ exactly, for every $\omega$. The
# error is a finite-sample effect, a fluctuation of $R$ around zero, and should shrink like
# $L^{-1/2}$: this is the role of "$L$ large" in the theorem. The printed bound is lost; these rates
# are our derivation, and the figure measures them.

# %%
def approx_errors(d_, L_, omegas, n, seed_, H=2):
    """E|ŷ_TF − ŷ_dGD(η)| per ω for the H-head model on S(ω) with 2ωμ = η_eff(d, L); and E|η ω² R|."""
    t = TaskConfig(d=d_, L=L_, sigma2=s2)
    P = sample_prompts(t, n, torch.Generator().manual_seed(seed_), dtype=torch.float64)
    eta = theory.eta_eff(d_, L_, s2)
    ref = DebiasedGD(eta)(P)[:, 0]
    R = approx_error_coefficient(P.X, P.y[..., 0], P.x_q)
    errs = np.array([(two_kernel(w, eta / (2 * w))(P)[:, 0] - ref).abs().mean().item() for w in omegas])
    return errs, eta * np.abs(R).mean() * omegas**2, R


err_L = {L_: approx_errors(d, L_, OMEGAS_I, N_I, seed + 1) for L_ in LENGTHS_I}
err_d = {d_: approx_errors(d_, 160, OMEGAS_I, N_I, seed + 2) for d_ in DIMS_I}

# an H-head model with no dummy head (3 positive, 2 negative heads, OV weights split at random) on S(ω)
w_demo = 0.05
mu_demo = eta_eff / (2 * w_demo)
split = np.random.default_rng(seed).dirichlet(np.ones(3))
five_heads = KernelSum([w_demo] * 3 + [-w_demo] * 2, np.r_[mu_demo * split, -mu_demo * np.array([0.3, 0.7])])
P_demo = sample_prompts(task, 2_000, torch.Generator().manual_seed(seed + 3), dtype=torch.float64)
gap_heads = (five_heads(P_demo) - two_kernel(w_demo, mu_demo)(P_demo)).abs().max().item()

# slope of log E|error| against log ω over the small scales, at the defaults (d, L) = (5, 40)
e40 = err_L[40][0] if 40 in err_L else err_L[LENGTHS_I[0]][0]
sel = OMEGAS_I <= 0.05
slope_omega = np.polyfit(np.log(OMEGAS_I[sel]), np.log(e40[sel]), 1)[0]
# leading term: ratio of the error to η ω² R at ω = 0.01
P40 = sample_prompts(task, N_I, torch.Generator().manual_seed(seed + 4), dtype=torch.float64)
R40 = approx_error_coefficient(P40.X, P40.y[..., 0], P40.x_q)
ratio = ((two_kernel(0.01, eta_eff / 0.02)(P40) - DebiasedGD(eta_eff)(P40))[:, 0].numpy() / (eta_eff * 1e-4 * R40))
lead_dev = float(np.median(np.abs(ratio - 1)))
# sample-size dependence of the coefficient: E|R| against L (d = 5) and against d (L = 160)
ER_L = np.array([np.abs(err_L[L_][2]).mean() for L_ in LENGTHS_I])
ER_d = np.array([np.abs(err_d[d_][2]).mean() for d_ in DIMS_I])
large_L = np.array(LENGTHS_I) >= 160  # the large-L regime the theorem assumes
slope_L = np.polyfit(np.log(np.array(LENGTHS_I)[large_L]), np.log(ER_L[large_L]), 1)[0]
slope_L_all = np.polyfit(np.log(LENGTHS_I), np.log(ER_L), 1)[0]
slope_d = np.polyfit(np.log(DIMS_I), np.log(ER_d), 1)[0]

print(f"H = 5 (no dummy) vs two-kernel model on S(ω): max |difference| = {gap_heads:.1e}")
print(f"slope of log E|ŷ_TF − ŷ_dGD| in log ω (ω ≤ 0.05, d = 5, L = 40): {slope_omega:.3f}")
print(f"median |error / (η ω² R) − 1| at ω = 0.01: {lead_dev:.2e}")
print(f"E|R| ∝ L^{slope_L:.3f} for L ≥ 160 (L^{slope_L_all:.3f} over all L; d = 5),   E|R| ∝ d^{slope_d:.3f} (L = 160)")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
cols = plt.cm.viridis(np.linspace(0, 0.9, len(LENGTHS_I)))
for col, L_ in zip(cols, LENGTHS_I):
    e, lead, _ = err_L[L_]
    axes[0].plot(OMEGAS_I, e, "o-", color=col, ms=4, label=f"$L = {L_}$")
    axes[0].plot(OMEGAS_I, lead, ":", color=col, lw=1)
axes[0].set(xscale="log", yscale="log", xlabel=r"KQ scale $\omega$", ylabel=r"$\mathbb{E}|\hat y_{\mathrm{TF}} - \hat y_{\mathrm{dGD}}(\eta)|$",
            title=f"(i) error vs $\\omega$ ($d = {d}$)")
axes[0].legend(fontsize=8, title=r"dotted: $\eta\omega^2\,\mathbb{E}|R|$", title_fontsize=8)
cols = plt.cm.magma(np.linspace(0.1, 0.8, len(DIMS_I)))
for col, d_ in zip(cols, DIMS_I):
    axes[1].plot(OMEGAS_I, err_d[d_][0], "s-", color=col, ms=4, label=f"$d = {d_}$")
axes[1].set(xscale="log", yscale="log", xlabel=r"KQ scale $\omega$", title="(i) error vs $\\omega$ ($L = 160$)")
axes[1].legend(fontsize=8)
axes[2].plot(LENGTHS_I, ER_L, "o-", label=f"$d = {d}$: slope {slope_L:.2f} for $L \\geq 160$")
axes[2].plot(LENGTHS_I, ER_L[0] * (np.array(LENGTHS_I) / LENGTHS_I[0]) ** -0.5, "k--", lw=1, label=r"$\propto L^{-1/2}$")
axes[2].set(xscale="log", yscale="log", xlabel="number of examples $L$", ylabel=r"$\mathbb{E}|R|$",
            title=r"(i) the $\omega^2$ coefficient vs $L$")
axes[2].legend(fontsize=8)
plt.show()

# %% [markdown]
# The measured error follows $\eta\omega^2\,\mathbb E|R|$ (dotted) at small $\omega$ and bends upward
# once $\omega^2 d$ is no longer small, the other condition of the theorem. It grows with $d$ and
# shrinks with $L$; the coefficient $\mathbb E|R|$ falls like $L^{-1/2}$, as a zero-mean sample
# average should. A five-head model without dummy heads on $S(\omega)$ gives the two-head predictor
# to rounding error, since (3.2) depends on the OV weights only through the group sums.

# %% tags=["nbval-check-output"]
print("five heads on S(ω) = two-kernel predictor:", gap_heads < 1e-10)

# %% [markdown]
# ## (ii) Optimality: minimising $\tilde{\mathcal L}$ over the larger space $\Theta$
#
# **Our reading of $\Theta$ (4.13).** The display is lost. The proof (App. D.2) speaks of "the sum of OV
# parameters for the positive, negative and dummy heads" and concludes that "it suffices to
# consider three-head attention" with KQ scales $(\omega, -\omega, 0)$. We therefore take, and this
# is our choice,
#
# $$\Theta(\omega) = \{(\omega_h, \mu_h)_{h \le H} : \omega_h \in \{+\omega, -\omega, 0\},\ \mu_h \in \mathbb R\},\qquad
# \Theta = \textstyle\bigcup_{\omega > 0} \Theta(\omega):$$
#
# the homogeneous KQ pattern is imposed, the OV weights are free (no sign matching, no zero sum,
# no $\mu^*(\omega)$). $S(\omega) \subset \Theta(\omega)$ adds: the $+$ heads' $\mu_h$ sum to
# $\mu^*(\omega) = \omega/(2\omega^2 + 2c\sinh(d\omega^2))$ (4.6), the $-$ heads' to $-\mu^*(\omega)$, and
# dummy heads have $\mu_h = 0$. $\tilde{\mathcal L}$ sees $\mu$ only through the three group sums
# $(\mu_+, \mu_-, \mu_0)$, so we measure the distance to $S(\omega)$ in them, relative to the
# manifold point: $\|(\mu_+ - \mu^*, \mu_- + \mu^*, \mu_0)\| / (\sqrt2\,\mu^*)$. A point of $\Theta$ is a
# sign pattern $s \in \{-1, 0, 1\}^H$ (discrete), a scale $\omega$ and $\mu \in \mathbb R^H$.
#
# **At a fixed scale.** For each $\omega$ and each $H$ we draw random sign patterns and random
# $\mu$, minimise over $\mu$ with SciPy's BFGS, and keep the best. D.2 says the best lies on
# $S(\omega)$, with loss $1 + \sigma^2 - \omega^2/(\omega^2 + c\sinh(d\omega^2))$, increasing in $\omega$.

# %%
rng_ii = np.random.default_rng(seed + 10)
fixed_rows = []
for H in HEADS_OPT:
    for w in OMEGAS_II:
        best = None
        for k in range(N_PATTERNS):
            signs = rng_ii.integers(-1, 2, H)
            mu, val = minimise_mu(w, signs, d, L, s2, seed=int(rng_ii.integers(1 << 31)))
            if best is None or val < best[2]:
                best = (signs, mu, val)
        signs, mu, val = best
        fixed_rows.append(dict(H=H, omega=w, pattern=pattern_kind(signs), best_loss=val,
                               manifold_loss=float(theory.manifold_loss(w, d, L, s2)),
                               rel_distance=float(manifold_distance(w, signs, mu, d, L, s2))))
fixed = pd.DataFrame(fixed_rows)
display(fixed.style.format({"omega": "{:.2f}", "best_loss": "{:.8f}", "manifold_loss": "{:.8f}", "rel_distance": "{:.1e}"})
        .hide(axis="index"))
fixed_on_S = float(fixed.rel_distance.max())
fixed_loss_gap = float((fixed.best_loss - fixed.manifold_loss).abs().max())
profile_increasing = bool(all(np.all(np.diff(g.sort_values("omega").best_loss.to_numpy()) > 0) for _, g in fixed.groupby("H")))
print(f"max relative distance to S(ω) of the best fixed-scale minimiser: {fixed_on_S:.1e}; "
      f"max |best L̃ − L̃ on S(ω)| = {fixed_loss_gap:.1e}; profile increasing in ω: {profile_increasing}")

# %% [markdown]
# **Jointly over $(\omega, \mu)$, from random starts.** Now the scale is free too. Each start draws a
# sign pattern uniformly from $\{-1,0,1\}^H$, $\omega$ log-uniform in $[0.05, 1]$ and
# $\mu \sim N(0, I_H)$, and L-BFGS-B (SciPy) minimises $\tilde{\mathcal L}$ with $\omega \ge 10^{-4}$. The
# sign pattern fixes the component of $\Theta$ a start can explore: patterns with both signs (±)
# can reach $S(\omega)$; patterns with one sign and no dummy are a single head in disguise; "one
# sign + dummy" patterns compute $\mu_+(\mathrm{NW}_\omega - \mathrm{NW}_0)$ at best, which also becomes
# debiased GD as $\omega \to 0$, with $\tilde{\mathcal L} = 1 + \sigma^2 - \omega^2/(\omega^2 + c(e^{d\omega^2} - 1))$ (our
# derivation, `one_sign_dummy_loss`).

# %%
fits = {H: minimise_theta(H, d, L, s2, N_STARTS, seed=seed + 100 + H) for H in HEADS_OPT}
rows = []
for H, fs in fits.items():
    for f in fs:
        rows.append(dict(H=H, kind=f.kind, omega_end=f.omega, excess=f.loss - floor, eta=f.eta,
                         rel_distance=float(f.path_distance[-1]), iterations=f.nit))
joint = pd.DataFrame(rows)
summary = joint.groupby(["H", "kind"]).agg(starts=("excess", "size"), max_excess=("excess", "max"),
                                           max_omega_end=("omega_end", "max"), eta_min=("eta", "min"), eta_max=("eta", "max"),
                                           median_rel_distance=("rel_distance", "median"), max_rel_distance=("rel_distance", "max"))
display(summary.style.format("{:.3g}"))
pm = joint[joint.kind == "±"]
osd = joint[joint.kind == "one sign + dummy"]
pm_excess, pm_omega = float(pm.excess.max()), float(pm.omega_end.max())
pm_eta_dev = float(np.abs(pm.eta / eta_eff - 1).max())
pm_on_S = float((pm.rel_distance <= 1e-2).mean())
stalled = [f for fs in fits.values() for f in fs if f.kind == "±" and f.path_distance[-1] > 1e-2]
stalled_with_dummy = all((f.signs == 0).any() for f in stalled)
print(f"floor 1 + σ² − 1/(1 + cd) = {floor:.6f};  η_eff = {eta_eff:.5f}")
print(f"± starts: {len(pm)}; max L̃ − floor = {pm_excess:.1e}; max final ω = {pm_omega:.4f}; "
      f"max |Σ ω_h μ_h / η_eff − 1| = {pm_eta_dev:.1e}; fraction within 1% of S(ω̂): {pm_on_S:.2f}")
print(f"± starts ending farther than 1% from S(ω̂): {len(stalled)}, all with a dummy head: {stalled_with_dummy}; "
      f"their L̃ − floor ≤ {max((f.loss - floor for f in stalled), default=0):.1e}")
if len(osd):
    print(f"one sign + dummy starts: {len(osd)}; max L̃ − floor = {osd.excess.max():.1e}; "
          f"Σ ω_h μ_h in [{osd.eta.min():.5f}, {osd.eta.max():.5f}]; relative distance to S(ω̂) ≥ {osd.rel_distance.min():.2f}")

# %%
kind_style = {"±": ("C0", "±: both signs"), "one sign + dummy": ("C3", "one sign + dummy"),
              "one sign": ("C2", "one sign (a single head)"), "all dummy": ("0.5", "all dummy")}
H_show = HEADS_OPT[-1]
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
seen = set()
for f in fits[H_show]:
    col, lab = kind_style[f.kind]
    lab = None if f.kind in seen else lab
    seen.add(f.kind)
    it = np.arange(len(f.path_loss))
    axes[0].plot(it + 1, np.maximum(f.path_loss - floor, 1e-16), color=col, lw=1, alpha=0.8, label=lab)
    axes[1].plot(it + 1, f.path_omega, color=col, lw=1, alpha=0.8)
    if f.kind in ("±", "one sign + dummy"):
        axes[2].plot(it + 1, f.path_distance, color=col, lw=1, alpha=0.8)
ww = np.geomspace(1e-3, 1, 100)
axes[0].set(xscale="log", yscale="log", xlabel="L-BFGS-B iteration", ylabel=r"$\tilde{\mathcal{L}} - (1 + \sigma^2 - \frac{1}{1 + cd})$",
            title=f"(ii) loss along the way, $H = {H_show}$")
axes[0].legend(fontsize=8)
axes[1].set(xscale="log", yscale="log", xlabel="L-BFGS-B iteration", ylabel=r"scale $\omega$", title=r"$\omega$ is pushed towards 0")
axes[2].set(xscale="log", yscale="log", xlabel="L-BFGS-B iteration", ylabel=r"relative distance to $S(\omega)$",
            title=r"distance to $S(\omega)$ (± and one sign + dummy)")
plt.show()

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(ww, theory.manifold_loss(ww, d, L, s2) - floor, label=r"± heads on $S(\omega)$ (4.6)")
ax.plot(ww, one_sign_dummy_loss(ww, d, L, s2) - floor, "C3", label="one sign + dummy (closed form)")
ax.plot(ww, theory.single_head_loss(ww, d, L, s2) - floor, "C2", label="one sign, no dummy (a single head)")
for H in HEADS_OPT:
    g = fixed[fixed.H == H]
    ax.plot(g.omega, g.best_loss - floor, "k.", ms=8, label="best over $\\Theta(\\omega)$ (numerical)" if H == HEADS_OPT[0] else None)
ax.set(xscale="log", yscale="log", xlabel=r"scale $\omega$", ylabel=r"$\min_\mu \tilde{\mathcal{L}} - $ floor",
       title=r"(ii) best loss in each component of $\Theta(\omega)$")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# What the minimisation shows:
#
# - At every fixed scale the best point of $\Theta(\omega)$ is on $S(\omega)$ and its loss increases
#   with $\omega$, as D.2 says, so the infimum over $\Theta$ is approached as $\omega \to 0$.
# - Started jointly, every ± start drives $\omega$ down by one to two decades and ends within a
#   hair of the floor $1 + \sigma^2 - 1/(1 + cd)$, with $\sum_h \omega_h\mu_h = 1/(1 + cd) = \eta_\mathrm{eff}$
#   to several digits: the predictor is debiased GD with the theorem's rate. The optimiser stops
#   at $\omega$ of order $10^{-2}$ or below because the excess loss on $S(\omega)$ is $O(\omega^4)$ and
#   falls below double precision; the "river valley" of §4.2 in its purest form.
# - Not every ± start ends *on* $S(\hat\omega)$: some, all with dummy heads (printed above), stop in a mixture of
#   the ± solution and the one-sign-plus-dummy solution. These are a second valley the
#   theorem does not mention: "one sign + dummy" also reaches the same infimum as $\omega \to 0$,
#   only more slowly (excess $O(\omega^2)$ instead of $O(\omega^4)$), and its limiting predictor is the
#   same debiased GD. At any fixed $\omega$ it is strictly worse, so the paper's statement ("the
#   minimum over $\Theta(\omega)$ is in $S(\omega)$") stands; what fails is uniqueness of the route to
#   the infimum, and a finite-precision optimiser can stall between the two valleys where
#   $\tilde{\mathcal L}$ is flat to $10^{-7}$.
#
# The best joint minimiser's predictor, checked by Monte Carlo against debiased GD at $\eta_\mathrm{eff}$:

# %%
best_fit = min((f for fs in fits.values() for f in fs), key=lambda f: f.loss)
best_model = KernelSum(best_fit.omega * best_fit.signs, best_fit.mu, name="best minimiser")
P_best = sample_prompts(task, 5_000, torch.Generator().manual_seed(seed + 5), dtype=torch.float64)
y_best, y_dgd = best_model(P_best)[:, 0], DebiasedGD(eta_eff)(P_best)[:, 0]
best_pred_gap = ((y_best - y_dgd).abs().mean() / y_dgd.abs().mean()).item()
print(f"best start: H = {len(best_fit.signs)}, pattern {best_fit.signs.astype(int)}, ω̂ = {best_fit.omega:.2e}, "
      f"L̃ − floor = {best_fit.loss - floor:.1e}, relative distance to S(ω̂) = {best_fit.path_distance[-1]:.1e}")
print(f"E|ŷ_best − ŷ_dGD(η_eff)| / E|ŷ_dGD| = {best_pred_gap:.2e}")

# %% [markdown]
# ## (iii) Bayes risk
#
# ### At the paper's defaults
#
# Risks on common prompts (Monte Carlo, ± one standard error) of the trained models (cached, the
# configurations of the observations chapter), the two GD predictors at their rates, the single
# head at the approximate-loss optimum $\omega = 1/\sqrt d$, $\mu = \mu^*(\omega)$ of (4.1), and the
# Bayes predictor, with the exact values where a closed form exists and the reference numbers
# of our notes (PAPER_NOTES §5).

# %%
runs = {H: load_or_train_many([run_config(prof, heads=H, seed=s, task=task) for s in SEEDS], device=dev) for H in HEADS}
w_sh, mu_sh, approx_sh = theory.single_head_optimum(d, L, s2)
eta_star = theory.gd_optimal_eta(d, L, s2)
preds = {f"trained H={H}, seed {s}": r.predictor(device=dev) for H in HEADS for s, r in zip(SEEDS, runs[H])}
preds.update({"vanilla GD (η*)": VanillaGD(eta_star), "debiased GD (η_eff)": DebiasedGD(eta_eff),
              "single head NW (ω = 1/√d)": nadaraya_watson(w_sh, mu_sh), "Bayes (ridge λ = dσ²)": bayes(task)})
risks = icl_risks(preds, task, N_RISK, seed=seed + 7)
bayes_mc = theory.bayes_risk_mc(d, L, s2, n_prompts=N_RISK, seed=seed + 8)


def trained(H):
    rs = [risks[f"trained H={H}, seed {s}"] for s in SEEDS]
    return float(np.mean([r.mean for r in rs])), float(np.sqrt(np.mean([r.se**2 for r in rs]) / len(rs))), \
        float(np.ptp([r.mean for r in rs]))


rows = []
for H in HEADS:
    m, se, spread = trained(H)
    rows.append((f"trained softmax attention, H = {H} (mean of {len(SEEDS)} seeds)", m, se, np.nan,
                 0.408 if H == 1 else 0.243))
rows += [("vanilla GD at η* = L/(L + d(1+σ²) + 1)", risks["vanilla GD (η*)"].mean, risks["vanilla GD (η*)"].se,
          float(theory.gd_risk(eta_star, d, L, s2)), 0.2398),
         ("debiased GD at η_eff = L/(L + d(1+σ²))", risks["debiased GD (η_eff)"].mean, risks["debiased GD (η_eff)"].se,
          float(theory.dgd_risk(eta_eff, d, L, s2)), 0.243),
         ("single head NW at ω = 1/√d, μ = μ*(ω)", risks["single head NW (ω = 1/√d)"].mean,
          risks["single head NW (ω = 1/√d)"].se, np.nan, 0.408),
         ("Bayes: ridge with λ = dσ² (squared errors)", risks["Bayes (ridge λ = dσ²)"].mean, risks["Bayes (ridge λ = dσ²)"].se,
          np.nan, 0.1105),
         ("Bayes: ridge with λ = dσ² (posterior-variance MC)", bayes_mc[0], bayes_mc[1], np.nan, 0.1105)]
table = pd.DataFrame(rows, columns=["predictor", "risk (MC)", "± s.e.", "exact", "PAPER_NOTES §5"]).set_index("predictor")
display(table.style.format("{:.4f}", na_rep="—"))
r_multi = np.mean([trained(H)[0] for H in HEADS if H >= 2])
print(f"multi-head risk / Bayes risk = {r_multi / bayes_mc[0]:.3f};  single head / Bayes = {trained(1)[0] / bayes_mc[0]:.3f}")
print(f"Bayes risk: {bayes_mc[0]:.4f} (posterior variance), {risks['Bayes (ridge λ = dσ²)'].mean:.4f} ± "
      f"{risks['Bayes (ridge λ = dσ²)'].se:.4f} (squared errors), {float(theory.bayes_risk_asymptotic(d / L, s2)):.4f} (proportional limit at ξ = d/L)")

# %% [markdown]
# The two Bayes estimates (independent routes: squared errors of the ridge predictor, and the
# posterior-variance identity $\sigma^2 + \sigma^2\,\mathbb E\,\mathrm{tr}(X^\top X + d\sigma^2 I)^{-1}$) agree with each other
# and with the Marchenko–Pastur limit at $\xi = 1/8$ (printed above), and all three sit clearly above
# the 0.1105 of our notes. We keep the notes' number as the target and report the discrepancy: the
# notes' own remark gives "Monte Carlo 0.110–0.112" at $\xi = 1/8$, so we suspect their Monte Carlo
# rather than ours, but we cannot check it.

# %% [markdown]
# ### The proportional regime
#
# Theorem 4.2 (iii) lets $d, L \to \infty$ with $d/L = \xi$. Then the transformer's rate
# $\eta_\mathrm{eff} = 1/(1 + \xi(1+\sigma^2))$ is the asymptotically optimal one, and the risk of (vanilla or
# debiased) GD tends to $1 + \sigma^2 - 1/(1 + \xi(1+\sigma^2))$ (D.33), while the Bayes risk tends to the
# Marchenko–Pastur expression $R_B(\xi,\sigma^2) = \tfrac12[\sigma^2 + 1 - 1/\xi + \sqrt{4\sigma^2 + (\sigma^2 - 1 + 1/\xi)^2}]$.
# The theorem's printed factor is lost; we report the ratio of the two limits, the
# "proportional factor", and check that finite-$d$ Monte Carlo approaches both limits.
#
# Monte Carlo: debiased GD at $\eta_\mathrm{eff}(d, L)$ with the risk averaged exactly over $\beta$, the
# noise and $x_q$ given the context (`gd_risk_mc`), and the Bayes risk through its posterior
# variance (`theory.bayes_risk_mc`); both leave only the context $X$ random, so a few thousand
# draws suffice.

# %%
prop_rows = []
for xi in XIS:
    for sg in SIGMA2S:
        for d_ in DIMS_III:
            L_ = int(round(d_ / xi))
            r_dgd, se_dgd = gd_risk_mc(d_, L_, sg, theory.eta_eff(d_, L_, sg), N_III, seed=seed + d_)
            r_b, se_b = theory.bayes_risk_mc(d_, L_, sg, n_prompts=N_III, seed=seed + d_, batch=500)
            prop_rows.append(dict(xi=xi, sigma2=sg, d=d_, L=L_, dgd_mc=r_dgd, dgd_se=se_dgd, bayes_mc=r_b, bayes_se=se_b))
prop = pd.DataFrame(prop_rows)
prop["dgd_exact"] = [float(theory.dgd_risk(theory.eta_eff(r.d, r.L, r.sigma2), r.d, r.L, r.sigma2)) for r in prop.itertuples()]
prop["dgd_limit"] = theory.gd_risk_asymptotic(prop.xi, prop.sigma2)
prop["bayes_limit"] = theory.bayes_risk_asymptotic(prop.xi, prop.sigma2)
prop["dgd_rel_err"] = prop.dgd_mc / prop.dgd_limit - 1
prop["bayes_rel_err"] = prop.bayes_mc / prop.bayes_limit - 1
prop["factor_mc"] = prop.dgd_mc / prop.bayes_mc
prop["factor_limit"] = prop.dgd_limit / prop.bayes_limit
show = prop[["xi", "sigma2", "d", "L", "dgd_mc", "dgd_exact", "dgd_limit", "bayes_mc", "bayes_limit", "factor_mc", "factor_limit"]]
display(show.style.format({c_: "{:.4f}" for c_ in ["dgd_mc", "dgd_exact", "dgd_limit", "bayes_mc", "bayes_limit", "factor_mc", "factor_limit"]}
                          | {"xi": "{:.2f}", "sigma2": "{:.1f}"}).hide(axis="index"))

dmax, dmin = max(DIMS_III), min(DIMS_III)
last = prop[prop.d == dmax]
worst_dgd = float(last.dgd_rel_err.abs().max())
worst_bayes = float(last.bayes_rel_err.abs().max())
z_dgd = float(((prop.dgd_mc - prop.dgd_exact).abs() / prop.dgd_se).max())  # MC vs the exact finite-d risk
shrinks = bool((prop[prop.d == dmax].bayes_rel_err.abs().to_numpy() <= prop[prop.d == dmin].bayes_rel_err.abs().to_numpy() + 1e-12).all()) \
    if dmax != dmin else None
auth = prop[(prop.xi == 0.2) & (prop.sigma2 == 3.0) & (prop.d == dmax)].iloc[0]
print(f"at d = {dmax}: max |dGD MC / limit − 1| = {worst_dgd:.4f}, max |Bayes MC / limit − 1| = {worst_bayes:.4f}")
print(f"dGD Monte Carlo vs its exact finite-d risk: max deviation {z_dgd:.2f} standard errors over {len(prop)} cells")
print(f"authors' point ξ = 0.2, σ² = 3 (d = {dmax}, L = {int(auth.L)}): dGD {auth.dgd_mc:.4f} (limit {auth.dgd_limit:.4f}), "
      f"Bayes {auth.bayes_mc:.4f} (limit {auth.bayes_limit:.4f}), factor {auth.factor_mc:.4f} (limit {auth.factor_limit:.4f})")

# %%
xx = np.geomspace(0.02, 2, 200)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for k, sg in enumerate(SIGMA2S):
    col = f"C{k}"
    axes[0].plot(xx, theory.gd_risk_asymptotic(xx, sg), color=col, label=f"GD limit, $\\sigma^2 = {sg:g}$")
    axes[0].plot(xx, theory.bayes_risk_asymptotic(xx, sg), color=col, ls="--", label=f"Bayes limit, $\\sigma^2 = {sg:g}$")
    g = prop[(prop.sigma2 == sg) & (prop.d == dmax)]
    axes[0].plot(g.xi, g.dgd_mc, "o", color=col, ms=5)
    axes[0].plot(g.xi, g.bayes_mc, "s", color=col, ms=5, mfc="white")
    axes[1].plot(xx, theory.gd_risk_asymptotic(xx, sg) / theory.bayes_risk_asymptotic(xx, sg), color=col, label=f"$\\sigma^2 = {sg:g}$")
    axes[1].plot(g.xi, g.factor_mc, "o", color=col, ms=5)
axes[0].set(xscale="log", xlabel=r"$\xi = d/L$", ylabel="risk", title=f"(iii) risks in the proportional regime (markers: MC, $d = {dmax}$)")
axes[0].legend(fontsize=7, ncol=2)
axes[1].axvline(0.2, color="0.5", ls=":", lw=1)
axes[1].set(xscale="log", xlabel=r"$\xi = d/L$", ylabel="GD risk / Bayes risk", title="(iii) the proportional factor")
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# The Monte Carlo risks approach the limits as $d$ grows at fixed $\xi$, with deviations shrinking
# roughly like $1/d$ (table; the worst case is small noise and $\xi = 1$, where $L = d$). The factor is close to one when $\xi$ is small or the
# noise is large (both predictors are then limited by the noise), and largest at small noise and
# $\xi$ near one, where ridge's matrix inverse pays off. At the authors' point $\xi = 0.2$,
# $\sigma^2 = 3$ the one-step predictor is within about 1% of Bayes; at the paper's training point
# ($\xi = 1/8$, $\sigma^2 = 0.1$) the factor is about two, as in the table at the defaults.
#
# ## Vanilla versus debiased GD
#
# The two predictors differ by $\hat y_{\mathrm{dGD}} - \hat y_{\mathrm{GD}} = -\eta\,\bar y\,\bar x^\top x_q$, whose mean
# square is $\eta^2\,(d(1+\sigma^2) + 2)/L^2$ (our short computation with $\bar x \sim N(0, I/L)$). From the
# exact risks in `icl.theory` (App. D.3, steps 1–2) three facts follow, by our algebra:
#
# - the optimal rate of debiased GD is **exactly** $\eta_\mathrm{eff} = L/(L + d(1+\sigma^2))$, the rate the
#   transformer reaches as $\omega \to 0$; its risk is $1 + \sigma^2 - (L-1)/(L + d(1+\sigma^2))$: one sample is
#   spent on centring;
# - at the optimal rates, with $D = d(1+\sigma^2)$,
#   $R_{\mathrm{dGD}}(\eta_\mathrm{eff}) - R_{\mathrm{GD}}(\eta^*) = (D + 1)/\big((L + D)(L + D + 1)\big)$, about $d(1+\sigma^2)/L^2$;
# - relative to the risk, itself of order $d/L + \sigma^2$, the gap is of order $1/L$.
#
# So the two coincide when $L$ is large, whether $d/L \to 0$ or $d/L \to \xi$, and separate for short
# prompts. The exact risks across $L$ for several $d$:

# %%
Ls = np.unique(np.geomspace(4, 2000, 80).astype(int))
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
gap_rows = []
for k, d_ in enumerate((2, 5, 20, 80)):
    Lk = Ls[Ls > d_ + 2]
    r_gd = theory.gd_risk(theory.gd_optimal_eta(d_, Lk, s2), d_, Lk, s2)
    r_dgd_eff = theory.dgd_risk(theory.eta_eff(d_, Lk, s2), d_, Lk, s2)
    axes[0].plot(Lk, r_dgd_eff / r_gd - 1, color=f"C{k}", label=f"$d = {d_}$")
    axes[1].plot(Lk, theory.eta_eff(d_, Lk, s2) ** 2 * (d_ * (1 + s2) + 2) / Lk**2 / r_gd, color=f"C{k}", label=f"$d = {d_}$")
    i1 = np.argmax(r_dgd_eff / r_gd - 1 < 0.01)
    gap_rows.append(dict(d=d_, L_gap_below_1pct=int(Lk[i1]), d_over_L=d_ / Lk[i1]))
axes[0].axhline(0.01, color="0.5", ls=":", lw=1)
axes[0].set(xscale="log", yscale="log", xlabel="number of examples $L$", ylabel="relative excess risk",
            title=r"dGD($\eta_\mathrm{eff}$) over optimal vanilla GD($\eta^*$)")
axes[0].legend(fontsize=8)
axes[1].set(xscale="log", yscale="log", xlabel="number of examples $L$",
            ylabel=r"$\mathbb{E}(\hat y_{\mathrm{dGD}} - \hat y_{\mathrm{GD}})^2$ / risk", title="how far apart the two predictors are")
axes[1].legend(fontsize=8)
plt.show()
display(pd.DataFrame(gap_rows).style.format({"d_over_L": "{:.3f}"}).hide(axis="index"))

# Monte Carlo check of the mean-square difference at the defaults
P_v = sample_prompts(task, N_RISK, torch.Generator().manual_seed(seed + 9), dtype=torch.float64)
dd = ((DebiasedGD(eta_eff)(P_v) - VanillaGD(eta_eff)(P_v)) ** 2)[:, 0]
msd_mc, msd_se = dd.mean().item(), (dd.std() / math.sqrt(len(dd))).item()
msd_exact = eta_eff**2 * (d * (1 + s2) + 2) / L**2
Dn = d * (1 + s2)
dr = ((DebiasedGD(eta_eff)(P_v) - P_v.y_q) ** 2 - (VanillaGD(eta_star)(P_v) - P_v.y_q) ** 2)[:, 0]  # common prompts
gap_mc, gap_se = dr.mean().item(), (dr.std() / math.sqrt(len(dr))).item()
gap_exact = (Dn + 1) / ((L + Dn) * (L + Dn + 1))
eta_dgd_opt = theory.dgd_optimal_eta(d, L, s2)
gap_default = float(theory.dgd_risk(eta_eff, d, L, s2) / theory.gd_risk(eta_star, d, L, s2) - 1)
print(f"defaults: E(ŷ_dGD − ŷ_GD)² = {msd_mc:.5f} ± {msd_se:.5f} (MC), {msd_exact:.5f} (formula); "
      f"dGD(η_eff) risk exceeds optimal GD by {100 * gap_default:.2f}%")
print(f"R_dGD(η_eff) − R_GD(η*) = {gap_mc:.5f} ± {gap_se:.5f} (MC, common prompts), {gap_exact:.5f} (formula)")
print(f"optimal dGD rate {eta_dgd_opt:.10f} vs η_eff {eta_eff:.10f}")

# %% [markdown]
# The relative gap falls below 1% at $L \approx 40$–$85$ for $d$ from 2 to 80 (table), i.e. at $d/L$ anywhere
# from 0.05 to 0.9: for this threshold what matters is $L$, not $d/L$. While estimation error
# dominates the risk (risk $\approx d(1+\sigma^2)/L$) the relative gap is about $1/L$, the one sample
# spent on centring; once the noise dominates ($L \gg d(1+\sigma^2)/\sigma^2$) it falls like
# $d(1+\sigma^2)/(\sigma^2 L^2)$, which is where larger $d$ keeps the curves apart. At the defaults
# ($L = 40$) debiased GD at $\eta_\mathrm{eff}$ is about one per cent above optimal vanilla GD (printed above),
# which is why the curves of Fig. 4 coincide.
#
# ## The single head (4.12)
#
# One head computes a Nadaraya–Watson regressor $\mu\,\mathrm{NW}_\omega$. Its risk is exactly quadratic in
# $\mu$: $\mathbb E(\mu a_\omega - y_q)^2 = \mathbb E y_q^2 - 2\mu A + \mu^2 B$ with $A = \mathbb E[a_\omega y_q]$,
# $B = \mathbb E[a_\omega^2]$, so Monte Carlo over prompts gives the true risk at every $\mu$ and its best
# $\mu$ for every $\omega$ on common prompts. The approximate loss (4.1) replaces $A$ by $\omega$ and $B$ by
# $\omega^2 + c\,e^{d\omega^2}$; its optimum is $\omega = 1/\sqrt d$ with
# $\tilde{\mathcal L} = 1 + \sigma^2 - 1/(1 + cde) = 0.372$.

# %%
P_nw = sample_prompts(task, N_RISK, torch.Generator().manual_seed(seed + 11), dtype=torch.float64)
A, B = nw_moments(np.r_[OMEGAS_NW, w_sh], P_nw, s2)
true_best_mu = 1 + s2 - A**2 / B  # (W + 1,) true risk at the best μ for each ω (E y_q² = 1 + σ² exactly)
i_best = int(np.argmin(true_best_mu[:-1]))
true_at_approx = float(1 + s2 - 2 * mu_sh * A[-1] + mu_sh**2 * B[-1])
pats1 = [r.pattern() for r in runs[1]]
r1_mean = trained(1)[0]
nw_tab = pd.DataFrame([
    ("approximate loss L̃ at ω = 1/√d (closed form)", w_sh, mu_sh, approx_sh),
    ("true risk at ω = 1/√d, μ = μ*(ω) of L̃", w_sh, mu_sh, true_at_approx),
    ("true risk at ω = 1/√d, best μ", w_sh, A[-1] / B[-1], true_best_mu[-1]),
    ("true risk at the best ω on the grid, best μ", OMEGAS_NW[i_best], A[i_best] / B[i_best], true_best_mu[i_best]),
] + [(f"trained single head, seed {s} (|ω|, |μ| extracted)", abs(p.omega[0]), abs(p.mu[0]), risks[f"trained H=1, seed {s}"].mean)
     for s, p in zip(SEEDS, pats1)], columns=["", "ω", "μ", "risk"]).set_index("")
display(nw_tab.style.format("{:.4f}"))

# where the approximation loses: A and B at ω = 1/√d against (4.1), for growing L
ab_rows = []
for L_ in (40, 160, 640):
    g_ = torch.Generator().manual_seed(seed + 12)
    mom = [nw_moments([w_sh], sample_prompts(TaskConfig(d=d, L=L_, sigma2=s2), max(N_RISK // 10, 200), g_, dtype=torch.float64), s2)
           for _ in range(N_NW_L)]
    a_, b_ = np.mean([m_[0][0] for m_ in mom]), np.mean([m_[1][0] for m_ in mom])
    c_ = (1 + s2) / L_
    ab_rows.append({"L": L_, "A / ω": a_ / w_sh, "(B − ω²) / c": (b_ - w_sh**2) / c_, "(4.1): e^{dω²}": math.e,
                    "true risk": 1 + s2 - a_**2 / b_, "approximate risk (4.1)": 1 + s2 - 1 / (1 + c_ * d * math.e)})
ab = pd.DataFrame(ab_rows)
ab["gap"] = ab["true risk"] - ab["approximate risk (4.1)"]
display(ab.style.format("{:.4f}").format({"L": "{:d}"}).hide(axis="index"))

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(OMEGAS_NW, true_best_mu[:-1], "o-", label="true risk, best $\\mu$ (MC)")
ax.plot(OMEGAS_NW, theory.single_head_loss(OMEGAS_NW, d, L, s2), "--", label=r"approximate loss $\tilde{\mathcal{L}}$ (4.1)")
for s, p in zip(SEEDS, pats1):
    ax.plot(abs(p.omega[0]), risks[f"trained H=1, seed {s}"].mean, "k*", ms=10, label="trained single head" if s == SEEDS[0] else None)
ax.axvline(w_sh, color="0.5", ls=":", lw=1)
ax.set(xlabel=r"KQ scale $|\omega|$", ylabel="risk", title=f"Single head at $L = {L}$: true risk vs (4.1)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The gap between 0.372 and 0.408 is a finite-$L$ effect of the softmax normalisation, which
# (4.1) treats in its large-$L$ form: it replaces the random denominator $\sum_l e^{\omega x_l^\top x_q}$ by its
# mean. The moments $A$ and $B$ (averaged exactly over $\beta$ and the noise, with control variates for
# the query's norm; `nw_moments`) show where it errs. At $\omega = 1/\sqrt d$ the weights are
# concentrated ($d\omega^2 = 1$), the self-normalised average $\sum_l \mathrm{softmax}_l\, x_l$ is pulled towards the
# plain mean, and at $L = 40$ the signal $A$ falls several per cent short of the $\omega$ that (4.1) assumes; the
# variance term $B - \omega^2$ is also smaller than $c\,e^{d\omega^2}$, but the lost signal weighs more, and the
# true risk ends above the approximate one. As $L$ grows, $A/\omega \to 1$ and the gap closes (table).
# Even at small $\omega$ the signal is $A \approx \omega (L-1)/L$, not $\omega$: one sample goes to the centring,
# as for debiased GD. The true optimum sits at a somewhat larger $|\omega|$ than $1/\sqrt d$, where the
# trained single heads are.
#
# ## Claims
#
# Tolerances are ours, fixed before the final runs. (i): the slope in $\omega$ within 0.1 of 2; the
# leading term within 1% (median ratio); the $L$ exponent of the coefficient within 0.1 of $-1/2$,
# fitted over $L \ge 160$ (the theorem is a large-$L$ statement; below that the slope is shallower).
# (ii): fixed-scale minimisers on $S(\omega)$ to relative distance $10^{-4}$ (the BFGS tolerance); joint
# minimisers within $10^{-6}$ of the floor, at $\omega < 0.02$, with rate within $10^{-3}$ of $\eta_\mathrm{eff}$;
# "on $S(\hat\omega)$" means relative distance at most 1%; the best minimiser's predictor within 1% of
# debiased GD. (iii): risks at the defaults within 0.005 of the notes' Monte Carlo values (our
# standard errors are about 0.002; 0.003 for the low-variance Bayes estimate), the trained multi-head models within 0.01; Monte Carlo in
# the proportional regime within 3% of the limits at the largest $d$ (finite-size effects are
# $O(1/d)$), and within four standard errors of the exact finite-$d$ debiased-GD risk; the Monte
# Carlo factor within 3% of the limiting one at the authors' point.
# Vanilla vs debiased: the mean-square difference and the risk gap within four standard errors of
# our formulas. Single head: a signal shortfall $A/\omega \le 0.95$ at $L = 40$ (5% already more than
# accounts for the gap between 0.372 and 0.408).

# %%
claims.add("(i) E|ŷ_TF − ŷ_dGD| ∝ ω^2 on S(ω) with 2ωμ = η (log-log slope, ω ≤ 0.05)", "Thm 4.2 (i)", slope_omega, 2.0, tol=0.1,
           note="the exponent 2 is our derivation (odd part of the log-softmax); the printed bound is lost")
claims.add("(i) error = η ω² R + O(ω⁴): median |ratio − 1| at ω = 0.01", "Thm 4.2 (i), Remark D.1", lead_dev, 0.01, kind="max")
claims.add("(i) error coefficient shrinks with L like L^(−1/2) (d = 5, slope over L ≥ 160)", "Thm 4.2 (i)", slope_L, -0.5, tol=0.1,
           note="our reading of 'L large': the population error vanishes by Stein's lemma, only fluctuations remain")
claims.add("(i) H-head model without dummy heads on S(ω) = two-head predictor", "Thm 4.2 (i), (4.9)", gap_heads < 1e-10, kind="true")
claims.add("(ii) at fixed ω the minimiser of L̃ over Θ(ω) lies on S(ω) (max relative distance)", "Thm 4.2 (ii), App. D.2",
           fixed_on_S, 1e-4, kind="max", note="Θ (4.13) is our reading: ω_h ∈ {±ω, 0}, μ free")
claims.add("(ii) min over Θ(ω) of L̃ increases with ω (infimum as ω → 0)", "Thm 4.2 (ii), (D.21)", profile_increasing, kind="true")
claims.add("(ii) joint minimisation, ± starts: max L̃ − (1+σ² − 1/(1+cd))", "Thm 4.2 (ii), (D.23)", pm_excess, 1e-6, kind="max")
claims.add("(ii) joint minimisation pushes ω → 0: max final ω of ± starts", "Thm 4.2 (ii)", pm_omega, 0.02, kind="max")
claims.add("(ii) minimiser implements dGD with η = 1/(1+cd): max |Σω_hμ_h/η_eff − 1|", "Thm 4.2 (ii)", pm_eta_dev, 1e-3, kind="max")
claims.add("(ii) every ± start ends on S(ω̂) (fraction within 1% relative distance)", "Thm 4.2 (ii)", pm_on_S, 1.0, kind="min",
           note=f"{len(stalled)} ± starts, all with dummy heads: {stalled_with_dummy}, stall between S(ω) and the 'one sign + dummy' "
                "valley, which reaches the same infimum as ω → 0 (excess O(ω²) vs O(ω⁴)); there L̃ is within "
                f"{max((f.loss - floor for f in stalled), default=0):.0e} of the floor; at fixed ω S(ω) is strictly better")
claims.add("(ii) best minimiser's predictor ≈ dGD(η_eff): E|Δŷ| / E|ŷ_dGD|", "Thm 4.2 (ii)", best_pred_gap, 0.01, kind="max")
claims.add("(iii) trained multi-head (H = 2, 4) risk ≈ 0.243", "Obs. 3, notes §5", r_multi, 0.243, tol=0.01)
claims.add("(iii) vanilla GD at η*: risk 0.2398", "(D.29), notes §5", risks["vanilla GD (η*)"].mean, 0.2398, tol=0.005)
claims.add("(iii) debiased GD at η_eff: risk 0.243", "(4.11), notes §5", risks["debiased GD (η_eff)"].mean, 0.243, tol=0.005)
claims.add("(iii) single head NW at ω = 1/√d: true risk 0.408", "(4.12), notes §5", true_at_approx, 0.408, tol=0.005)
claims.add("(iii) Bayes (ridge λ = dσ²) risk 0.1105", "Thm 4.2 (iii), notes §5", bayes_mc[0], 0.1105, tol=0.003,
           note=f"two independent Monte Carlo routes agree ({bayes_mc[0]:.4f} and {risks['Bayes (ridge λ = dσ²)'].mean:.4f}), and the "
                f"Marchenko–Pastur limit at ξ = 1/8 gives {float(theory.bayes_risk_asymptotic(d / L, s2)):.4f}; the notes' 0.1105 "
                "looks like a Monte Carlo or convention error on their side, not confirmed")
claims.add(f"(iii) proportional regime: dGD at η_eff within 3% of its limit at d = {dmax} (worst over ξ, σ²)", "Thm 4.2 (iii), (D.33)",
           worst_dgd, 0.03, kind="max")
claims.add("(iii) finite-d dGD risk: Monte Carlo = exact closed form (max deviation in s.e. over the grid)", "App. D.3 (D.30–D.32)",
           z_dgd, 4.0, kind="max")
claims.add(f"(iii) proportional regime: Bayes MC within 3% of the Marchenko–Pastur limit at d = {dmax}", "Thm 4.2 (iii), App. D.3",
           worst_bayes, 0.03, kind="max")
claims.add("(iii) proportional factor at ξ = 0.2, σ² = 3: MC vs limit", "Thm 4.2 (iii)", auth.factor_mc, auth.factor_limit,
           tol=0.03, kind="rel")
claims.add("vanilla vs debiased GD: E(ŷ_dGD − ŷ_GD)² = η²(d(1+σ²)+2)/L² (MC within 4 s.e.)", "§4.3", abs(msd_mc - msd_exact),
           4 * msd_se, kind="max", note="the formula is our derivation")
claims.add("vanilla vs debiased GD: R_dGD(η_eff) − R_GD(η*) = (D+1)/((L+D)(L+D+1)), D = d(1+σ²) (MC within 4 s.e.)", "§4.3, App. D.3",
           abs(gap_mc - gap_exact), 4 * gap_se, kind="max", note="the formula is our algebra on the exact risks")
claims.add("η_eff = 1/(1+cd) is exactly the optimal debiased-GD rate: |argmin R_dGD − η_eff|", "Thm 4.2 (ii)–(iii)",
           abs(eta_dgd_opt - eta_eff), 1e-12, kind="max", note="from the exact dGD risk of icl.theory; our observation")
claims.add("single head: trained H = 1 risk ≈ best NW risk over ω (by MC)", "(4.12), Obs. 3", r1_mean, float(true_best_mu[i_best]),
           tol=0.01)
claims.add("single head: (4.1)'s signal term A ≈ ω fails at L = 40 (A/ω at ω = 1/√d)", "(4.1), (4.12)", float(ab["A / ω"].iloc[0]),
           0.95, kind="max", note="our explanation of 0.372 vs 0.408: the finite-L softmax normalisation shrinks the signal")
claims.add(f"single head: A/ω → 1 and the true − approximate gap shrinks as L grows (L = {ab.L.iloc[0]} → {ab.L.iloc[-1]})", "(4.1), (4.12)",
           bool(abs(ab["A / ω"].iloc[-1] - 1) < abs(ab["A / ω"].iloc[0] - 1) and ab.gap.iloc[-1] < ab.gap.iloc[0]), kind="true")
claims.show()
claims.save();  # also for the scorecard and the tests
