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
# # How linear attention learns in context: one drop or many
#
# This book's paper trains *softmax* attention; its §5.1 compares it with linear attention only
# at the end of training. {cite}`zhang2025training` (Zhang, Singh, Latham, Saxe, ICML 2025) study
# how multi-head **linear** attention gets there, and find that the answer depends on how the
# key and query weights are parametrised. With one merged key-query matrix per head the loss sits
# on a plateau and then falls in **one abrupt drop**. With separate key and query matrices it falls
# in **steps, saddle to saddle**, and on the $m$-th plateau the model is doing in-context
# principal component regression (PCR) with the top $m$ components. This chapter rebuilds their
# setting, derives the population gradient flow, trains both ways (the flow, and gradient descent on
# sampled sequences) and checks their claims.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda (unused: everything here is small and runs on the CPU)
# The book's d, L and sigma2 do not apply to this chapter: it has its own setting (x ~ N(0, Λ) in R^D,
# N context pairs, no label noise). They are accepted and ignored so that the book's reruns work.
d = None
L = None
sigma2 = None
N = None  # context pairs per sequence (None: the paper's 31)
seed = None  # seed of Λ's basis, the inits and the sampled sequences (None: 0)
merged_H = None  # heads of the merged model (None: the paper's 8)
sep_H = None  # heads of the separate rank-one model (None: 5; the paper uses 4-5)
stall_H = None  # a separate model with fewer heads than D (None: 2)
sequences = None  # sampled training sequences for gradient descent (None: the profile's)

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from icl.book.chapter import start
from icl.chapters import ch11_linear_attention_dynamics as ld

ch = start(
    "11_linear_attention_dynamics",
    profile,
    device,
    N=N,
    seed=seed,
    merged_H=merged_H,
    sep_H=sep_H,
    stall_H=stall_H,
    sequences=sequences,
)
display(Markdown(ld.budget_markdown(ch)))

# %% [markdown]
# ## The setting and its gradient flow
#
# Their setting: covariates $x_n, x_q \sim N(0, \Lambda)$ in $\mathbb R^D$, a task
# vector $w \sim N(0, I_D)$ per sequence, labels $y_n = w^\top x_n$ without noise, and
# $N =$ {glue:text}`lin-N` context pairs. $\Lambda$ has distinct eigenvalues $\lambda_d \propto D, D-1, \dots, 1$
# with $\operatorname{tr}\Lambda = 1$, in a random orthogonal basis $e_1, \dots, e_D$ (largest first).
# Multi-head linear attention with the $1/N$ normalisation reads the query's prediction off
# $b = \frac1N\sum_n y_n x_n$:
#
# $$\hat y = b^\top \Gamma\, x_q,\qquad
# \Gamma = \sum_{i=1}^H v_i U_i \ \ (\text{merged}),\qquad
# \Gamma = \sum_{i=1}^H v_i K_i Q_i^\top \ \ (\text{separate, } K_i, Q_i \in \mathbb R^{D\times R}),$$
#
# where $U_i$ is head $i$'s merged key-query block and $v_i$ its value weight on $y$; rank one is
# $v_i k_i q_i^\top$. (We keep only these blocks, as the paper's reduced model does; the others are
# decoupled from them by the symmetry $w \to -w$.)
#
# **Population loss (ours).** Given $w$, $\mathbb E[b] = \Lambda w$ and, by Isserlis' theorem,
# $\mathbb E[y_n^2 x_n x_n^\top] = (w^\top\Lambda w)\Lambda + 2\Lambda w w^\top\Lambda$, so
# $\mathbb E[bb^\top] = \Omega = \Lambda^2 + \Lambda(\Lambda + \operatorname{tr}\Lambda\, I)/N$ and
#
# $$\mathcal L(\Gamma) = \mathbb E(\hat y - y_q)^2 = \operatorname{tr}\Lambda - 2\operatorname{tr}(\Gamma\Lambda^2)
# + \operatorname{tr}(\Gamma^\top\Omega\Gamma\Lambda),\qquad
# -\tfrac12\partial_\Gamma\mathcal L = G = \Lambda^2 - \Omega\Gamma\Lambda.$$
#
# The gradient flow $\tau\dot\theta = -\frac12\partial_\theta\mathcal L$ is then
# $\tau\dot U_i = v_i G$, $\tau\dot v_i = \langle U_i, G\rangle$ (merged) and
# $\tau\dot K_i = v_i G Q_i$, $\tau\dot Q_i = v_i G^\top K_i$, $\tau\dot v_i = \operatorname{tr}(K_i^\top G Q_i)$
# (separate); one full-batch gradient-descent step of rate $\eta$ advances it by $\Delta t = 2\eta\tau$.
# The unit tests check the loss against Monte Carlo and these gradients against autograd
# (`tests/chapters/test_ch11_linear_attention_dynamics.py`). Both ways of training are run below from the same small
# initialisation: SciPy's ODE solver on the flow, and full-batch gradient descent on the loss of
# {glue:text}`lin-S` sampled sequences (the paper uses 5000; ours are more, so that the small
# eigen-directions of the sampled loss are close to the population's). Our descent evaluates that
# loss through the sample's exact moments with closed-form gradients, which the tests check against
# autograd on the sequences themselves; a step then costs microseconds whatever the sample size.
#
# **Fixed points.** For separate heads every subset $S$ of eigen-directions gives a fixed point
# $\Gamma_S = \sum_{d\in S}(\lambda_d c_d)^{-1}e_d e_d^\top$ with
# $c_d = 1 + (1 + \operatorname{tr}\Lambda/\lambda_d)/N$; for the top $m$ directions ($M_m$) the loss is
#
# $$\mathcal L(M_m) = \operatorname{tr}\Lambda - \sum_{d\le m}\lambda_d/c_d ,$$
#
# and the predictor $b^\top\Gamma_{M_m}x_q$ is PCR with $m$ components. $M_D$ is the global minimum
# $\Gamma^* = (\Lambda + (\Lambda + \operatorname{tr}\Lambda\,I)/N)^{-1}$ of both parametrisations
# (setting $G = 0$), with loss {glue:text}`lin-converged` here.

