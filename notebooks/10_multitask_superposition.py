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
# # Multi-task regression: how heads are shared out, and superposition
#
# Section 5.4 of {cite:t}`he2025incontext` (details in App. A.3) lets the response be a vector: $T$
# tasks read the same covariates, task $t$ only the coordinates in its support $S_t$, and the supports
# overlap. Its experiment has $T = 2$, $S_1 = \{1, 2, 3, 4\}$, $S_2 = \{3, 4, 5, 6\}$, and its claims are
# about what the trained heads do, depending on their number $H$:
#
# - **A global pattern** (5.8): each head's KQ x-block is diagonal, $\mathrm{diag}(\omega_h)$ with
#   $\omega_h \in \mathbb R^d$, and its OV circuit writes the $y$ slots from the $y$ slots only, a
#   $T \times T$ block. The model is a sum of kernel regressors whose weights aggregate vector labels.
# - **Four local patterns** (§5.4 (i)–(iv), Figs 16–19): **I** ($H = 1$) one *weighted* kernel regressor,
#   more weight on the coordinates that more tasks use (here 3 and 4); **II** ($H = 2$) a positive and a
#   negative head with that weighting, one weighted pre-conditioned debiased GD, with a smaller KQ scale
#   than at $H = 1$; **III** ($H \ge 2T$) pairs of heads dedicated to one task each, their $\omega$
#   supported on that task's $S_t$: an independent debiased GD per task restricted to its true support
#   (A.1); **IV** ($T < H < 2T$, here $H = 3$) *superposition*: a head that is a positive head for one
#   task and a negative head for the other (Table 2), with which the model still implements the two
#   restricted debiased GD predictors (A.4). The paper says the $H = 3$ pattern "varies in repeated runs".
#
# We train {glue:text}`mt-nseeds` seeds at every $H \in \{$ {glue:text}`mt-heads` $\}$, read every model's
# circuits, let a classifier (ours, below) decide its mode, and compare per-task risks with the
# predictors the modes stand for.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda
d = None  # covariate dimension (None: the paper's 6)
L = None  # context length at training (None: the paper's 48)
sigma2 = None  # label-noise variance per coordinate of a support (None: 0.1)
convention = None  # the coefficients: "authors" (None: the authors' code) or "paper" (Def. 5.1)
heads = None  # head counts (None: 1, 2, 3, 4, 6)
seeds = None  # training seeds per head count (None: 0, 1, 2)
steps = None  # Adam steps per model (None: the profile's budget)
lengths = None  # test lengths L' of the risk curves (None: 12, 24, 48, 96, 192)
seed = None  # base seed of every Monte Carlo draw (None: 0)

# %% tags=["remove-cell"]
from IPython.display import display

from icl.book.chapter import start
from icl.chapters import ch10_multitask_superposition as mt

ch = start(
    "10_multitask_superposition",
    profile,
    device,
    task_defaults=mt.task_params(d, L, sigma2, convention),
    d=d,
    L=L,
    sigma2=sigma2,
    convention=convention,
    heads=heads,
    seeds=seeds,
    steps=steps,
    lengths=lengths,
    seed=seed,
)
ch.show_budget()

