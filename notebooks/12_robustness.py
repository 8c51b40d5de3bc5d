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
# # Robustness: to how the model is trained, and to what it is asked
#
# Section 3 of {cite:t}`he2025incontext` trains every model with Adam at rate $10^{-3}$, batch 256 and
# PyTorch's default initialisation, and closes its set-up with a sentence the rest of the book never
# tested: "we found that the results are not sensitive to the choice of optimization algorithm,
# hyperparameters such as batch size and learning rate, or the configuration of the ICL data-generating
# process". Section 4.1 sharpens it: "the particular value of $\omega$ learned by the optimization
# algorithm depends on particular choices of learning rate, training steps, and batch size … Meanwhile,
# the learned $(\omega, \mu)$ consistently falls in the corresponding $\mathcal S(\omega)$", the solution
# manifold on which $2\omega\mu \approx \eta_\mathrm{eff}$. This chapter trains the paper's model one
# factor at a time away from that setting and reads every model as the paper reads its own.
#
# A second question is what the learned predictor does on prompts unlike its training prompts. Later work
# finds that trained in-context regressors fail out of distribution (Hill, Eyre & Creager, arXiv
# 2507.09440) and that softmax attention behaves like linear attention on long prompts (Boursier & Boyer,
# arXiv 2512.11784). Since the models here compute debiased GD through two softmax kernels, the book's
# theory says which shifts they should take in their stride and which should make them leave debiased GD;
# the second half tests it on the trained models of {doc}`02_observations`.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda
heads = None  # head counts of every configuration (None: 2, 4)
seeds = None  # training seeds per configuration (None: 0, 1 at quick; 0, 1, 2 at paper)
factors = None  # configurations trained beside the reference (None: all thirteen; ids in the budget module)
probe_steps = None  # steps of the learning-rate probe (None: 5000, the rule's)
ood_scales = None  # covariate scales s of the out-of-distribution prompts (None: 0.5, 2, 4)
ood_noises = None  # test label-noise variances (None: 0.5, 1)
ood_length_factors = None  # test lengths as multiples k of the training L (None: 1, 2, 5, 10)
seed = None  # base seed of every Monte Carlo draw (None: 0)

# %% tags=["remove-cell"]
from IPython.display import display

from icl.book.chapter import start
from icl.chapters import ch12_robustness as rb

ch = start(
    "12_robustness",
    profile,
    device,
    heads=heads,
    seeds=seeds,
    factors=factors,
    probe_steps=probe_steps,
    ood_scales=ood_scales,
    ood_noises=ood_noises,
    ood_length_factors=ood_length_factors,
    seed=seed,
)
ch.show_budget()

# %% [markdown]
# ## The grid
#
# Every configuration changes one thing of the paper's setting ($d = 5$, $L = 40$, $\sigma^2 = 0.1$,
# $\beta \sim N(0, I_d/d)$, Adam $10^{-3}$, batch 256, PyTorch's default initialisation), and is trained at
# $H \in \{$ {glue:text}`rob-heads` $\}$ with {glue:text}`rob-seeds` seeds for {glue:text}`rob-steps` steps
# ({glue:text}`rob-budget`): {glue:text}`rob-configs` configurations beside the reference, whose models are
# {doc}`02_observations`'s.
#
# - **Optimiser:** SGD with heavy-ball momentum 0.9, AdamW with PyTorch's default decoupled weight decay
#   0.01, and RMSprop (PyTorch's $\alpha = 0.99$), each written into the training engine's own step and tested
#   against `torch.optim` (`tests/core/test_optimisers.py`).
# - **Learning rate:** Adam at $3\cdot10^{-4}$ and $3\cdot10^{-3}$, a decade around the paper's $10^{-3}$.
# - **Batch:** 64 and 1024.
# - **Data:** $d = 3$ and $d = 8$ with $L = 8d$; $\sigma^2 = 0.01$ and $0.5$; a non-Gaussian prior
#   $\beta_i = \pm 1/\sqrt d$, with the Gaussian's covariance $I_d/d$.
# - **Initialisation:** PyTorch's default scaled by 0.1 (every circuit by 0.01; the scale is our choice).
#
# **The other optimisers' rates come from a rule, fixed before training.** Each rate of a short grid gets a
# probe of {glue:text}`rob-probe-steps` steps (seed 0, the paper's task and batch) at every head count; an
# optimiser's rate is the largest whose probe stays finite and ends (mean loss of its last tenth) within
# chapter 01's 2 % of that optimiser's best probe, at every head count: the largest rate that trains as well as
# any. The rule chose {glue:text}`rob-lr-sgd` for SGD, {glue:text}`rob-lr-adamw` for AdamW and
# {glue:text}`rob-lr-rmsprop` for RMSprop; recomputed for this page, it {glue:text}`rob-lr-agrees`.
# Applied to Adam it gives {glue:text}`rob-lr-adam` (the paper uses $10^{-3}$, and $3\cdot10^{-3}$ is one of the
# learning-rate configurations). The rule we wrote first, the largest rate that is merely stable (finite, the
# last tenth below the first), chose {glue:text}`rob-lr-first-sgd`, {glue:text}`rob-lr-first-adamw` and
# {glue:text}`rob-lr-first-rmsprop`: at the grids above, the top of each, where the probes end visibly worse
# ({numref}`rob-probe`). We replaced it after seeing the probes and before training any model.