# %% tags=["hide-input"]
st = ld.Study(ch)
ch.figure("lin-merged", ld.plot_merged(st))

# %% [markdown]
# ## Merged key-query: one abrupt drop
#
# ```{glue:figure} lin-merged
# :name: lin-merged
#
# **Merged key-query, $D =$ {glue:text}`lin-merged-D`** (the paper's Fig. 1 shows the loss of $H = 8$ merged heads from
# init $10^{-6}$: a long plateau, then one sigmoidal drop). (a) Ours: the population flow (line)
# and gradient descent on sampled sequences (dots, time $t = 2\eta k$ after $k$ steps), with
# $\operatorname{tr}\Lambda$ (dashed), the converged loss $\mathcal L(\Gamma^*)$ (dotted) and the drop our
# detector finds (grey band).
# (b) The flow from the same initial direction scaled to several init scales.
# (c) The half-way time of gradient descent from those inits (same colours) against $\ln(1/\text{init})$,
# with the line of slope $1/\lVert\Lambda^2\rVert_F$ (dotted).
# (d) White covariates $\Lambda = I$ from $\Gamma(0) \propto I$: flow, gradient descent and the
# analytic time course (dotted).
# ```
#
# The paper's claim for the merged model is that the flow has only two kinds of fixed points, the
# unstable $\Gamma = 0$ and the global minima, so from a small initialisation the loss stays at
# $\operatorname{tr}\Lambda =$ {glue:text}`lin-trace` and then drops once. In
# {numref}`lin-merged` (a), with $H =$ {glue:text}`lin-merged-H` heads, our step detector (a drop
# is a run where $-d\mathcal L/d\ln t$ exceeds {glue:text}`lin-threshold` times the curve's mean
# rate, falling by at least {glue:text}`lin-minfrac` of the total) finds
# {glue:text}`lin-merged-ndrops` drop in the gradient-descent run, which ends at
# {glue:text}`lin-merged-final` against $\mathcal L(\Gamma^*) =$ {glue:text}`lin-converged`.
# Two fixed points mean that no small initialisation can come to rest anywhere else: of
# {glue:text}`lin-merged-runs` gradient-descent runs ({glue:text}`lin-duration-seeds` init seeds, each at the
# five init scales of panel (b)), {glue:text}`lin-merged-two-rest` rest only at $\operatorname{tr}\Lambda$ and
# at $\mathcal L(\Gamma^*)$ (a rest is a plateau of the detector; the separate model below rests at
# $D - 1$ further levels).
#
# *Plateau length (ours).* Around $\Gamma = 0$ the flow is linear, $\tau\dot v_i = \langle U_i,\Lambda^2\rangle$,
# $\tau\dot U_i = v_i\Lambda^2$, and grows at the rate $\lVert\Lambda^2\rVert_F/\tau$; $\Gamma$ is
# quadratic in the weights, so it reaches order one after $t \approx \tau\ln(1/\text{init})/\lVert\Lambda^2\rVert_F$.
# The paper states that the escape time is logarithmic in the init; the coefficient is our reconstruction.
# Gradient descent on the sampled sequences from one init direction at the scales of panel (b) reaches the
# half-way loss at times that grow with slope {glue:text}`lin-slope` per unit of $\ln(1/\text{init})$,
# against $1/\lVert\Lambda^2\rVert_F =$ {glue:text}`lin-slope-theory` (the unit tests check the same law on
# the flow, where it is our own linearisation).
#
# *White covariates (ours, re-derived).* For $\Lambda = I$ and every head started at
# $U_i = \epsilon I/\sqrt D$, $v_i = \epsilon$, the flow keeps $\Gamma = s(t)I$ with the logistic
# equation $\tau\dot s = 2\sqrt D\, s(1 - \kappa s)$, $\kappa = 1 + (1 + D)/N$, so
# $\mathcal L(t) = D(1 - 2s + \kappa s^2)$ with $s(t) = s_0e^{2\sqrt D t/\tau}/(1 + \kappa s_0(e^{2\sqrt D t/\tau}-1))$.
# Gradient descent on sampled white sequences stays within {glue:text}`lin-white-dev` of $D$ of it
# ({numref}`lin-merged` (d)).