# %% [markdown]
# ## The setting, and where each choice comes from
#
# Definition 5.1 draws one coefficient vector $\beta$ and lets task $t$ read its sub-vector
# $\beta_{S_t}$. The authors' code (`utils/data_utils.py`, `MultiTaskLinearReg`, and the notebook
# `icl_linear_multitask.ipynb` of `XintianPan/ICL_linear`) does something else, and it is what their
# figures were trained on: an independent $\beta_t \sim N(0, I)$ per task on $S_t$ (no $1/\sqrt d$),
# label noise of standard deviation $\sqrt{|S_t|\,\sigma^2}$ with $\sigma^2 = 0.1$, and a *noiseless* query
# target $y^{(t)}_q = \beta_t^\top x_{q,S_t}$. Both are data parameters of this chapter (`convention`);
# this page uses {glue:text}`mt-convention`: prior variance {glue:text}`mt-prior` per coefficient, label-noise
# variance {glue:text}`mt-noise` per task. The rest is the paper's (App. A.3) and the authors' notebook:
# $d =$ {glue:text}`mt-d`, $L =$ {glue:text}`mt-L`, $S_1 = $ {glue:text}`mt-S1`, $S_2 = $ {glue:text}`mt-S2`
# (shared: {glue:text}`mt-shared`), tokens $z = (x, y^{(1)}, y^{(2)})$, query token $(x_q, 0, 0)$, Adam at
# $10^{-3}$, batch 256, PyTorch's default initialisation. The training loss, like the authors'
# `MSELoss`, *averages* the squared errors of the two tasks (and of the prompts); the engine's
# hand-written gradient handles the $T$ outputs (a unit test checks it against autograd at $T = 2$).
# Ours: several seeds per $H$, {glue:text}`mt-steps` steps per model ({glue:text}`mt-budget`). For
# $d \ne 6$ the supports are ours: the first and last coordinates, overlapping in
# $\max(1, \lfloor d/3 \rfloor)$ of them.
#
# ## Reading a multi-task circuit (ours)
#
# Head $h$ has $\omega_h = \mathrm{diag}$ of its KQ x-block (key $\times$ query) and the $2 \times 2$ block
# $M_h$ of its OV circuit (row $t$ writes task $t$, column $s$ reads $y^{(s)}$); $\mu_{h,t} = (M_h)_{tt}$.
# When the other entries vanish, as (5.8) says,
#
# $$
# \hat y_t = \sum_h \sum_s (M_h)_{ts} \sum_l y^{(s)}_l\,
# \mathrm{softmax}_l\Big(\sum_i \omega_{h,i}\, x_{l,i}\, x_{q,i}\Big),
# $$
#
# a sum of *weighted* kernel regressors. For small $\omega$, with $\mathrm{softmax}_l(s) \approx
# \tfrac1L(1 + s_l - \bar s)$ and $\sum_h \mu_{h,t} \approx 0$, it is a debiased GD per task with a diagonal
# pre-conditioner, the form behind (A.1)–(A.4):
#
# $$
# \hat y_t \approx \frac1L \sum_l y^{(t)}_l (x_l - \bar x)^\top \mathrm{diag}(\gamma_t)\, x_q,
# \qquad \gamma_t = \sum_h \mu_{h,t}\, \omega_h .
# $$
#
# **Its exact risk.** With prior variance $v$ per coefficient of $S_t$, $k = |S_t|$, label-noise variance $s^2$,
# query noise $q^2$ and $n = L - 1$ (so $X^\top P X$ is Wishart$(I, n)$, $P$ the centring projection),
#
# $$
# R_t(\gamma) = vk + q^2 - \frac{2n}{L} v \sum_{i \in S_t} \gamma_i
#   + \frac{n}{L^2} \sum_{i=1}^d \gamma_i^2 \big[v\,(k + (n+1)\,\mathbf 1[i \in S_t]) + s^2\big].
# $$
#
# It is minimised by $\gamma_i = 0$ off $S_t$ and $\gamma_i = \eta^\star = Lv/(v(L + k) + s^2)$ on it:
# **debiased GD restricted to the true support, at its optimal rate, is the best predictor of this family**,
# and the reference of modes III and IV ($\eta^\star =$ {glue:text}`mt-eta`, risk {glue:text}`mt-ref-restricted`
# per task here). Modes I and II weight both tasks alike, $\gamma_t \propto \gamma$; the best common
# weighting (equal task scales) is $\gamma_i = Lv N_i / \sum_t [v(k_t + (n+1)\mathbf 1[i \in S_t]) + s_t^2]$,
# $N_i$ the number of tasks that use coordinate $i$: more weight where more tasks look, a ratio
# shared / private of {glue:text}`mt-common-ratio`, and a risk of {glue:text}`mt-ref-common` per task.
# Plain debiased GD on all coordinates at its best rate has risk {glue:text}`mt-ref-full`; ridge on $S_t$
# (each task's Bayes predictor under the authors' independent $\beta_t$), by Monte Carlo,
# {glue:text}`mt-ref-ridge`. Unit tests (`tests/chapters/test_ch10_multitask_superposition.py`) check $R_t$
# against Monte Carlo under
# both conventions, that it is the isotropic chapters' debiased GD risk for one task, both minimisers,
# and the small-$\omega$ limit.
#
# **The modes, decided by a classifier.** A head is a *dummy* when $\max|\omega_h| \max|\mu_h|$ is below a
# tenth of the largest head's (the isotropic chapters' rule). A live head *writes* task $t$ when
# $|\mu_{h,t}|$ exceeds 1/5 of $\max_t|\mu_{h,t}|$; "$\approx 0$" below means at most 1/5 of the head's
# $\max|\omega_h|$ ({doc}`02_observations`' reading of the "≈" of the patterns). Its role is **shared±**
# (writes both tasks with one sign, $\omega_h$ of that sign and not $\approx 0$ on every coordinate),
# **task $t$±** (writes task $t$ only, $\omega_h \approx 0$ off $S_t$, of $\mu$'s sign on $S_t$),
# **super** (writes the tasks with opposite signs, $\omega_h$ of the sign of $\mu_{h,t}$ on task $t$'s private
# coordinates: a positive head for one task and a negative head for the other, §5.4 (iv)), or *mixed*.
# Table 2's head 3 also has $\omega \approx 0$ on the shared coordinates; we measure that apart (its own
# claim) rather than build it into the mode, because a superposed head need not have it: only the sums
# $\gamma_t = \sum_h \mu_{h,t}\omega_h$ enter the predictor, and with three heads many circuits give the same
# $\gamma_t$. A model is in mode
# **IV** if one head is super; **III** if every live head is dedicated and each task has a positive and a
# negative one; **II** if every live head is shared, both signs present; **I** if every live head is
# shared with one sign; *other* otherwise. Unit tests classify constructed circuits of every mode,
# the paper's Table 2 included (as IV).
#
# ## The trained models
#
# Per $H$, how many seeds land in each mode; then each model's mode along its training (at the recorded
# snapshots nearest to 1/8, 1/4, 1/2 and all of its steps); then one row per model: its heads' roles, the KQ
# scale, the mean $|\omega|$ on shared over private coordinates, and how far (5.8)'s zeros are from zero
# (largest entry relative to the head scale).