# %% tags=["hide-input"]
st = rb.Study(ch)
display(st.probes.style.format({"lr": "{:g}", "first": "{:.4f}", "last": "{:.4f}"}).hide(axis="index"))
ch.figure("rob-probe", rb.plot_probe(st))

# %% [markdown]
# ```{glue:figure} rob-probe
# :name: rob-probe
#
# **The learning-rate rule.** For each optimiser, the probe's mean training loss over its last tenth (solid)
# and first tenth (dotted) against the rate, per head count; a cross marks a rate whose probe is not stable (not
# finite, or its last tenth not below its first). The chosen rate, the largest whose last tenth is within 2 % of
# the optimiser's best probe at every head count, is marked above the axes.
# ```
#
# ## What every configuration learns
#
# One row per model: its pattern (sign matching on every live head and zero-sum OV, chapter 01's reading),
# homogeneity ($\max|\omega_h|/\min|\omega_h| - 1$ over the live heads), the mean live
# $|\omega_h|$ and $|\mu_h|$, $\sum_h \omega_h\mu_h$ beside $\eta_\mathrm{eff}(d, L, \sigma^2)$ of its own task,
# and its risk at $L' = L$ (Monte Carlo, ± one standard error) beside debiased GD's exact risk at
# $\eta_\mathrm{eff}$, which depends on $\beta$'s prior only through its covariance and so also holds for the
# $\pm 1/\sqrt d$ prior.

# %% tags=["hide-input"]
display(
    st.models.drop(columns=["id"])
    .style.format("{:.3f}", subset=["sign matching", "zero-sum", "homogeneity", "ω", "μ", "Σωμ", "η_eff"])
    .format("{:.4f}", subset=["risk", "± s.e.", "dGD"])
    .hide(axis="index")
)
ch.figure("rob-grid", rb.plot_grid(st))

# %% [markdown]
# ```{glue:figure} rob-grid
# :name: rob-grid
#
# **Every configuration read as the paper reads its own.** One point per model (colour and marker: head
# count; seeds side by side). Left: the zero-sum ratio $|\sum_h\mu_h|/\sum_h|\mu_h|$, drawn at 1 for a model
# that breaks sign matching. Middle: $\sum_h\omega_h\mu_h$ against $\eta_\mathrm{eff}$ of the configuration's own
# task. Right: the risk at $L' = L$ against debiased GD's exact risk at $\eta_\mathrm{eff}$. Shaded: the accepted
# region of each claim (chapter 01's readings of "≈").
# ```
#
# {glue:text}`rob-pattern-models` models show the pattern; those that do not: {glue:text}`rob-pattern-missing`.
# Relative to $\eta_\mathrm{eff}$ of their task, the seed-mean $\sum_h\omega_h\mu_h$ is
# {glue:text}`rob-rate-reference` for the reference, {glue:text}`rob-rate-sgd` for SGD,
# {glue:text}`rob-rate-adamw` for AdamW, {glue:text}`rob-rate-rmsprop` for RMSprop,
# {glue:text}`rob-rate-batch_64` and {glue:text}`rob-rate-batch_1024` at batch 64 and 1024,
# {glue:text}`rob-rate-d_3` and {glue:text}`rob-rate-d_8` at $d = 3$ and $8$,
# {glue:text}`rob-rate-noise_low` and {glue:text}`rob-rate-noise_high` at $\sigma^2 = 0.01$ and $0.5$,
# {glue:text}`rob-rate-prior_rademacher` under the $\pm1/\sqrt d$ prior and {glue:text}`rob-rate-init_small`
# from the small initialisation. The risks over debiased GD's are, in the same order,
# {glue:text}`rob-risk-reference`, {glue:text}`rob-risk-sgd`, {glue:text}`rob-risk-adamw`,
# {glue:text}`rob-risk-rmsprop`, {glue:text}`rob-risk-batch_64`, {glue:text}`rob-risk-batch_1024`,
# {glue:text}`rob-risk-d_3`, {glue:text}`rob-risk-d_8`, {glue:text}`rob-risk-noise_low`,
# {glue:text}`rob-risk-noise_high`, {glue:text}`rob-risk-prior_rademacher` and {glue:text}`rob-risk-init_small`.
#
# ## Section 4.1: $\omega$ moves, $2\omega\mu$ stays
#
# The approximate loss has a river valley: along the solution manifold $\mathcal S$ it hardly changes, so
# where on it training stops is the optimiser's business, and the paper ties it to the edge of stability.
# Across the training choices alone (optimiser, rate, batch, initialisation: the task, and so
# $\eta_\mathrm{eff}$, fixed) we measure the spread $(\max - \min)/\mathrm{median}$ of the seed-mean $\omega$,
# $\mu$ and $\sum_h\omega_h\mu_h$, beside the largest spread over the seeds of one configuration. Only models
# that show the pattern count: §4.1 speaks of where training stops in the valley, which a model still on the
# loss plateau has not reached. (We set this after the chapter's first execution at the quick budget. Over
# every model of the training choices, with or without the pattern, the spread of $\sum_h\omega_h\mu_h$ with
# two heads is {glue:text}`rob-before-spread-rate-h2` and the farthest model is {glue:text}`rob-before-off-manifold`
# off the manifold; with models that show the pattern, the numbers are those below.)

