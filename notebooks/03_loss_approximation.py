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
# # The approximate loss
#
# The paper's theory (§4) does not work with the transformer's loss directly. Under the pattern
# (3.1), where head $h$ is described by a KQ scale $\omega_h$ and an OV weight $\mu_h$, it replaces
# the population loss by a closed form (Prop. 4.1, App. C.2): with $c = (1+\sigma^2)/L$ and the
# exponential taken entrywise,
#
# $$\tilde{\mathcal{L}}(\omega, \mu) = 1 + \sigma^2 - 2\mu^\top\omega +
# \mu^\top\big(\omega\omega^\top + c\,\exp(d\,\omega\omega^\top)\big)\mu. \tag{4.1}$$
#
# Everything in §4.2 and App. B — the training stages, the solution manifold, the gradient
# flow — is a statement about $\tilde{\mathcal{L}}$. This chapter checks how close it is to the true
# loss: the two landscapes side by side (Fig. 6), how the error depends on $\omega$ and $L$, the
# softmax-norm argument behind the approximation (Fig. 20), and training on one loss against the
# other (Fig. 21).

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda
d = None  # covariate dimension (None: the paper's 5)
L = None  # context length (None: 40)
sigma2 = None  # label-noise variance σ² (None: 0.1)
seed = None  # seed of the Monte Carlo samples and of the Fig. 21 model (None: 0)
error_lengths = None  # prompt lengths of the approximation-error sweep (None: 10, 20, …, 320)
error_omegas = None  # ω of that sweep (None: 0.1, the scale of trained models, and 0.3)
norm_omega = None  # ω of Fig. 20 (None: 0.3)
norm_xi = None  # d/L in Fig. 20's proportional regime (None: 0.2)
heads = None  # heads of the Fig. 21 model (None: 4, the paper's)

# %% tags=["remove-cell"]
import icl  # noqa: F401  (first: pins the kernel set, icl.arithmetic, before numpy loads)

# isort: split
from IPython.display import display

from icl.book.chapter import start
from icl.chapters import ch03_loss_approximation as ls_

ch = start(
    "03_loss_approximation",
    profile,
    device,
    d=d,
    L=L,
    sigma2=sigma2,
    seed=seed,
    error_lengths=error_lengths,
    error_omegas=error_omegas,
    norm_omega=norm_omega,
    norm_xi=norm_xi,
    heads=heads,
)
ch.show_budget()
st = ls_.Study(ch)

# %% [markdown]
# ## Two landscapes of the two-head model
#
# Fig. 6 compares the losses of the structured two-head model with heads $(\omega, \mu)$ and
# $(-\omega, -\mu)$, the configuration that training finds ({doc}`01_setup`). Its prediction is
# $\hat y = \mu\, k_\omega$ with
# $k_\omega = \sum_l y_l\,[\mathrm{softmax}(\omega X x_q)_l - \mathrm{softmax}(-\omega X x_q)_l]$,
# so the true loss $R(\omega, \mu) = \mathbb E(\hat y - y_q)^2$ is a quadratic in $\mu$ whose
# coefficients are moments of $k_\omega$. We estimate these by Monte Carlo on
# {glue:text}`loss-n-prompts` prompts, **the same prompts for every $\omega$** (common random
# numbers: differences between grid points are far more precise than the standard error of each
# point), integrate the target's own noise out exactly (it adds $\sigma^2$), and evaluate the
# whole $\mu$-grid in closed form, with a standard error for each point. On this family (4.1) reads
# $\tilde{\mathcal{L}} = 1 + \sigma^2 - 4\omega\mu + 4\mu^2(\omega^2 + c\sinh(d\omega^2))$, here with
# $d =$ {glue:text}`loss-d`, $L =$ {glue:text}`loss-L`, $\sigma^2 =$ {glue:text}`loss-sigma2` and
# $c =$ {glue:text}`loss-c`. The paper's axis ranges for Fig. 6 are lost; ours (our choice) are
# $\omega \in [$ {glue:text}`loss-omega-min`, {glue:text}`loss-omega-max` $]$ and
# $\mu \in [0,$ {glue:text}`loss-mu-max` $]$ on a {glue:text}`loss-n-grid`-point grid per axis.