# %% tags=["hide-input"]
st = mt.Study(ch)
display(mt.mode_table(st))
display(mt.mode_history(st))
display(mt.circuit_table(st).style.format(precision=3).hide(axis="index"))

# %% [markdown]
# The seeds' modes: $H = 1$ {glue:text}`mt-h1-modes`; $H = 2$ {glue:text}`mt-h2-modes`; $H = 3$
# {glue:text}`mt-h3-modes`; $H = 4$ {glue:text}`mt-h4-modes` (all head counts in the table). The
# shared / private $|\omega|$ ratio is {glue:text}`mt-h1-ratio` at $H = 1$ and {glue:text}`mt-h2-ratio` at
# $H = 2$ (means over seeds), against {glue:text}`mt-common-ratio` for the best common weighting at first order
# (ours, above). The KQ scale $\max|\omega|$ is {glue:text}`mt-h1-scale` at $H = 1$ and {glue:text}`mt-h2-scale`
# at $H = 2$: the paper's "the learned scale is much smaller than that in the previous single-head case" holds,
# the largest two-head scale being {glue:text}`mt-scale-ratio` of the smallest one-head scale (we read "much
# smaller" as at most a half).
#
# **The global pattern (5.8)**, "regardless of the number of heads": in every live head of every model at the
# paper's head counts ($H \le 4$), the KQ x-block's off-diagonal, the key-y rows and the OV x-part are at most
# {glue:text}`mt-global-paper` of the head's scale ({glue:text}`mt-global-paper-where`); at our $H = 6$ the worst
# head is at {glue:text}`mt-global-beyond` ({glue:text}`mt-global-beyond-where`), above the 1/5 we read as
# "$\approx 0$". The OV writes of each task sum to zero, as the paper says of its three-head model ("the OV
# parameters sum to a zero vector"): $|\sum_h \mu_{h,t}| / \sum_h |\mu_{h,t}|$ is at most
# {glue:text}`mt-zero-sum` over the tasks of every model with $H \ge 2$.
#
# **What the heads compute, whatever their roles.** The first-order pre-conditioners
# $\gamma_t = \sum_h \mu_{h,t}\omega_h$ can be compared with debiased GD on $S_t$, $\eta^\star \mathbf 1_{S_t}$,
# entry by entry: the largest $|\gamma_t - \eta^\star\mathbf 1_{S_t}|$ over the seeds and both tasks, relative
# to $\eta^\star$, is {glue:text}`mt-h3-gamma-dev` at $H = 3$ and {glue:text}`mt-h4-gamma-dev` at $H = 4$, against
# {glue:text}`mt-h2-gamma-dev` at $H = 2$ and {glue:text}`mt-h1-gamma-dev` at $H = 1$ (where $\omega$ is large and
# the expansion is rough). At $H = 2$ the right reference is the best *common* weighting, $\gamma_i =$
# {glue:text}`mt-common-private` on private and {glue:text}`mt-common-shared` on shared coordinates (ours,
# above), the best debiased GD that weights all tasks alike; the two-head models are within
# {glue:text}`mt-h2-common-dev` of it (same measure). The superposed heads at $H = 3$ have $\max|\omega|$ on the
# shared coordinates at {glue:text}`mt-super-shared` of their largest $|\omega|$ (Table 2's head 3:
# {glue:text}`mt-table2-shared`; our classifier puts Table 2's model in mode {glue:text}`mt-table2-mode`).
#
# Figures 16–19 of the paper draw one model per $H$; we draw, for each $H$, the first seed whose mode is
# the one the paper reports there (the budget's figure seed if none is).