# %% tags=["hide-input"]
display(st.spreads.style.format("{:.1%}", subset=["across choices", "across seeds (largest)"]).hide(axis="index"))
ch.figure("rob-manifold", rb.plot_manifold(st))

# %% [markdown]
# ```{glue:figure} rob-manifold
# :name: rob-manifold
#
# **$\omega$ moves along the valley, $\sum_h\omega_h\mu_h$ does not** (§4.1). Left: each model of the training
# choices at its mean live $|\omega_h|$ and its $\sum_h\omega_h\mu_h$ (colour: the factor varied; marker: head
# count), with the manifold's rate $\eta(\omega) = 2\omega\mu^\star(\omega)$ and its limit $\eta_\mathrm{eff}$.
# Right: the spreads $(\max - \min)/\mathrm{median}$ across the training choices (solid) and across the seeds
# of one configuration (hatched, the largest); dotted: the claim's bound on the spread of $\sum_h\omega_h\mu_h$.
# ```
#
# With two heads the spread of $\omega$ across the choices is {glue:text}`rob-spread-omega-h2` against
# {glue:text}`rob-seed-spread-omega-h2` across seeds, that of $\sum_h\omega_h\mu_h$
# {glue:text}`rob-spread-rate-h2` (across seeds {glue:text}`rob-seed-spread-rate-h2`); with four heads
# {glue:text}`rob-spread-omega-h4`, {glue:text}`rob-seed-spread-omega-h4`, {glue:text}`rob-spread-rate-h4` and
# {glue:text}`rob-seed-spread-rate-h4`.
#
# ## Out of distribution
#
# The reference models ({doc}`02_observations`'s, trained on $x \sim N(0, I)$, $\beta \sim N(0, I/d)$,
# $\sigma^2 = 0.1$, $L = 40$) meet prompts with one thing changed: covariates scaled by $s$ (context and query),
# label noise above $\sigma^2$, a prior with a mean ($\beta \sim N(m, I/d)$, $\lVert m\rVert = 1$) or
# anisotropic ($\mathrm{diag}(\lambda)/d$, same trace), a query orthogonal to the span of a short context
# ($L' = 3 < d$), and contexts up to ten times longer. Each model is compared, on the same prompts, with
# debiased GD at its own rate $\eta = \sum_h\omega_h\mu_h$ (Monte Carlo, and exactly by
# `icl.core.shift.dgd_shift_risk`), with the kernel regressor (3.2) of its own $(\omega_h, \mu_h)$, and with
# ridge ($\lambda = d\sigma^2$, Bayes in distribution).
#
# **What the theory predicts.** Debiased GD is linear in $y$, and for isotropic $x$ its risk depends on the
# prior only through $\mathbb E\lVert\beta\rVert^2$: an anisotropic prior of the same trace leaves it unchanged,
# a mean adds $\lVert m\rVert^2$ to the signal, more label noise adds to the variance. The model's softmax
# kernels are linear in $y$ too, so these shifts should leave it on debiased GD. A query orthogonal to the
# context makes every logit $\omega_h x_l^\top x_q$ vanish: every softmax weight is $1/L'$, the model predicts
# $(\sum_h\mu_h)\bar y$, and with zero-sum OV that is debiased GD's exact $0$. Scaling the covariates by $s$
# multiplies the logits by $s^2$: at $s = 2, 4$ the kernels leave their linear regime ($\omega s^2\lVert x\rVert^2$
# is no longer small), and the model should leave debiased GD — which itself overshoots by $\eta s^2$ — with the
# kernel regressor. On long prompts, for Gaussian $x$, $\mathbb E[e^{\omega x^\top x_q}x]/\mathbb E[e^{\omega
# x^\top x_q}] = \omega x_q$ exactly, so as $L' \to \infty$ each kernel tends to $\omega_h\beta^\top x_q$ and the
# model to the linear $(\sum_h\omega_h\mu_h)\beta^\top x_q$, debiased GD's own limit: Boursier and Boyer's
# "softmax behaves like linear attention" for this model, whatever $\omega$.