# %% tags=["hide-input"]
ch.figure("loss-landscape", ls_.plot_landscapes(st))
ch.figure("loss-valley", ls_.plot_valley(st))

# %% [markdown]
# ```{glue:figure} loss-landscape
# :name: loss-landscape
#
# **The true and the approximate loss of the two-head model** (the paper's Fig. 6, which shows
# both landscapes with the same river valley). Top left: the true loss $R$ by Monte Carlo; top
# right: $\tilde{\mathcal{L}}$ (4.1), on one colour scale with contours at the labelled values; both
# with the valley of $R$ ($\arg\min_\mu R$, red) and of $\tilde{\mathcal{L}}$ ($\mu^*(\omega)$ of
# (4.6), orange dashed). Bottom: the relative difference $(R - \tilde{\mathcal{L}})/R$, dotted at
# ±10 %. Ours shows the same valley in both.
# ```
#
# Both landscapes in {numref}`loss-landscape` have the same shape: a curved **river valley**
# along which the loss keeps falling as $\omega \to 0$ and $\mu \to \infty$ with $2\omega\mu$ held
# near $\eta_\mathrm{eff} = 1/(1 + cd) =$ {glue:text}`loss-eta-eff`, and walls that rise steeply for
# large $\omega\mu$. For $\omega \le$ {glue:text}`loss-valley-omega-max` (where trained models
# live) the two valleys are at most {glue:text}`loss-valley-gap` apart in $\mu$. The difference
# panel shows where the losses part: the approximation is exact at $\mu = 0$ and its error grows
# with $\mu$ and with $\omega$. {numref}`loss-valley` shows slices at fixed $\omega$ and the loss
# along each valley. On the same prompts, the true valley's loss goes from
# {glue:text}`loss-valley-first` at the smallest $\omega$ to {glue:text}`loss-valley-last` at the
# largest, a rise of {glue:text}`loss-rise` ± {glue:text}`loss-rise-se` (paired standard error,
# z = {glue:text}`loss-rise-z`); it rises on {glue:text}`loss-rises` of the grid steps, and
# {glue:text}`loss-drops` steps fall by more than three paired standard errors. Near
# $\omega = 0$ the valley is nearly flat and single grid steps there are barely resolved, so we
# look closer (our check; the paper's figure cannot show differences this small): on
# {glue:text}`loss-dip-prompts` other prompts, every $\omega$ of the table below paired with
# $\omega_0 =$ {glue:text}`loss-dip-omega0`, the true valley's mean loss is lowest at
# $\omega =$ {glue:text}`loss-dip-omega`, {glue:text}`loss-dip-depth` below its value at
# $\omega_0$, and lies furthest below it, in standard errors, at $\omega =$
# {glue:text}`loss-dip-omega-sig` (z = {glue:text}`loss-dip-z`): {glue:text}`loss-dip-verdict`.

# %% tags=["hide-input"]
floor = st.floor
display(
    floor.table()
    .style.format(
        {"ω": "{:g}", "μ_R(ω)": "{:.3f}", "paired s.e.": "{:.1e}", "z": "{:.1f}", floor.table().columns[2]: "{:+.1e}"}
    )
    .hide(axis="index")
)