# %% tags=["hide-input"]
for H in (1, 2, 4, 3):
    if any(h == H for h, _ in st.models):
        ch.figure(f"mt-circuits-h{H}", mt.plot_model(st, H, mt.figure_seed(st, H)))

# %% [markdown]
# ```{glue:figure} mt-circuits-h1
# :name: mt-circuits-h1
#
# **One head** (the paper's Fig. 16: a single weighted kernel regressor, its diagonal larger on the shared
# coordinates 3–4). Ours: the KQ circuit (rows: key coordinate, columns: query x-coordinate) and the OV rows
# that write $y^{(1)}, y^{(2)}$; the title gives the classifier's mode, each head's title its role.
# ```
#
# ```{glue:figure} mt-circuits-h2
# :name: mt-circuits-h2
#
# **Two heads** (the paper's Fig. 17: a positive and a negative head, the same weighting as one head, a
# smaller KQ scale). Ours: the same panels for the first $H = 2$ seed in mode II (the figure seed if none).
# ```
#
# ```{glue:figure} mt-circuits-h4
# :name: mt-circuits-h4
#
# **Four heads** (the paper's Fig. 18: heads 1–2 a ± pair on $S_1$ writing task 1 only, heads 3–4 the same
# for task 2). Ours: the first $H = 4$ seed in mode III (the figure seed if none).
# ```
#
# ```{glue:figure} mt-circuits-h3
# :name: mt-circuits-h3
#
# **Three heads** (the paper's Fig. 19 and Table 2: head 3 negative for task 1, positive for task 2, its
# $\omega$ negative on coordinates 1–2, positive on 5–6, near zero on 3–4). Ours: the first $H = 3$ seed the
# classifier puts in mode IV (the figure seed if none).
# ```
#
# {numref}`mt-circuits-h1`, {numref}`mt-circuits-h2`, {numref}`mt-circuits-h4` and {numref}`mt-circuits-h3`
# are the four modes in the paper's order; the heads' roles in their titles are the classifier's.

# %% tags=["hide-input"]
ch.figure("mt-modes", mt.plot_modes(st))

# %% [markdown]
# ```{glue:figure} mt-modes
# :name: mt-modes
#
# **Every model at a glance** (ours; the paper draws one model per $H$). Rows: $H$; columns: seeds. In each
# panel one row per head: $\omega_h$ (divided by the model's largest $|\omega|$), then $\mu_{h,1}, \mu_{h,2}$
# (divided by the largest $|\mu|$), on the one colour scale of the colour bar (red positive, blue
# negative); the row label is the head's role, the title the model's mode.
# ```
#
# Table 2 of the paper lists, for its $H = 3$ model, $\omega$ averaged over three groups of coordinates
# and $\mu$ for each task (our copy lost which group is which column; its head 3, "negative on the first
# two entries, positive on the last two, $\approx 0$ in the middle", fixes the order as $S_1 \setminus S_2$,
# $S_2 \setminus S_1$, $S_1 \cap S_2$). The same for every $H = 3$ model here:

# %% tags=["hide-input"]
display(mt.table2(st).style.format(precision=4).hide(axis="index"))