# %% tags=["hide-input"]
cols = ["label", "H", "seed", "model", "± s.e.", "kernel (3.2)", "dGD (MC)", "dGD (exact)", "ridge", "model / dGD"]
display(st.ood.table[cols].style.format("{:.3f}", subset=cols[3:]).hide(axis="index"))
ch.figure("rob-ood", rb.plot_ood(st))

# %% [markdown]
# ```{glue:figure} rob-ood
# :name: rob-ood
#
# **The reference models off distribution.** Left: risk against the covariate scale $s$ (one line per model;
# colour and marker: head count) with, drawn above, debiased GD at the first model's own rate (exact), the
# kernel regressor (3.2) of its own $(\omega_h, \mu_h)$ and ridge. Middle: each model's risk over debiased GD's
# on the same prompts for every shift; shaded: chapter 02's ±10 % reading of "tracks". Right: risk against the
# test length $L'$ up to $10L$, with debiased GD (exact) and the $L' \to \infty$ limit $(1-\eta)^2 + \sigma^2$.
# ```
#
# Over debiased GD at its own rate, the model's risk is {glue:text}`rob-ood-x_scale_0_5-ratio` at $s = 0.5$,
# {glue:text}`rob-ood-x_scale_2-ratio` at $s = 2$ and {glue:text}`rob-ood-x_scale_4-ratio` at $s = 4$
# (means over models); at $s = 4$ its risk is {glue:text}`rob-ood-x_scale_4-model`, the kernel regressor's
# {glue:text}`rob-ood-x_scale_4-kernel`, debiased GD's {glue:text}`rob-ood-x_scale_4-dgd` and ridge's
# {glue:text}`rob-ood-x_scale_4-ridge`: {glue:text}`rob-ood-x_scale_4-vs-ridge` times ridge's, which the scale
# does not disturb. In that sense the model fails off distribution, as Hill, Eyre and Creager find of trained
# in-context regressors, though far less than the debiased GD it computes in distribution. Under label noise
# $\sigma^2 = 0.5$ and $1$ the ratio is
# {glue:text}`rob-ood-noise_0_5-ratio` and {glue:text}`rob-ood-noise_1-ratio`; under the shifted and the
# anisotropic prior {glue:text}`rob-ood-beta_mean-ratio` and {glue:text}`rob-ood-beta_anisotropic-ratio`; with
# the orthogonal query {glue:text}`rob-ood-orthogonal_query-ratio` (in distribution at the same $L' = 3$:
# {glue:text}`rob-ood-short_3-ratio`). At $L' = 10L$ it is {glue:text}`rob-ood-length_10-ratio`, the
# model's risk {glue:text}`rob-ood-length_10-model` against debiased GD's {glue:text}`rob-ood-length_10-dgd`.
#
# ## Claims
#
# Four claims per configuration (the pattern with zero-sum OV, homogeneous KQ, $\sum_h\omega_h\mu_h \approx
# \eta_\mathrm{eff}$ of its own task, the risk against debiased GD's), three per head count for §4.1, and the
# out-of-distribution statements. Targets are the paper's (4.3) and exact risks of ours; every tolerance is
# chapter 01's or chapter 02's reading of "≈" (`icl/book/budgets/ch12_robustness.py`). A failing claim carries
# its classification: the paper's statement does not hold in our runs, a matter of reading, of budget, or of a
# choice of ours. A failing configuration claim is the paper's statement failing in our runs, unless it passes
# in the published paper edition: then, below the authors' budget, it fails for the budget. A failing claim's
# note names the models outside its tolerance, with what each learned and its risk beside debiased GD's. (Before
# the paper edition had this chapter, our rule made a failure below the authors' budget the budget's wherever a
# model of its configuration had not formed the pattern, taken to be still on the loss plateau. The paper
# edition showed that rule too generous: some of those models keep both heads' OV at one sign for all
# 500,000 steps, with the risk that sign gives, far from the plateau's. So the rule now asks the paper edition.)

# %%
ch.glue_numbers(rb.numbers(st))
rb.claims(ch, st)
ch.finish()

# %% tags=["nbval-check-output", "remove-cell"]
print(ch.claims.measured_text())