# %% [markdown]
#
# ```{glue:figure} loss-valley
# :name: loss-valley
#
# **Slices and valley floors** (ours; the paper's Fig. 6 shows only the landscapes). Top left: $R$
# (solid, band ±2 s.e.) and $\tilde{\mathcal{L}}$ (dashed) against $\mu$ at three fixed $\omega$.
# Top right: the minimum over $\mu$ of each loss against $\omega$, with their exact $\omega \to 0$
# limits (debiased GD black dashed, $1+\sigma^2-\eta_\mathrm{eff}$ grey dashed); bottom left: the
# difference of the two minima (band ±2 s.e.). Both valleys slope towards $\omega \to 0$;
# $\tilde{\mathcal{L}}$ lies below $R$ for small $\omega$ and above it beyond the marked crossing.
# ```
#
# ## The limit $\omega \to 0$
#
# In the limit $\omega \to 0$ along the valley the two-head predictor becomes debiased gradient
# descent with step $\eta = 2\omega\mu$ (Theorem 4.2 (i)), so both limits are exact. For
# $\tilde{\mathcal{L}}$ it is $1+\sigma^2-\eta_\mathrm{eff} =$ {glue:text}`loss-floor`. For the true
# loss it is the risk of debiased GD, which is exact too (ours): with $g = \frac1L X^\top(I - \frac1L 11^\top)y$,
# whose centred Gram matrix is Wishart with $L - 1$ degrees of freedom,
# $R_\mathrm{dGD}(\eta) = 1 + \sigma^2 - 2\eta m_1 + \eta^2 m_2$ with $m_1 = \frac{L-1}{L}$ and
# $m_2 = \frac{(L-1)(L + d(1+\sigma^2))}{L^2}$. Its minimiser $m_1/m_2 = L/(L + d(1+\sigma^2))$ is
# **exactly** $\eta_\mathrm{eff}$, and its minimum $1 + \sigma^2 - \eta_\mathrm{eff}(L-1)/L =$
# {glue:text}`loss-dgd-risk` exceeds $\tilde{\mathcal{L}}$'s floor by exactly
# $\eta_\mathrm{eff}/L =$ {glue:text}`loss-gap-exact` (both identities are unit tests). So $\tilde{\mathcal{L}}$ puts
# the valley in the right place but under-estimates its
# floor by $\eta_\mathrm{eff}/L$, an $O(1/L)$ error. The Monte Carlo agrees: at the smallest $\omega$
# of the grid, on the approximate valley, $R - \tilde{\mathcal{L}} =$ {glue:text}`loss-gap-mc` ±
# {glue:text}`loss-gap-se`, and the true valley's $\mu$ over $\mu^*(\omega)$ is
# {glue:text}`loss-limit-ratio` ± {glue:text}`loss-limit-ratio-se`.
#
# ## The error as $L$ grows
#
# Prop. 4.1 says the error vanishes as $L$ grows when $\omega$ is small (the scaling conditions
# of its formal version, Prop. C.1, are lost in our copy). We measure $R - \tilde{\mathcal{L}}$ at
# the point of the approximate valley, $(\omega, \mu^*_L(\omega))$, for $\omega =$
# {glue:text}`loss-err-omegas` (the first is the scale of trained models), at several prompt
# lengths, each with its own prompts ({numref}`loss-error-vs-L`).

# %% tags=["hide-input"]
ch.figure("loss-error-vs-L", ls_.plot_error_vs_length(st))
display(st.errors.rename(columns=ls_.ERROR_COLUMNS).style.format(precision=4).hide(axis="index"))

