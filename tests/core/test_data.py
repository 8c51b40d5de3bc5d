import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from icl.core.data import TaskConfig, covariance_matrix, n_normals, prompts_from_normals, sample_prompts


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_shapes_and_labels_follow_the_linear_model():
    task = TaskConfig(sigma2=0.0)
    P = sample_prompts(task, 7, gen(), L=13, dtype=torch.float64)
    assert P.Z.shape == (7, 13, 6) and P.x_q.shape == (7, 5) and P.y_q.shape == (7, 1)
    assert torch.allclose(P.y, P.X @ P.beta, atol=1e-12)  # noise-free: y = Xβ exactly
    assert torch.allclose(P.y_q, torch.einsum("bd,bdt->bt", P.x_q, P.beta), atol=1e-12)


def test_moments():
    task = TaskConfig(d=4, sigma2=0.25)
    P = sample_prompts(task, 20_000, gen(1), L=5, dtype=torch.float64)
    assert abs((P.beta[..., 0] ** 2).sum(-1).mean().item() - 1.0) < 0.03  # E‖β‖² = 1
    resid = P.y - P.X @ P.beta
    assert abs(resid.var().item() - 0.25) < 0.01
    assert abs(P.y_q.var().item() - 1.25) < 0.05  # E y_q² = 1 + σ²


def test_kms_covariance():
    task = TaskConfig(d=4, covariance="kms", rho=0.6)
    P = sample_prompts(task, 20_000, gen(2), L=3, dtype=torch.float64)
    emp = np.cov(P.X.reshape(-1, 4).numpy().T)
    assert np.abs(emp - covariance_matrix(task)).max() < 0.03
    assert covariance_matrix(task)[0, 2] == pytest.approx(0.36)


def test_multitask_supports_shared_and_independent():
    shared = TaskConfig(d=5, supports=((1, 2, 3), (2, 3, 4, 5)), sigma2=0.0)
    P = sample_prompts(shared, 50, gen(3), dtype=torch.float64)
    assert P.y.shape == (50, 40, 2)
    b = P.beta
    assert torch.all(b[:, 3:, 0] == 0) and torch.all(b[:, 0, 1] == 0)
    assert torch.allclose(b[:, 1:3, 0], b[:, 1:3, 1])  # one β restricted to each support
    indep = TaskConfig(d=5, supports=((1, 2, 3), (2, 3, 4, 5)), shared_beta=False)
    b2 = sample_prompts(indep, 50, gen(3), dtype=torch.float64).beta
    assert not torch.allclose(b2[:, 1:3, 0], b2[:, 1:3, 1])


def test_model_axis_equals_separate_draws():
    task = TaskConfig()
    gens = [gen(s) for s in (5, 6)]
    normals = torch.stack([torch.randn(n_normals(task, 8), generator=g) for g in gens])
    P = prompts_from_normals(task, normals, 8)
    for m, s in enumerate((5, 6)):
        Q = sample_prompts(task, 8, gen(s))
        assert torch.equal(P.Z[m], Q.Z) and torch.equal(P.y_q[m], Q.y_q)


def test_same_seed_same_prompts():
    a, b = sample_prompts(TaskConfig(), 4, gen(9)), sample_prompts(TaskConfig(), 4, gen(9))
    assert torch.equal(a.Z, b.Z)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"d": 0}, "d"),
        ({"L": -1}, "L"),
        ({"sigma2": -0.1}, "sigma2"),
        ({"covariance": "toeplitz"}, "covariance"),
        ({"rho": 1.0}, "rho"),
        ({"supports": ((0, 1),)}, "supports"),
        ({"supports": ((1, 1),)}, "supports"),
    ],
)
def test_bad_task_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TaskConfig(**kwargs)


def test_bad_sampler_arguments_are_named():
    with pytest.raises(ValueError, match="batch"):
        sample_prompts(TaskConfig(), 0, gen())
    with pytest.raises(ValueError, match="generator"):
        sample_prompts(TaskConfig(), 2, 0)
    with pytest.raises(ValueError, match="L"):
        sample_prompts(TaskConfig(), 2, gen(), L=0)


# -- the β prior ----------------------------------------------------------------------------------