# %% tags=["hide-input"]
ch.figure("lin-separate", ld.plot_separate(st))

# %% [markdown]
# ## Separate key and query: saddle to saddle, principal components one at a time
#
# ```{glue:figure} lin-separate
# :name: lin-separate
#
# **Separate key and query, rank one, $D =$ {glue:text}`lin-sep-D`** (the paper's Fig. 3 shows the loss of 4–5 such
# heads falling in $D$ steps, and each head's $k_i, q_i$ turning to one eigenvector in turn). Top,
# ours: the flow and gradient descent with $H =$ {glue:text}`lin-sep-H` heads, the plateau lines
# $\mathcal L(M_m)$ (dotted, labelled at the right), and the flow with $H =$ {glue:text}`lin-stall-H`
# heads, on a linear time axis. Bottom: for each head (gradient descent), its part of $\Gamma$'s
# diagonal in the eigenbasis, $v_i(e_d^\top k_i)(e_d^\top q_i)\,\lambda_d c_d$, which is 1 when the head
# alone carries $e_d$, one colour per direction; dotted vertical lines: the drops the detector finds.
# ```
#
# With separate rank-one heads the flow has $2^D$ fixed points $M_S$, and the paper's claim is that
# from a small initialisation training visits $M_0 \to M_1 \to \dots \to M_D$, learning the
# eigen-directions in order of decreasing eigenvalue, each in its own head. In {numref}`lin-separate`
# the detector finds {glue:text}`lin-sep-ndrops` drops. The plateau losses read at the flattest point of
# each plateau are {glue:text}`lin-sep-measured`, against $\mathcal L(M_m) =$ {glue:text}`lin-plateaus`
# ($m = 0, \dots, D$), and the bottom row shows one head turning to $e_1$ at the first drop, another to
# $e_2$ at the second, and so on. On each plateau the model's predictor differs from PCR with $m$
# components by at most {glue:text}`lin-pcr-max` of PCR's mean square (fresh prompts). The run ends at
# {glue:text}`lin-sep-final` against {glue:text}`lin-sep-converged`.
#
# The paper reduces the escape from plateau $m$ to a scalar equation for the new head (with
# $k = q = v\,e_{m+1}$): $\tau\dot v = \lambda_{m+1}^2v^2 - \lambda_{m+1}^3c_{m+1}v^5$, so from a
# small $v_0$ it takes a time of order $\tau/(\lambda_{m+1}^2 v_0)$: later directions take longer,
# but each starts from its own random small component. The plateau durations between drops
# measured on the gradient-descent run are {glue:text}`lin-durations` (in flow time); over
# {glue:text}`lin-duration-seeds` initialisations (the paper's Fig. 3 count; flow) their medians are
# {glue:text}`lin-median-durations`, and {glue:text}`lin-ordered-seeds` runs are ordered on their own.
#
# *The time to learn $e_m$.* Our notes credit the paper with the law that the time to learn $e_m$ grows like
# $\lambda_m^{-2}$; the paper's full text is not in our hands (its abstract and the authors' code do not state
# it), but the law is what its scalar equation gives at small $v$: $v(t) = v_0/(1 - \lambda^2v_0t)$ escapes at
# $t = 1/(\lambda^2 v_0)$. We read it with every direction starting to grow at $t = 0$, so $t_m$ is counted from
# the start (the half-way crossing from $\mathcal L(M_{m-1})$ to $\mathcal L(M_m)$); each direction's random
# $v_0$ moves its $t_m$, the same way for every $m$, so the law is tested by the slope of $\ln t_m$ against
# $\ln\lambda_m$ seed by seed. Over the {glue:text}`lin-law-seeds` seeds the slope is
# {glue:text}`lin-law-slope` ± {glue:text}`lin-law-se` (s.e.), against $-2$; the median times
# {glue:text}`lin-law-times` give $t_m\lambda_m^2 =$ {glue:text}`lin-law-scaled`.
# {numref}`lin-scalar` follows each new head (on the flow) from the moment it holds
# {glue:text}`lin-start-share` of its direction, against the scalar equation started there: the largest
# gaps, over the final value, are {glue:text}`lin-scalar-gaps` for $e_1, \dots, e_D$. The equation assumes
# the head carries its direction alone with $k = q$; where a head also holds part of another direction
# ({numref}`lin-separate`, bottom) the escape is mistimed.
#
# *Initialisation (the authors' code).* The inits are the authors' command-line values mapped to our
# $1/N$ normalisation: their code draws each layer's weights with standard deviation
# $\text{init}/\sqrt{\text{numel}}$, so key and query start larger than the value weight, and their
# sum over tokens where we average multiplies each of $\Gamma$'s factors by $N^{1/p}$ ($p$ factors).
# An earlier version of this chapter used one scale for all factors, several times the authors'; its
# rank-$R$ runs then showed plateaus between the multiples of $R$.

