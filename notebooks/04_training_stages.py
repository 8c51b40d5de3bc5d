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
# # Two training stages and the solution manifold
#
# Section 4.2 of the paper explains the patterns of trained models by gradient descent on the
# approximate loss (4.1), $\omega \leftarrow \omega - \eta\nabla_\omega\tilde{\mathcal{L}}$,
# $\mu \leftarrow \mu - \eta\nabla_\mu\tilde{\mathcal{L}}$, from a small initialisation. It
# describes two stages:
#
# - **Stage I.** Low-order Taylor terms of the gradient dominate. The *sign-matching* terms align
#   $\mu_h$ with $\omega_h$, the *zero-sum* term $c\,\mathbf 1\mathbf 1^\top\mu$ drives
#   $\sum_h \mu_h \to 0$ (4.2), and the stage ends once
#   $\langle\omega, \mu\rangle \approx 1/(1 + cd) = L/(L + d(1+\sigma^2)) = \eta_\mathrm{eff}$ (4.3).
# - **Stage II.** High-order (odd) terms take over and make $|\omega_h|$ *homogeneous* (4.4); the
#   heads split into positive, negative and dummy ones, and the limit lies on the solution
#   manifold $S(\omega)$ (4.7): $\sum_{h\in+}\mu_h = \mu^*(\omega) = \omega/(2\omega^2 + 2c\sinh(d\omega^2))$
#   (4.6), the negative heads the opposite.
#
# We run exactly this gradient descent for several head counts, detect each pattern from a
# computed criterion, and compare the end points with the manifold. Along the way we check the
# mathematics of the two stages, and find where the story needs a correction.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda (unused: everything here is NumPy)
d = None  # covariate dimension (None: the paper's 5)
L = None  # context length (None: 40)
sigma2 = None  # label-noise variance σ² (None: 0.1)
heads = None  # head counts run with GD on L̃ (None: (2, 4, 6))
runs = None  # random small starts per head count (None: the profile's seeds)
seed = None  # run r of H heads starts from seed + H (None: 0)
pop_starts = None  # starts per head count for the two-head trap (None: the budget's)

# %% tags=["remove-cell"]
from IPython.display import display

from icl.book.chapter import start
from icl.chapters import ch04_training_stages as stages

ch = start(
    "04_training_stages",
    profile,
    device,
    d=d,
    L=L,
    sigma2=sigma2,
    heads=heads,
    runs=runs,
    seed=seed,
    pop_starts=pop_starts,
)
st = stages.Study(ch)
ch.show_budget()

# %% [markdown]
# The paper's learning rate, initial scale and head counts for Figs. 7/8 are lost. The step size,
# {glue:text}`stages-lr`, is the number the authors' own gradient descent on $\tilde{\mathcal{L}}$
# uses in their code (the cells behind their Figs. 21–22 in `plots.ipynb`: step
# {glue:text}`stages-authors-lr`); their loss is $\tilde{\mathcal{L}}/2$, so in our units their
# step is {glue:text}`stages-authors-lr-ours` and ours moves {glue:text}`stages-lr-ratio` times as far
# per step (both below the edge of stability at our end points; see the manifold section). Until issue 27 the step
# was ours, 0.05: the runs then ended at the edge of stability and the end-point claims read the
# phase of an oscillation (details in the manifold section). The rest is ours:
# $\omega_h, \mu_h \sim N(0, s^2)$ i.i.d. with $s =$
# {glue:text}`stages-init`, head counts $H =$ {glue:text}`stages-heads` with
# {glue:text}`stages-runs` random start(s) each, {glue:text}`stages-steps` steps (flow time
# {glue:text}`stages-flow-time`). The pattern criteria are ours too: Stage I ends at the first
# step with $\langle\omega,\mu\rangle \ge$ {glue:text}`stages-opt` of $\eta_\mathrm{eff}$; zero-sum
# means $|\sum_h\mu_h|/\sum_h|\mu_h| \le$ {glue:text}`stages-zs-tol`; homogeneity means a spread
# $(\max - \min)/\max$ of $|\omega_h|$ over non-dummy heads $\le$ {glue:text}`stages-hom-tol` (a
# head is dummy when $|\omega_h\mu_h|$ is below a tenth of the largest); sign matching means
# $\mathrm{sign}\,\omega_h = \mathrm{sign}\,\mu_h$ in every non-dummy head. A pattern is *reached*
# at the first step from which it holds to the end of the run, so a transient does not count.
#
# ## The trajectories

