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
# # The emergent patterns: circuits, kernel scales, risk and dynamics
#
# Section 3 of {cite:t}`he2025incontext` reports four observations about one-layer multi-head
# softmax attention trained on in-context linear regression:
#
# 1. **Pattern** (Obs. 1, Figs 1, 3, 14). Every head's KQ circuit is $W_h \approx
#    \begin{pmatrix}\omega_h I_d & *\\ 0 & *\end{pmatrix}$ and its OV row is
#    $u_h \approx (0_d, \mu_h)$, with **sign matching** $\mathrm{sign}\,\omega_h = \mathrm{sign}\,\mu_h$;
#    some heads may be **dummy** ($\omega_h \approx 0 \approx \mu_h$). The model is then the sum of
#    kernel regressors (3.2).
# 2. **Scales** (Obs. 2). Non-dummy heads share one $|\omega_h| \approx \omega$ (homogeneous KQ
#    scaling) and the OV weights cancel, $\sum_h \mu_h \approx 0$ (zero-sum OV); the heads split
#    into a positive and a negative group.
# 3. **Risk** (Obs. 3, Fig. 4). Every $H \ge 2$ model learns nearly the same predictor, close to
#    debiased GD at $\eta_\mathrm{eff} = L/(L + d(1+\sigma^2))$ and to vanilla GD, clearly better than
#    $H = 1$, within a proportionality factor of the Bayes risk, and every softmax model
#    generalises in length: its risk keeps falling as the test prompt grows beyond the training length.
# 4. **Dynamics** (Obs. 4, Figs 5, 13). The pattern appears early and persists; $|\omega_h|$
#    first rises and then falls, $|\mu_h|$ rises monotonically.
#
# {doc}`01_setup` checks the first three on one two-head model. Here we train every head count
# $H \in$ {glue:text}`obs-heads` from {glue:text}`obs-n-seeds` seed(s) each and check each
# statement over **all** of them, with one number per statement: the worst model's.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda
d = None  # covariate dimension (None: the paper's 5)
L = None  # context length at training (None: 40)
sigma2 = None  # label-noise variance σ² (None: 0.1)
heads = None  # head counts trained (None: 1, 2, 3, 4, 6, 8 as in Figs 4 and 13)
seeds = None  # models per head count, a number n (seeds 0 … n−1) or the seeds (None: the profile's)
lengths = None  # test lengths L' of the risk curves (None: the budget's)

# %% tags=["remove-cell"]
from IPython.display import display

from icl.book.chapter import start
from icl.chapters import ch02_observations as obs

ch = start("02_observations", profile, device, d=d, L=L, sigma2=sigma2, heads=heads, seeds=seeds, lengths=lengths)
ch.show_budget()
st = obs.Study(ch)

# %% [markdown]
# ## Training the models
#
# The authors' setup (Adam, learning rate $10^{-3}$, fresh prompts every step, PyTorch's default
# initialisation) with the profile's number of steps, {glue:text}`obs-steps` per model. The models
# of one head count differ only in their seed and are trained together; every model is cached, and
# the two-head model of seed 0 is the one of {doc}`01_setup`. Training these
# {glue:text}`obs-n-models` models took {glue:text}`obs-train-minutes` minutes when they were
# trained. Their final training losses (mean of the last 1000 steps):

# %% tags=["hide-input"]
losses, minutes = st.training
display(losses.style.format("{:.4f}"))

# %% [markdown]
# ## Observation 1: the KQ and OV circuits (Figs 1, 3, 14)
#
# For each head, the top panel of {numref}`obs-circuits` is the KQ circuit $W_h$ restricted to the
# query's covariates: rows are the key coordinates $x_1, \dots, x_d$ and the key's label $y$ (the
# *key-y row*), columns the query's $x_1, \dots, x_d$ (the query's label slot is 0, so $W_h$'s
# last column never acts). The bottom panel is the OV circuit's last row $u_h$, the only row that
# writes the prediction. One colour scale per circuit type and model, shared by its heads; heads
# are labelled by their group (defined with the tables below).

# %% tags=["hide-input"]
ch.figure("obs-circuits", obs.plot_circuits(st))
ch.figure("obs-circuits-more", obs.plot_circuits_more(st))