# %% tags=["hide-input"]
ch.figure("lin-scalar", ld.plot_scalar(st))

# %% [markdown]
# ```{glue:figure} lin-scalar
# :name: lin-scalar
#
# **The newly learning head against the scalar equation** (the paper reduces each escape to
# $\tau\dot v = \lambda^2v^2 - \lambda^3c\,v^5$). Ours: for each eigen-direction $e_m$, the head that
# ends up carrying it, its effective scale $(\text{share}\cdot(\lambda_mc_m)^{-1})^{1/3}$ (which is
# $v$ when $k = q = v\,e_m$) on the flow (left, solid), and the scalar equation from the same value
# (dotted). Right: their difference over the equation's final value, the measure of the claim, with
# its tolerance (dashed).
# ```
#
# *Fewer heads than directions (beyond the paper).* Rank-one heads give $\operatorname{rank}\Gamma \le H$,
# so at best $M_H$: the flow with {glue:text}`lin-stall-H` heads ends at {glue:text}`lin-stall-final`
# against $\mathcal L(M_H) =$ {glue:text}`lin-stall-target` ({numref}`lin-separate`, orange). This is our inference
# checked on our own flow, a unit test rather than a claim.

# %% tags=["hide-input"]
ch.figure("lin-ranks", ld.plot_ranks(st))