# %% [markdown]
# ```{glue:figure} loss-error-vs-L
# :name: loss-error-vs-L
#
# **The approximation error against the prompt length** (ours; the paper states the limit in
# Prop. 4.1 without a figure). $|R - \tilde{\mathcal{L}}|$ at $(\omega, \mu^*_L(\omega))$ with bars of
# ±2 Monte Carlo s.e., and the exact $\omega \to 0$ value $\eta_\mathrm{eff}/L$ (dotted); right: the
# same errors over $\eta_\mathrm{eff}/L$.
# ```
#
# At $\omega =$ {glue:text}`loss-err-omega` the error goes from {glue:text}`loss-err-first`
# ($L =$ {glue:text}`loss-err-L-first`) to {glue:text}`loss-err-last` ($L =$
# {glue:text}`loss-err-L-last`), a log-log slope of {glue:text}`loss-err-slope`; its largest
# distance from the limit value $\eta_\mathrm{eff}/L$ over the grid is
# {glue:text}`loss-err-max-z` standard errors. At this page's $L$ the limit value is
# {glue:text}`loss-gap-exact`, {glue:text}`loss-gap-rel` of the loss itself. That is small for the
# landscape's shape, but it is much larger than the differences of $\tilde{\mathcal{L}}$ that
# decide the fine structure of Stage II ({doc}`04_training_stages`).
#
# ## Why the approximation works: softmax vectors are nearly uniform (Fig. 20)
#
# The proof of Prop. 4.1 needs the attention vector $p = \mathrm{softmax}(\omega X x_q)$ to be
# spread out: $\|p\|_2^2 \approx e^{d\omega^2}/L$ (App. A.4). For a fixed query, the law of large
# numbers gives $L\|p\|^2 \to e^{\omega^2\|x_q\|^2}$ (a unit test), and $\|x_q\|^2 \approx d$, which
# is the paper's $e^{d\omega^2}$. We draw $\|p\|^2$ for growing $L$ (i) at this page's $d$ and
# (ii) in the proportional regime $d =$ {glue:text}`loss-norm-xi`$\,L$, once with a fixed $\omega$ and
# once with $\omega$ scaled so that $d\omega^2 =$ {glue:text}`loss-norm-dw2` stays at its value in
# (i). The paper's values of $\omega$ and of its scaling are lost: $\omega =$
# {glue:text}`loss-norm-omega`, $\xi$ and this scaling are our choices ({numref}`loss-softmax-norms`).

# %% tags=["hide-input"]
ch.figure("loss-softmax-norms", ls_.plot_softmax_norms(st))
display(st.sweep.display_table(st.titles).style.format(precision=3).hide(axis="index"))

# %% [markdown]
# ```{glue:figure} loss-softmax-norms
# :name: loss-softmax-norms
#
# **Softmax-vector norms** (the paper's Fig. 20, which shows $\|p\|^2$ shrinking like
# $e^{d\omega^2}/L$). Histograms of $\|\mathrm{softmax}(\omega X x_q)\|_2^2$ over prompts for growing $L$;
# dashed, in each histogram's colour: $e^{d\omega^2}/L$ (capped at 1). Top: fixed $d$; middle: $d$
# proportional to $L$ at fixed $\omega$; bottom: $d$ proportional to $L$ with $d\omega^2$ fixed. Ours
# shows the paper's shrinking in the top and bottom panels, and its failure in the middle one.
# ```
#
# At fixed $d$ the histograms narrow and follow $e^{d\omega^2}/L$ down as $L$ grows: at
# $L =$ {glue:text}`loss-norm-L-fixed` the median of $\|p\|^2$ over $e^{d\omega^2}/L$ is
# {glue:text}`loss-norm-ratio-fixed`, and over our exact limit $e^{\omega^2\|x_q\|^2}/L$ it is
# {glue:text}`loss-norm-ratio-exact`; the first differs from 1 because the median of
# $\|x_q\|^2 \sim \chi^2_d$ is below $d$. In the proportional regime with a fixed $\omega$ the
# prediction $e^{d\omega^2}/L$ grows exponentially and the attention collapses onto a few keys:
# the median of $\|p\|^2$ at $L =$ {glue:text}`loss-norm-L-prop` is {glue:text}`loss-norm-growth`
# times its value at the smallest $L$. With $d\omega^2$ held fixed it shrinks like $1/L$ again
# (median ratio {glue:text}`loss-norm-ratio-scaled` at the largest $L$). That is why Prop. C.1
# needs its scaling conditions in high dimension.
#
# ## Training on the true loss and on $\tilde{\mathcal{L}}$ (Fig. 21)
#
# Finally the dynamics. We take the {glue:text}`loss-heads`-head model trained on the true loss
# (Adam, batches of fresh prompts, the authors' factorised weights; the same cached run as
# {doc}`02_observations`) and read $(\omega_h, \mu_h)$ off its circuits at every snapshot. From its
# values at step 0 we run {glue:text}`loss-gd-steps` steps of gradient descent on
# $\tilde{\mathcal{L}}$ with step size {glue:text}`loss-gd-lr`, the authors' own for this figure
# (their code: 10⁶ steps at 0.01). It keeps gradient descent in the stable regime that the
# paper's gradient-flow analysis assumes. With our earlier step, 0.05, the run ended at the edge of
# stability, oscillating about the valley, so its last $\sum_h\omega_h\mu_h$ was one phase of an
# oscillation that the rounding of the CPU's vector kernels set, and with it the verdict of this
# section's second claim (the values are in `icl/book/budgets/ch03_loss_approximation.py`). The
# clocks differ (Adam steps against GD steps), so the two runs are shown side by side
# ({numref}`loss-dynamics`).