# %% tags=["hide-input"]
ch.figure("stages-trajectories", stages.plot_trajectories(st))

# %% [markdown]
# ```{glue:figure} stages-trajectories
# :name: stages-trajectories
#
# **Gradient descent on $\tilde{\mathcal{L}}$ from a small initialisation, one run per head count**
# (the paper's Figs. 7/8 show the Stage-I dynamics of such runs). Left: the KQ scales $\omega_h$;
# middle: the OV weights $\mu_h$ (heads by their sign at the end: red positive, blue negative);
# right: $\langle\omega,\mu\rangle/\eta_\mathrm{eff}$ and the three pattern measures. Vertical lines,
# named above each panel: end of Stage I (solid), zero-sum OV reached (dashed), homogeneity reached
# (dotted). The paper shows sign matching and zero-sum OV within Stage I and homogeneity after it;
# in ours zero-sum OV is reached at the dashed line, to be compared with the solid one.
# ```
#
# {numref}`stages-trajectories` shows one run per head count; the table gives the GD step at which
# every run reaches each pattern (−1: not by the end).

# %%
display(st.table)

# %% [markdown]
# Of {glue:text}`stages-n-runs` runs, {glue:text}`stages-n-split` end with positive and negative
# heads (the last column; the others are the trap below) and {glue:text}`stages-n-stage1` end
# Stage I at all. Stage I is stated for every small start ("We start from a small initialization
# … the model quickly develops the sign matching and zero-sum OV patterns"), so its claims count
# every start, a start whose Stage I never ends as one without the pattern: sign matching is
# reached by the end of Stage I in {glue:text}`stages-frac-sign-all` of the starts and zero-sum OV
# in {glue:text}`stages-frac-zs-all`. Stage II is stated for "the regime where (4.2) and (4.3) are
# well-established after Stage I", the runs that split: among those, sign matching comes by the end
# of Stage I in {glue:text}`stages-frac-sign`, zero-sum OV in {glue:text}`stages-frac-zs`, and
# homogeneity only after Stage I in {glue:text}`stages-frac-hom-after` (reached at all:
# {glue:text}`stages-frac-hom`; homogeneous before Stage I ends: {glue:text}`stages-early-hom`).
# The paper puts zero-sum OV in Stage I; at the end of Stage I the zero-sum ratio of the runs is
# {glue:text}`stages-zs-s1`, against the criterion's {glue:text}`stages-zs-tol`. The next paragraph
# shows why, from a generic small start, it comes later.
#
# ### Why zero-sum OV comes late
#
# Linearise the gradient flow at small $(\omega, \mu)$: $\dot\omega = 2\mu$,
# $\dot\mu = 2\omega - 2c\,\mathbf 1\mathbf 1^\top\mu$. The sign-matching part grows every head's
# $\omega_h + \mu_h$ like $e^{2t}$; along $\mathbf 1$ the zero-sum term only lowers that rate to
# $\approx 2 - cH$. So in Stage I the total $\sum_h\mu_h$ *grows* almost as fast as the heads
# themselves, and $|\sum_h\mu_h|/\sum_h|\mu_h|$ falls only like $e^{-cHt}$, with $c = (1+\sigma^2)/L$
# small ({glue:text}`stages-c` here). Once (4.3) holds the sign-matching force balances
# ($2(1 - \langle\omega,\mu\rangle) = 2cd\langle\omega,\mu\rangle$) and what is left along
# $\mathbf 1$ is $\frac{d}{dt}\sum_h\mu_h \approx -2cH\sum_h\mu_h$: zero-sum OV is reached on the
# time scale $1/(2cH)$, after Stage I (ours). We measure the decay rate of $|\sum_h\mu_h|$ (in flow
# time) between the end of Stage I and the zero-sum time, for every run that has both:

# %%
display(st.rates)

# %% [markdown]
# Over these {glue:text}`stages-n-rates` runs the measured rate is {glue:text}`stages-rate-lo` to
# {glue:text}`stages-rate-hi` times $2cH$, the prediction of the zero-sum term alone (the rest
# comes from the higher-order terms, no longer negligible by then), while the sign-matching rate,
# 2, is {glue:text}`stages-rate-factor` times $2cH$ or more. Zero-sum OV therefore does emerge
# from the term the paper names, but on its own slow clock: with a symmetric start
# ($\sum_h\mu_h = 0$, as in App. B) it holds from the beginning; from a generic small start it is
# a pattern of the transition between the stages.
#
# ### A trap for two heads: the single-head minimum
#
# The same slowness has a sharper consequence. In the linearised Stage I each head's
# $\omega_h + \mu_h$ grows from its initial value and $\omega_h - \mu_h$ decays, so after Stage I
# $\mathrm{sign}\,\omega_h = \mathrm{sign}(\omega_h(0) + \mu_h(0))$. If all heads start with the same
# sign, one of them has to flip, and only the weak zero-sum force pushes it to. We ran
# {glue:text}`stages-pop-starts` small random starts per head count for
# {glue:text}`stages-pop-steps` steps and classify where they end:

# %% tags=["hide-input"]
display(st.trap.table)
ch.figure("stages-trap", stages.plot_trap(st))

# %% [markdown]
# ```{glue:figure} stages-trap
# :name: stages-trap
#
# **A two-head run that never splits** (ours; the paper does not show one). Gradient descent on
# $\tilde{\mathcal{L}}$ from a small start whose two heads have one sign of $\omega_h + \mu_h$. Left:
# $\omega_h$ against $\pm 1/\sqrt d$, the single-head optimum (4.12); right: $\mu_h$, which never
# cancel. Both heads end with one sign (one colour; head 2 dashed).
# ```
#
# With two heads {glue:text}`stages-trap-frac` of the small random starts end with both heads of
# one sign, and whether they do is largely decided at initialisation: a one-signed start
# ($\omega_h + \mu_h$) and a one-signed end agree in {glue:text}`stages-trap-agree` of the starts,
# as the linearised Stage I predicts ({numref}`stages-trap`). With more heads a trap needs every
# head to start with the same sign (a fraction $2^{1-H}$ of starts), and it becomes rare. Two-head
# runs that stay one-signed head for $\omega_1 = \omega_2 = \pm 1/\sqrt d = \pm$
# {glue:text}`stages-trap-omega` (the {glue:text}`stages-trap-n` one-signed ends have $|\omega_h|$
# within {glue:text}`stages-trap-gap` of it),
# where two equal heads are one head: $\tilde{\mathcal{L}}$ depends on $\mu_1 + \mu_2$ only and
# equals the *single-head* optimum (4.12), {glue:text}`stages-trap-loss`, against the floor
# {glue:text}`stages-floor` that split heads approach. The Hessian of $\tilde{\mathcal{L}}$ at that
# point has eigenvalues {glue:text}`stages-trap-eig`: {glue:text}`stages-trap-verdict`. So the
# two-stage story of §4.2 describes the runs that split; for $H = 2$ from a generic small start it
# is one of two outcomes. (The trained transformers of {doc}`01_setup` split; App. B avoids the
# trap by starting from the symmetric point $\omega_1 = -\omega_2$, $\mu_1 = -\mu_2$.)
#
# ### Homogeneity comes from the path, not from $\tilde{\mathcal{L}}$ alone
#
# The Stage-II argument shows that, *given sign matching* and (4.3), homogeneous $|\omega_h|$
# minimise the high-order part of the loss. Without the sign constraint this is not so. For fixed
# $\omega$ the best $\mu$ is $(\omega\omega^\top + cE)^{-1}\omega$ and the loss is
# $1 + \sigma^2 - q/(1+q)$ with $q = \omega^\top E^{-1}\omega/c$, the squared norm of the
# minimum-norm interpolant of $a \mapsto a$ through the points $\omega_h$ in the kernel
# $e^{d\,ab}$ (ours). More *distinct* points make this interpolant better, so with four heads at two
# KQ levels, $(a, -a, a/2, -a/2)$, $\tilde{\mathcal{L}}$ can get closer to its floor
# $1 + \sigma^2 - \eta_\mathrm{eff}$ than the homogeneous $(a, -a, a, -a)$ at the same largest scale,
# with opposite signs of $\mu$ on the outer heads (a Richardson-like extrapolation). Restricting
# $\mu$ to matched signs, the optimum instead silences the outer heads (they become dummies). The
# excess of $\min_\mu\tilde{\mathcal{L}}$ over its floor at fixed KQ scales:

# %% tags=["hide-input"]
display(st.homogeneity)

# %% [markdown]
# At these $(d, L, \sigma^2)$ the homogeneous points' excess is at least
# {glue:text}`stages-hom-ratio` times the free two-level points'. Gradient descent started at the
# two-level point $\omega =$ {glue:text}`stages-stay-omega` with its best $\mu$ moves $\omega$ by at
# most {glue:text}`stages-stay-moved` in {glue:text}`stages-stay-steps` steps (spread of
# $|\omega_h|$ {glue:text}`stages-stay-spread`, excess loss {glue:text}`stages-stay-excess`): it
# does not homogenise. The runs from a small start never go there: Stage I fixes sign matching
# first, and among sign-matched configurations homogenisation is what lowers the loss. Homogeneity
# is thus a property of the *path* from a small initialisation. (These differences of
# $\tilde{\mathcal{L}}$ are also far smaller than the error of the approximation itself, of order
# $\eta_\mathrm{eff}/L =$ {glue:text}`stages-approx-error`; {doc}`03_loss_approximation`.)
#
# ## After Stage I
#
# "After this condition is met, as we continue the gradient-descent algorithm, the value of
# $\langle\omega,\mu\rangle$ does not change much": in the {glue:text}`stages-n-meet` runs that
# reach (4.3), from the first record where $\langle\omega,\mu\rangle$ is within
# {glue:text}`stages-opt` of $\eta_\mathrm{eff}$ it never falls back below its running maximum by
# more than {glue:text}`stages-fall-back` of $\eta_\mathrm{eff}$ and never exceeds
# $\eta_\mathrm{eff}$ by more than {glue:text}`stages-overshoot`. And "the later stage of the
# training dynamics essentially corresponds to decreasing $\omega$" (§4.3): in
# {glue:text}`stages-n-slide` of the {glue:text}`stages-n-split` runs that split, from the end of
# Stage I and homogeneity on, the scale $\omega$ falls and the positive heads' OV weight rises at
# every record.
#
# ## The solution manifold
#
# On $S(\omega)$ the total OV weight of the positive heads is $\mu^*(\omega)$ (4.6), the model
# implements debiased GD with step $\eta(\omega) = 2\omega\mu^*(\omega)$, and
# $\tilde{\mathcal{L}} = 1 + \sigma^2 - \omega^2/(\omega^2 + c\sinh(d\omega^2))$. As $\omega \to 0$,
# $\eta(\omega) \to 1/(1 + cd)$ and $\tilde{\mathcal{L}} \to 1 + \sigma^2 - 1/(1+cd)$ (4.8), the
# river valley of {doc}`03_loss_approximation` (these limits of our closed forms are unit tests,
# `tests/chapters/test_ch04_training_stages.py`). We place the end point of every run on it: its scale $\omega$ is the
# mean $|\omega_h|$ over the non-dummy heads, and its OV weight is $\sum_{h:\,\omega_h > 0}\mu_h$.

