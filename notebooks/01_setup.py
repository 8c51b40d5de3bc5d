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
# # The task, the model, and a first trained model
#
# This chapter sets up everything the others use: the in-context regression task (paper §2),
# the one-layer multi-head softmax attention model in the authors' parametrisation, the
# KQ/OV circuits through which the paper reads it, and a first trained model.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda
d = None  # covariate dimension (None: the paper's 5)
L = None  # context length at training (None: 40)
sigma2 = None  # label-noise variance σ² (None: 0.1)
heads = None  # heads of the trained model (None: 2, the paper's Fig. 1)
seed = None  # its seed (None: 0)

# %% tags=["remove-cell"]
import icl  # noqa: F401  (first: pins the kernel set, icl.arithmetic, before numpy and torch load)

# isort: split
from IPython.display import display

from icl.book.chapter import start
from icl.chapters import ch01_setup as setup

ch = start("01_setup", profile, device, d=d, L=L, sigma2=sigma2, heads=heads, seed=seed)
ch.show_budget()
st = setup.Study(ch)

# %% [markdown]
# ## The task
#
# A prompt holds $L$ examples $(x_l, y_l)$ and a query $x_q$, with $x_l, x_q \sim N(0, I_d)$,
# a task vector $\beta \sim N(0, I_d/d)$ drawn afresh for every prompt, and
# $y_l = \beta^\top x_l + \varepsilon_l$, $\varepsilon_l \sim N(0, \sigma^2)$. The target
# $y_q = \beta^\top x_q + \varepsilon_q$ is noisy too, so no predictor has risk below
# $\sigma^2$. The tokens are $z_l = (x_l, y_l) \in \mathbb R^{d+1}$ and $z_q = (x_q, 0)$. This
# page uses $d =$ {glue:text}`setup-d`, $L =$ {glue:text}`setup-L` and
# $\sigma^2 =$ {glue:text}`setup-sigma2` (the paper's values unless the page was rerun with
# others). The first tokens of one prompt:

# %%
display(st.prompt.token_table(shown=ch.budget.shown_examples).round(3))

# %% [markdown]
# ## The model and its circuits
#
# One attention layer with $H$ heads, a residual connection and a causal mask (the query
# attends to the $L$ examples before it, not to itself). Head $h$ has matrices
# $Q_h, K_h, V_h, O_h \in \mathbb R^{(d+1)\times(d+1)}$, initialised like `nn.Linear`; the
# logit scale is $1/\sqrt{d+1}$. Since the query's label slot is zero, the prediction is
#
# $$\hat y = \sum_{h=1}^H u_h^\top Z_{1:L}\,\mathrm{softmax}\big(Z_{1:L}^\top W_h z_q\big),
# \qquad W_h = \tfrac{1}{\sqrt{d+1}} K_h^\top Q_h \ (\text{KQ}),\quad u_h = \text{last row of } O_h V_h \ (\text{OV}).$$
#
# Rows of $W_h$ index key coordinates and columns query coordinates. The paper's
# Observation 1 is that training finds $W_h = \begin{pmatrix}\omega_h I_d & *\\ 0 & *\end{pmatrix}$
# and $u_h = (0_d, \mu_h)$, in which case the model is a **sum of kernel regressors**
#
# $$\hat y = \sum_h \mu_h \sum_l y_l\, \frac{\exp(\omega_h x_l^\top x_q)}{\sum_{l'} \exp(\omega_h x_{l'}^\top x_q)}.
# \tag{3.2}$$
#
# Two facts this book relies on are unit tests rather than claims, since they are about our
# code, not the paper: a model built with exactly these circuits computes (3.2), and the fast
# query-only forward pass used for training (cost $O(BHLD)$) equals the literal causal-sequence
# computation (cost $O(BHL^2D)$), for every normalisation (`tests/core/test_models.py`).
#
# ## A trained model
#
# Adam (learning rate $10^{-3}$, fresh prompts every step) from PyTorch's default
# initialisation: the authors' setup, with the number of steps and the batch set by the
# profile. The result is cached under a hash of its configuration, so every chapter that needs
# this model again loads it instead of retraining.

# %% tags=["hide-input"]
ch.figure("setup-circuits", setup.plot_model_circuits(st))

# %% [markdown]
# ```{glue:figure} setup-circuits
# :name: setup-circuits
#
# **The circuits of the trained model** (the paper's Fig. 1 shows the same heatmaps for its
# two-head model). Top: each head's KQ circuit (named with its group: + or − by the sign of
# its $\omega_h$, or dummy), rows for every key coordinate ($x_1 \dots x_d$ and the key's label,
# the *key-y row*) against the query's covariates. Bottom: the OV
# circuit's last row. The paper's model has a diagonal KQ block of opposite signs in the two
# heads and an OV row that only reads $y$; ours has the same shape at this budget.
# ```
#
# {numref}`setup-circuits` is read through the numbers of the table below: $\omega_h$ is the
# mean of the diagonal of $W_h$'s covariate block, $\mu_h$ the OV weight on $y$, and the other
# columns measure how far the circuit is from the pattern (3.1).

# %%
display(st.pattern.table().style.format("{:.4f}"))

# %% [markdown]
# With $\omega_1 = -\omega_2 = \omega$ and $\mu_1 = -\mu_2 = \mu$ the model is
# $\mu\,(\mathrm{NW}_\omega - \mathrm{NW}_{-\omega})$, and expanding the softmax to first order
# in $\omega$ gives debiased gradient descent with step $2\omega\mu$:
# $\hat y \approx \frac{2\omega\mu}{L}\sum_l y_l (x_l - \bar x)^\top x_q$. The trained heads
# give $\sum_h \omega_h\mu_h =$ {glue:text}`setup-eta-learned` against the paper's
# $\eta_\mathrm{eff} = L/(L + d(1+\sigma^2)) =$ {glue:text}`setup-eta-eff` (4.3), and
# $\sum_h \mu_h =$ {glue:text}`setup-mu-sum` (zero-sum OV). On fresh prompts the model's
# risk is {glue:text}`setup-risk-model`, debiased GD's at $\eta_\mathrm{eff}$ is
# {glue:text}`setup-risk-dgd` (closed form), and predicting zero costs $1 + \sigma^2$
# ({numref}`setup-training`).

# %% tags=["hide-input"]
ch.figure("setup-training", setup.plot_training(st))

# %% [markdown]
# ```{glue:figure} setup-training
# :name: setup-training
#
# **Training loss against Adam step** (log scale), as mean squared error on the batch.
# The loss falls from $1 + \sigma^2$ to the exact risk of debiased gradient descent at
# $\eta_\mathrm{eff}$, the predictor the paper says the model learns.
# ```
#
# ## Claims
#
# Each tolerance and the reading of "≈" behind it is stated in the notes under the table
# (chosen in `icl/book/budgets/ch01_setup.py`, before looking at the numbers). This page's model is
# one of the next chapter's, which checks the same four statements on every head count and seed;
# there they count on the scorecard, and here they are shown for this one model (on a page rerun
# with other parameters they are this page's own). How the learned predictor compares with
# debiased GD at every test length, for every head count, is the next chapter's subject.

# %%
ch.glue_numbers(setup.numbers(st))
setup.claims(ch, st)
ch.finish()

# %% tags=["nbval-check-output", "remove-cell"]
print(ch.claims.measured_text())