# %% [markdown]
# ```{glue:figure} obs-circuits
# :name: obs-circuits
#
# **KQ and OV circuits of trained models with one, two and four heads** (the paper's Fig. 1 shows
# its two-head model, Fig. 3 its one- and four-head models: a diagonal KQ block whose sign is
# matched by the OV weight on $y$, and near-zero entries elsewhere). Ours, at this page's budget,
# one block per model with its own KQ and OV colour scales, each head named with its group (+, −,
# dummy): the same layout; how close each head is to the pattern is measured in the tables below.
# ```
#
# :::{admonition} The other head counts, and a model with a dummy head (click to show)
# :class: dropdown
#
# ```{glue:figure} obs-circuits-more
# :name: obs-circuits-more
#
# **Circuits of the remaining head counts** (the paper's Fig. 14 shows models with more heads,
# some of them dummy), and, for every head count whose model above has no dummy head, the first
# seed that has one. Models with a dummy head (three or more heads): {glue:text}`obs-dummy-models`.
# ```
# :::
#
# ## Observation 2: the extracted $(\omega_h, \mu_h)$
#
# We read $\omega_h$ as the mean of the diagonal of $W_h$'s $d\times d$ block and $\mu_h$ as the
# last entry of $u_h$, and measure how far each head is from the pattern: the spread of that
# diagonal (max − min), its largest off-diagonal entry, the largest entry of the key-y row, and the
# largest entry of $u_h$'s $x$-part. A head is **dummy** when $|\omega_h\mu_h|$ is below a tenth of
# the model's largest (our threshold); the others are **positive** or **negative** by the sign of
# $\omega_h$. The paper groups heads by their KQ scale instead ("depending on the signs of the KQ
# parameters"), a dummy head being one with $\omega_h \approx 0$, which then has "nearly zero KQ and
# OV matrices". Grouped that way ($|\omega_h|$ at most a fifth of the model's largest), the $H \ge 2$
# models have {glue:text}`obs-kq-dummies` dummy heads in {glue:text}`obs-kq-dummy-models` models,
# against {glue:text}`obs-out-dummies` by our rule: the difference are heads at the common KQ scale
# to which their group gives little OV weight. The claim on dummy heads uses the paper's grouping.
# The models of {numref}`obs-circuits`, head by head:

# %% tags=["hide-input"]
ph = st.per_head
display(ph.style.format({c: "{:.3f}" for c in ph.columns if c != "group"}))

# %% [markdown]
# Every model (all seeds): the group sizes, the mean $\omega$ and the summed $\mu$ of each group,
# $\sum_h \mu_h$, the zero-sum ratio $|\sum_h\mu_h| / \sum_h|\mu_h|$, the homogeneity
# $\max|\omega_h|/\min|\omega_h| - 1$ over non-dummy heads, and $\sum_h \omega_h\mu_h$, which by the
# first-order expansion of (3.2) is the step size of the debiased-GD predictor the heads implement,
# against $\eta_\mathrm{eff}$ (4.3). The second table has the worst non-dummy head's pattern errors
# relative to its own $|\omega_h|$ (KQ) or $|\mu_h|$ (OV).

# %% tags=["hide-input"]
for cols in (obs.SCALE_COLUMNS, obs.ERROR_COLUMNS):
    t = st.table[list(cols)].rename(columns=cols)
    display(t.style.format({c: "{:.3f}" for c in t.columns if not c.startswith("#")}, na_rep="—"))

# %% [markdown]
# Over the {glue:text}`obs-n-multi` models with $H \ge 2$, the non-dummy heads have $|\omega_h|$
# between {glue:text}`obs-omega-min` and {glue:text}`obs-omega-max`; the positive groups' $\mu$
# sum to {glue:text}`obs-mu-pos-min` … {glue:text}`obs-mu-pos-max` and the negative groups' to
# {glue:text}`obs-mu-neg-min` … {glue:text}`obs-mu-neg-max`; $\sum_h\omega_h\mu_h$ lies in
# {glue:text}`obs-eta-min` … {glue:text}`obs-eta-max` against $\eta_\mathrm{eff} =$
# {glue:text}`obs-eta-eff`. {glue:text}`obs-n-dummy` of them have dummy heads. The single-head
# models learn $|\omega| =$ {glue:text}`obs-single-omega` and $|\mu| =$ {glue:text}`obs-single-mu`
# (mean over seeds); the approximate loss (4.1) puts the single-head optimum at
# $\omega = 1/\sqrt d =$ {glue:text}`obs-single-opt` (4.12).
#
# The paper reads its Figs 1 and 3 as a two- and a four-head model with the same KQ scale and the
# same OV weight per group, so the same predictor, and with a smaller KQ scale and a larger OV weight
# than the single head. Over every $H \ge 2$ model, the common scale $\omega$ (the mean $|\omega_h|$
# of the non-dummy heads) lies between {glue:text}`obs-model-omega-lo` and
# {glue:text}`obs-model-omega-hi`, and a group's OV weight (the mean of $\sum_{h\in+}\mu_h$ and
# $-\sum_{h\in-}\mu_h$) between {glue:text}`obs-model-mu-lo` and {glue:text}`obs-model-mu-hi`; the
# claims below compare these ranges with each other and with the single head's.
#
# Why the OV $x$-part can stay large in one head (column "OV x/|μ|"): once heads of one group
# share $|\omega_h|$ they compute the same attention weights, so only the **group's summed**
# $x$-part $\sum_{h\in\pm} u_h[1{:}d]$ reaches the prediction; how it is split between the heads of
# one group is a flat direction of the loss that training never corrects. For $H = 2$ each group
# is one head and the two agree. The column "group OV x/|μ|" is that summed part relative to the
# largest $|\mu_h|$ (our refinement of the claim).
#
# ## Observation 3: ICL risk and length generalisation (Fig. 4)
#
# Every trained model, debiased GD at $\eta_\mathrm{eff}$ (4.11), vanilla GD at its optimal rate
# for the training length, $\eta^* = L/(L + d(1+\sigma^2) + 1)$, and the Bayes predictor (ridge with
# $\lambda = d\sigma^2$), evaluated on the **same** fresh prompts at each test length $L'$
# ({glue:text}`obs-curve-prompts` prompts per length; the transformers and both GD rates are fixed
# at their training-length values, the ridge predictor is Bayes-optimal at every $L'$). Because all
# predictors see the same prompts, a ratio of two risks has a much smaller (paired) standard error
# than either risk; we use it to compare the models with debiased GD. As a check of the Monte
# Carlo, the two GD curves differ from their closed forms by at most {glue:text}`obs-mc-dgd` and
# {glue:text}`obs-mc-gd` standard errors.

