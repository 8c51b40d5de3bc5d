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