# %% [markdown]
# ## Heads of higher rank
#
# ```{glue:figure} lin-ranks
# :name: lin-ranks
#
# **Separate heads of rank $R$, $D =$ {glue:text}`lin-ranks-D`, $H =$ {glue:text}`lin-ranks-H`** (the
# paper's Fig. 4: with rank $R$ the visible plateaus are at multiples of $R$). Ours: the population
# flow for each rank, as its loss above the global minimum, $\mathcal L - \mathcal L(M_D)$, on an axis
# logarithmic above half the smallest step and linear below (so that $\mathcal L(M_D)$ is at 0), with the
# plateau lines $\mathcal L(M_m) - \mathcal L(M_D)$, $m = 0, \dots, D$, labelled $M_m$ at the right.
# ```
#
# At $D = 8$ the smallest step, $\mathcal L(M_7) - \mathcal L(M_8)$, is {glue:text}`lin-rank-last-step` of the
# descent, below the detector's {glue:text}`lin-minfrac` floor (chosen so that every step the paper predicts
# at $D = 4$ counts); here the floor is half the smallest step, {glue:text}`lin-rank-floor`. The detector then
# counts these drops per rank: {glue:text}`lin-rank-drops`, and finds plateaus at
# $\mathcal L(M_m)$ (within {glue:text}`lin-loss-rel`) for {glue:text}`lin-rank-plateaus`; the runs end at
# {glue:text}`lin-rank-final` against $\mathcal L(M_D) =$ {glue:text}`lin-ranks-converged`. A rank-$R$
# head's $R$ directions share one value weight $v_i$; once it has grown they escape together, so the loss
# skips the plateaus in between, with one exception: the last direction ($\lambda_8 = 1/36$) grows so slowly
# that in every rank it is learned after the others, a short plateau at $\mathcal L(M_7)$ whose step is too
# small to see on a linear loss axis. With the {glue:text}`lin-minfrac` floor the detector finds
# {glue:text}`lin-rank-plateaus-2pct`. Where plateaus are missing, two escapes overlap.
#
# %% tags=["hide-input"]
ch.figure("lin-softmax", ld.plot_softmax(st))

# %% [markdown]
# ## The softmax versions
#
# ```{glue:figure} lin-softmax
# :name: lin-softmax
#
# **Softmax in place of the linear map** (the paper's Fig. 5 trains the softmax versions of its Figs. 1
# and 3). Ours: the loss on fresh prompts of the softmax version trained by gradient descent (dots),
# and the linear model's flow from the same initialisation (line), on the same time axis; dotted lines
# $\mathcal L(M_m)$. Left: merged, as in {numref}`lin-merged`; right: separate rank one from
# {glue:text}`lin-soft-factor` times the separate init of {numref}`lin-separate`.
# ```
#
# The softmax here attends over the $N$ context tokens and the query (the authors' code), and the
# prediction is $\sum_i v_i\sum_n \operatorname{softmax}_n(s_{i,\cdot})\,y_n$. Near zero,
# $\operatorname{softmax}(s)_n = (1 + s_n - \bar s)/(N+1) + O(s^2)$, so each head is a linear head plus the term
# $v_i\sum_n y_n/(N+1)$, which tells nothing about $y_q$; gradient descent must cancel it, $\sum_i v_i \to 0$.
# That is the main paper's zero-sum value pattern (Obs. 2, {doc}`02_observations`), and the expansion is the
# one behind its eq. (5.2) ({doc}`08_linear_and_activations`). Trained on {glue:text}`lin-soft-S` sequences,
# the merged softmax model falls in {glue:text}`lin-soft-merged-ndrops` drop to {glue:text}`lin-soft-merged-final`,
# the separate one in {glue:text}`lin-soft-separate-ndrops` drops to {glue:text}`lin-soft-separate-final`,
# with plateaus at {glue:text}`lin-soft-plateaus` against the linear model's {glue:text}`lin-soft-targets`;
# their value weights cancel to {glue:text}`lin-soft-merged-zs` and {glue:text}`lin-soft-separate-zs` of
# their mass. Where the claims below pass, one abrupt drop against saddle to saddle is a property of the
# parametrisation, not of the linear map.
#
# ## Claims
#
# Each claim is measured on a trained model (gradient descent on sampled sequences) or on the flow from random
# initialisations, and tested against a statement of the paper, quoted in its note, or our reading of it, said
# so. Checks of our formulas against themselves (the plateau at $\operatorname{tr}\Lambda$ is $\mathcal L(0)$,
# the flow's escape rate, $H < D$ heads stalling at $\mathcal L(M_H)$) are unit tests. Each tolerance and the
# detector's threshold are chosen in `icl/book/budgets/ch11_linear_attention_dynamics.py`.

# %%
ch.glue_numbers(ld.numbers(st))
ld.claims(ch, st)
ch.finish()

# %% tags=["nbval-check-output", "remove-cell"]
print(ch.claims.measured_text())
print(f"plateaus {ch.glued['lin-sep-measured']}; merged final {ch.glued['lin-merged-final']}")