# %% tags=["hide-input"]
ch.figure("obs-risk", obs.plot_risk(st))

# %% [markdown]
# ```{glue:figure} obs-risk
# :name: obs-risk
#
# **ICL risk against the number of in-context examples $L'$** (the paper's Fig. 4: multi-head
# models share one curve near vanilla and debiased GD, below the single-head model and above
# Bayes; all curves fall as $L'$ grows). Ours, left: the seed-{glue:text}`obs-figure-seed` model
# of every head count (one colour each, ±2 standard errors) with the three baselines drawn over them
# in their reference styles, the training length dotted. Right: each $H \ge 2$ model (and vanilla
# GD) relative to debiased GD on the same prompts, debiased GD itself the dashed zero line (error
# bars left out: the paired errors are far smaller than the separate ones).
# ```
#
# The risks at the training length, with {glue:text}`obs-claim-prompts` common prompts, for every
# model, the baselines and the single-head optimum (4.12) (a kernel regressor at
# $\omega = 1/\sqrt d$ with its best $\mu$). The closed forms give {glue:text}`obs-dgd-exact` for
# debiased GD at $\eta_\mathrm{eff}$ and {glue:text}`obs-gd-exact` for vanilla GD at $\eta^*$;
# whether the two-head model matches the first is {doc}`01_setup`'s claim, and the claims below
# extend it to every head count and every $L'$. Observation 3 names vanilla GD as the predictor the
# models approximate: over the whole $L'$ grid their risk is at most {glue:text}`obs-vs-gd` away from
# vanilla GD's at $\eta^*$ (same prompts; the claim's note says at which $L'$).

# %% tags=["hide-input"]
display(st.at_L.table().style.format("{:.4f}"))

# %% [markdown]
# **The Bayes factor.** The paper says the multi-head models' error is "comparable to the optimal
# Bayes estimator up to a proportionality factor" and explains it by Thm 4.2 (iii), which bounds
# that factor for debiased GD at $\eta_\mathrm{eff}$ in the proportional limit. We do not type a
# bound on the factor: we check that every $H \ge 2$ model's factor (its risk over the Bayes risk,
# same prompts) is no larger than debiased GD's at every $L'$, within three paired standard
# errors. The Bayes risk cancels in that comparison; the claim's note gives both factors.
#
# ## Observation 4: training dynamics (Figs 5, 13)
#
# The circuits are recorded at about 60 log-spaced steps. We say the pattern **holds** at a
# snapshot when sign matching holds in every non-dummy head and the zero-sum ratio is at most
# {glue:text}`obs-zero-sum-tol` (the tolerance of the zero-sum claim), and that it has
# **settled** from the first step after which it holds at every later snapshot: from there on it
# "appears and is preserved". {numref}`obs-dynamics` shows three models.

# %% tags=["hide-input"]
ch.figure("obs-dynamics", obs.plot_dynamics(st))
ch.figure("obs-dynamics-more", obs.plot_dynamics_more(st))