# %% tags=["hide-input"]
ch.figure("stages-manifold", stages.plot_manifold(st))
display(st.ends)

# %% [markdown]
# ```{glue:figure} stages-manifold
# :name: stages-manifold
#
# **End points of the runs that split, against the solution manifold $S(\omega)$** (the paper
# describes $S(\omega)$ in (4.6)–(4.8) without a figure; ours), one colour per head count. Top left:
# $\mu^*(\omega)$ (4.6) and the total OV weight of each run's positive heads at its scale $\omega$.
# Top right: the effective step $\eta(\omega) = 2\omega\mu^*(\omega)$, its limit $\eta_\mathrm{eff}$,
# and each run's $\langle\omega,\mu\rangle$. Bottom left: $\tilde{\mathcal{L}}$ on $S(\omega)$ minus
# its limit, and each run's loss. Bottom right: each end point's relative distance from $S(\omega)$
# at its own $\omega$ (circles: OV weight, squares: effective step). The paper says the limit of GD
# lies on $S(\omega)$; the claims below measure how far ours are from it.
# ```
#
# {numref}`stages-manifold` and the table place each run on the valley. Where along the valley a
# run stops is not set by $\tilde{\mathcal{L}}$, which keeps falling as $\omega \to 0$, but by the
# budget and by the step size: the valley gets sharper as $\omega \to 0$, and gradient descent
# with step $\eta$ cannot settle where the largest Hessian eigenvalue $\lambda_\mathrm{max}$ of
# $\tilde{\mathcal{L}}$ exceeds $2/\eta =$ {glue:text}`stages-eos` — the edge of stability that §4.2
# invokes for where trained models stop. At the end of the $H =$ {glue:text}`stages-eos-H` runs
# that split, $\lambda_\mathrm{max} =$ {glue:text}`stages-sharp`: at most
# {glue:text}`stages-eos-ratio` times the edge. A value near one means a run has stopped at the
# edge of stability; a smaller one, that it is still sliding down the valley, in the stable regime
# that the paper's gradient-flow analysis assumes. This is why we use the authors' step: with a
# step five times larger (0.05, this chapter's earlier choice of ours) the runs reach the edge and
# oscillate about the valley, the end point is one phase of that oscillation, and which phase the
# last step catches is set by float rounding, so the end-point claims below passed under one
# CPU's vector kernels and failed under another's. Read at each of the last ten records (from
# step {glue:text}`stages-recent-from` on) instead of the last, the largest OV deviation from
# $\mu^*(\omega)$ ranges from {glue:text}`stages-recent-ov` and
# $|\langle\omega,\mu\rangle/\eta_\mathrm{eff} - 1|$ from {glue:text}`stages-recent-inner`; a
# narrow range says the end points have settled. As a further check (ours; the paper has none) we
# continue every end point with the step {glue:text}`stages-settle-lr` for
# {glue:text}`stages-settle-steps` more steps: the largest deviations become
# {glue:text}`stages-settled-ov` in the OV weight, {glue:text}`stages-settled-loss` in
# $\tilde{\mathcal{L}}$ and {glue:text}`stages-settled-inner` in $\langle\omega,\mu\rangle/\eta_\mathrm{eff}$.
# The claims below judge the end points themselves.
#
# ## Claims
#
# Each tolerance and its origin is in the notes under the table (chosen in
# `icl/book/budgets/ch04_training_stages.py`). The Stage I claims count every small start, as §4.2
# states Stage I; the Stage II and manifold claims count the runs in which Stage I established
# (4.2) and (4.3), as §4.2 states those, and say how many that is; how often a start splits at all
# is the first claim.

# %%
ch.glue_numbers(stages.numbers(st))
stages.claims(ch, st)
ch.finish()

# %% tags=["nbval-check-output", "remove-cell"]
print(ch.claims.measured_text())