def test_rademacher_prior_entries_covariance_and_labels():
    d = 4
    task = TaskConfig(d=d, sigma2=0.25, prior="rademacher")
    P = sample_prompts(task, 20_000, gen(4), L=5, dtype=torch.float64)
    b = P.beta[..., 0]  # (B, d)
    assert torch.all(b.abs() == 1 / math.sqrt(d))  # β_i = ±1/√d
    assert abs((b > 0).double().mean().item() - 0.5) < 0.01
    second = (b[:, :, None] * b[:, None, :]).mean(0).numpy()  # E ββᵀ = I/d
    assert np.abs(second - np.eye(d) / d).max() < 0.01
    assert np.allclose(np.diag(second), 1 / d, rtol=0, atol=1e-15)  # E‖β‖² = 1 exactly per prompt
    resid = P.y - P.X @ P.beta  # y = βᵀx + ε, ε ~ N(0, σ²)
    assert abs(resid.mean().item()) < 0.01 and abs(resid.var().item() - 0.25) < 0.01
    noiseless = sample_prompts(TaskConfig(d=d, sigma2=0.0, prior="rademacher"), 50, gen(5), dtype=torch.float64)
    assert torch.allclose(noiseless.y, noiseless.X @ noiseless.beta, atol=1e-12)
    assert torch.allclose(noiseless.y_q, torch.einsum("bd,bdt->bt", noiseless.x_q, noiseless.beta), atol=1e-12)


@pytest.mark.parametrize("supports", [None, ((1, 2, 3), (2, 3, 4, 5))])
def test_rademacher_beta_is_the_sign_of_the_gaussian_draw_on_the_same_stream(supports):
    g, r = TaskConfig(supports=supports), TaskConfig(supports=supports, prior="rademacher")
    assert n_normals(g, 8) == n_normals(r, 8)
    P, Q = (sample_prompts(t, 8, gen(6), dtype=torch.float64) for t in (g, r))
    assert torch.equal(P.X, Q.X) and torch.equal(P.x_q, Q.x_q)
    assert torch.equal(torch.sign(P.beta), torch.sign(Q.beta))  # zero off the supports in both
    assert torch.equal(Q.beta.abs(), (P.beta != 0).double() / math.sqrt(5))


def test_rademacher_gives_plus_or_minus_one_at_an_exact_zero_draw():
    task = TaskConfig(d=2, L=1, prior="rademacher")
    normals = torch.zeros(n_normals(task, 1), dtype=torch.float64)
    normals[-2:] = torch.tensor([0.0, -0.0])
    assert prompts_from_normals(task, normals, 1).beta[0, :, 0].tolist() == [1 / math.sqrt(2), -1 / math.sqrt(2)]


# the sampler's values before `prior` existed (float64, seed 11, 3 prompts)
BEFORE_Z00 = [0.27837984592949944, -1.8736145168964604, 1.4606952818041987, -0.5314479952161992]
BEFORE_YQ = [0.2265814473513425, -0.9191147176809666, 0.6730851249988609]
BEFORE_BETA0 = [-0.15828512660675267, 0.1350095076406254, -0.049195826440927036, 0.45496910503436283]
BEFORE_MULTI_YQ = [-1.8883366465777573, -0.053655669946897244, -0.08710838017394795]


def test_gaussian_prior_prompts_are_unchanged():
    P = sample_prompts(TaskConfig(), 3, gen(11), dtype=torch.float64)
    assert P.Z[0, 0, :4].tolist() == pytest.approx(BEFORE_Z00, rel=1e-12)
    assert P.y_q[:, 0].tolist() == pytest.approx(BEFORE_YQ, rel=1e-12)
    assert P.beta[0, :4, 0].tolist() == pytest.approx(BEFORE_BETA0, rel=1e-12)
    multi = TaskConfig(d=3, L=4, supports=((1, 2), (2, 3)))
    M = sample_prompts(multi, 3, gen(11), dtype=torch.float64)
    assert M.y_q[:, 0].tolist() == pytest.approx(BEFORE_MULTI_YQ, rel=1e-12)
    for task in (TaskConfig(), multi):  # "gaussian" said or not: the same prompts, bit for bit
        a = sample_prompts(task, 5, gen(12))
        b = sample_prompts(replace(task, prior="gaussian"), 5, gen(12))
        assert torch.equal(a.Z, b.Z) and torch.equal(a.y_q, b.y_q) and torch.equal(a.beta, b.beta)


def test_bad_prior_is_named():
    with pytest.raises(ValueError, match="prior"):
        TaskConfig(prior="laplace")
    authors = dict(supports=((1, 2), (3, 4)), shared_beta=False, convention="authors")
    TaskConfig(**authors)  # fine with the gaussian prior
    with pytest.raises(ValueError, match="prior"):
        TaskConfig(**authors, prior="rademacher")