# %% [markdown]
# ```{glue:figure} obs-dynamics
# :name: obs-dynamics
#
# **Effective parameters during training** (the paper's Fig. 5 shows them for its two-head model,
# Fig. 13 for more heads: $|\omega_h|$ rises fast, then slowly falls; $\mu_h$ grows steadily in
# opposite-signed groups). Ours, one row per model: left $\omega_h$, right $\mu_h$ with the group
# sums dashed; heads coloured by their final group (positive red, negative blue, dummy grey); the
# dotted line marks the step from which the pattern has settled.
# ```
#
# :::{admonition} The other head counts (click to show)
# :class: dropdown
#
# ```{glue:figure} obs-dynamics-more
# :name: obs-dynamics-more
#
# **Effective parameters during training for the remaining head counts**, as in
# {numref}`obs-dynamics` (no settling step is marked for $H = 1$, where zero-sum cannot hold).
# ```
# :::
#
# For every $H \ge 2$ model: the first step at which the pattern holds, the step from which it
# stays, and the largest dip of a group's summed $\sum_{h\in\pm}\mu_h$ after that; and per
# non-dummy head the step at which $|\omega_h|$ peaks, how far it has fallen from that peak by the
# end, and the largest dip of $|\mu_h|$ below its running maximum after the settling step
# (relative to its final value; 0 means monotone).

# %% tags=["hide-input"]
per_model, per_head = st.dyn
display(per_model.style.format({"largest group-μ dip": "{:.3f}"}, na_rep="never"))
display(
    per_head.style.format(
        {"peak |ω_h|": "{:.3f}", "final |ω_h|": "{:.3f}", "fall from peak": "{:.2f}", "largest μ dip": "{:.3f}"}
    )
)

# %% [markdown]
# Models whose pattern settles late (after the first {glue:text}`obs-early` of training, our
# reading of "early"): {glue:text}`obs-late-models`. {numref}`obs-dynamics-late` shows the
# latest-settling runs, and the table below what they looked like half-way to settling. A model
# whose non-dummy heads all share one sign computes a single kernel regressor, the single-head
# solution spread over several heads, with $\sum_h\mu_h$ far from 0; to reach the pattern it must
# leave that state and flip a head. When a run does this late, Observation 4's "the pattern
# appears early" holds for the typical seed, not for every one.

# %% tags=["hide-input"]
ch.figure("obs-dynamics-late", obs.plot_dynamics_late(st))
display(st.halfway.style.format({"mean |ω_h|": "{:.3f}", "Σ μ_h": "{:.3f}"}))

# %% [markdown]
# ```{glue:figure} obs-dynamics-late
# :name: obs-dynamics-late
#
# **The latest-settling runs** (the late ones if there are any, else the single latest; the
# paper's Figs 5 and 13 show seeds where the pattern settles early). Panels as in
# {numref}`obs-dynamics`.
# ```
#
# Do the pattern errors of Observation 1 still shrink at the end of training? The worst-head
# relative errors at a few snapshots, median over the $H \ge 2$ models (a falling column means that
# claim is limited by the budget, not settled at a non-zero value):

# %% tags=["hide-input"]
display(st.trend.rename(columns=obs.ERROR_COLUMNS).style.format("{:.3f}"))

# %% [markdown]
# The median hides the worst model. The model with the largest x-block error at the end,
# {glue:text}`obs-worst-kq-model`, has a worst-head error (diagonal spread or off-diagonal entry over
# $|\omega_h|$) of {glue:text}`obs-worst-kq-traj` at the same snapshots, and of
# {glue:text}`obs-worst-kq-peak` at its largest after the first tenth of training:
# {glue:text}`obs-worst-kq-verdict`. Its worst head, head {glue:text}`obs-worst-kq-head`, carries
# {glue:text}`obs-worst-kq-share` of its group's OV weight.

# %% [markdown]
# ## Claims
#
# Each claim is checked over every model it concerns (all seeds), and the measured value is the
# worst one; the tolerances and the reading of the paper's words behind each are chosen in
# `icl/book/budgets/ch02_observations.py` and stated in the notes under the table. A failing claim's
# note gives the worst value per head count, so that one can tell a claim that fails everywhere
# from one that fails only for the largest head counts.
#
# **Budget.** The paper trains every model for 500k steps; this page gives each model
# {glue:text}`obs-steps` (profile {glue:text}`obs-profile`). Claims about the *converged* pattern of
# models with many heads (a clean diagonal, an empty key-y row, homogeneous $|\omega_h|$, the late
# fall of $|\omega_h|$) are the ones that can fail for lack of steps; the table of pattern errors
# against the training step above shows whether they are still shrinking. The `paper` profile is
# the one to judge them.

# %%
ch.glue_numbers(obs.numbers(st))
obs.claims(ch, st)
ch.finish()

# %% tags=["nbval-check-output", "remove-cell"]
print(f"{len(st.models.runs)} models: heads {st.models.heads} × seeds {st.models.seeds}")
print(ch.claims.measured_text())