# %% tags=["hide-input"]
ch.figure("loss-dynamics", ls_.plot_true_vs_approx(st))
display(st.tva.end_table().style.format("{:.4f}"))

# %% [markdown]
# ```{glue:figure} loss-dynamics
# :name: loss-dynamics
#
# **Training on the true loss and on $\tilde{\mathcal{L}}$ from the same start** (the paper's
# Fig. 21, which shows the same stages in both). Left: $\omega_h$ and $\mu_h$ of the full model
# (Adam on the true loss) against its step; right: gradient descent on $\tilde{\mathcal{L}}$ from
# the full model's values at step 0, against its step. Heads are coloured by their sign at the
# full model's end (red positive, blue negative) in both runs. Log-scaled step axes; the clocks differ.
# ```
#
# In the paper both runs go through the same stages: a quick sign alignment with $\mu_h$ and
# $\omega_h$ growing together, a peak of $|\omega_h|$, then a slow decrease of $|\omega_h|$ while
# $|\mu_h|$ keeps growing, ending with the same heads positive and negative. Ours, after
# {glue:text}`loss-adam-steps` Adam steps: the largest $|\omega_h|$ of the full model peaks at
# {glue:text}`loss-peak-full` and ends at {glue:text}`loss-end-full`; on $\tilde{\mathcal{L}}$ it peaks
# at {glue:text}`loss-peak-approx` and ends at {glue:text}`loss-end-approx`. The two runs end with
# {glue:text}`loss-same-signs` signs of $(\omega_h, \mu_h)$, at $\sum_h \omega_h\mu_h =$
# {glue:text}`loss-rate-full` (full) and {glue:text}`loss-rate-approx` (on $\tilde{\mathcal{L}}$)
# against $\eta_\mathrm{eff} =$ {glue:text}`loss-eta-eff`, with $|\sum_h \mu_h| / \sum_h |\mu_h| =$
# {glue:text}`loss-zero-sum-full` and {glue:text}`loss-zero-sum-approx`. The paper expects the full
# model to be the less regular of the two (App. A.4: the finite batch and the weights outside the
# pattern (3.1) make its $|\omega_h|$ less homogeneous); {numref}`loss-dynamics` shows how far
# that holds here. Where each run stops along the river valley depends on the optimiser and its
# clock, not on the loss.
#
# ## Claims
#
# Each target's and tolerance's origin is in the notes under the table (tolerances chosen in
# `icl/book/budgets/ch03_loss_approximation.py`). The claims about the landscape need no trained
# model and their tolerances are multiples of their own Monte Carlo standard errors, so they are
# judged under every profile; the others need the book's budget. That $\|p\|^2$ follows
# $e^{d\omega^2}/L$ at fixed $d\omega^2$ is the law of large numbers, checked by a unit test
# rather than claimed.

# %%
ch.glue_numbers(ls_.numbers(st))
ls_.claims(ch, st)
ch.finish()

# %% tags=["nbval-check-output", "remove-cell"]
print(ch.claims.measured_text())