# %% [markdown]
# **Mode IV, head by head.** The paper's (i)–(iv) describe its one three-head model (Fig. 19, Table 2); it
# warns that "the learned pattern varies in repeated runs", so we ask whether (i) and (ii) hold in at least one
# of our seeds. (i) "All the three heads contribute to solving both regression tasks. This can be seen from the
# fact that $\mu_h$ does not have zero entries": in Table 2 the smallest $\min_t |\mu_{h,t}| / \max_t
# |\mu_{h,t}|$ over the heads is {glue:text}`mt-table2-both`; every head writes both tasks (a share above 1/5)
# in {glue:text}`mt-iv-all-both` of our $H = 3$ seeds, the best seed's smallest share being
# {glue:text}`mt-iv-both-best`. The head closest to writing one task only, per seed:
# {glue:text}`mt-iv-one-task` (the other task's $|\mu|$ as a share of the head's largest). (ii) "Head 1 is a
# negative head and Head 2 is a positive head", $\mu$ and $\omega$ of one sign for both tasks: seeds with both
# such heads, {glue:text}`mt-iv-posneg`; seeds with one of them, {glue:text}`mt-iv-one-sign`. Our three heads:
# {glue:text}`mt-iv-roles`. The first-order predictor they build is compared with the paper's, debiased GD on
# each task's support, in the risks below.
#
# ## Risks
#
# Per task, at $L' = L$: each model by Monte Carlo (± one standard error); its two readings, the weighted
# kernel sum built from $(\omega_h, M_h)$ alone (Monte Carlo, the same prompts) and its first-order
# pre-conditioned debiased GD with $\gamma_t = \sum_h \mu_{h,t}\omega_h$ (exact); and the references:
# debiased GD on $S_t$ at $\eta^\star$, the best common weighting, plain debiased GD (all exact), ridge on
# $S_t$ (Monte Carlo). The kernel-sum reading is within {glue:text}`mt-kernel-err` of the model's risk in
# every model and task: that much of each model is not in $(\omega_h, M_h)$. The first-order reading is within
# {glue:text}`mt-first-order-err-multi` for every model with $H \ge 2$ and within {glue:text}`mt-first-order-err`
# over all models: it drops the softmax's curvature, which matters where $\omega$ is large, as at $H = 1$.

# %% tags=["hide-input"]
display(mt.risk_table(st).style.format(precision=4).hide(axis="index"))
ch.figure("mt-risk-curves", mt.plot_risk_curves(st))

# %% [markdown]
# ```{glue:figure} mt-risk-curves
# :name: mt-risk-curves
#
# **Per-task ICL risk against the test length** (ours; the paper reports the multi-task modes by their
# circuits and argues their risk from (A.1)–(A.4)). For every $H$, the mean over seeds of the Monte Carlo
# risk, with ±2 standard errors of that mean over seeds; the exact risks of debiased GD on $S_t$ at its
# optimal rate, of the best common weighting and of plain debiased GD, at each $L'$ (the training
# length marked). Top: the risks; bottom: each relative to debiased GD on $S_t$. Test lengths
# $L' \in \{$ {glue:text}`mt-lengths` $\}$.
# ```
#
# At $L' = L$ the mean risk on task 1 is {glue:text}`mt-h1-risk1` at $H = 1$ and {glue:text}`mt-h3-risk1` at
# $H = 3$ (task 2: {glue:text}`mt-h1-risk2`, {glue:text}`mt-h3-risk2`), against {glue:text}`mt-ref-restricted`
# for debiased GD on the true support ({numref}`mt-risk-curves`). Superposition was found in
# {glue:text}`mt-n-super` model(s): {glue:text}`mt-super-where`.
#
# ## Claims
#
# Targets are the paper's words or computed (ours: the exact risk of debiased GD on $S_t$ above, checked
# against Monte Carlo in the unit tests); tolerances are {doc}`01_setup`'s and {doc}`02_observations`'
# readings of "≈", or strict comparisons after a Monte Carlo margin
# (`icl/book/budgets/ch10_multitask_superposition.py`; "much smaller" is ours, at most a half). A model's risk
# is compared with the exact risk of debiased GD on $S_t$ through that predictor's errors on the same prompts
# (the exact risk plus the paired difference, with the paired difference's standard error), so that the
# prompts' draw cancels. Where a claim fails, its note says why and its classification says whether the
# paper's statement does not hold in our runs, or fails for our reading or our budget.

# %%
ch.glue_numbers(mt.numbers(st))
mt.claims(ch, st)
ch.finish()

# %% tags=["nbval-check-output", "remove-cell"]
print(ch.claims.measured_text())
print(mt.mode_table(st).to_string())
