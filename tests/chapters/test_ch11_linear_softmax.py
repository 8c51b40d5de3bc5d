"""The softmax versions of the related paper's models: prediction against a direct computation, the
small-score expansion behind the zero-sum argument, and GD against the autograd gradient."""

import numpy as np
import pytest
import torch

from icl.chapters import ch11_linear_attention_dynamics as ld
from icl.chapters.ch11_linear_attention_dynamics import linear_softmax as ls


@pytest.fixture(scope="module")
def s():
    return ld.setting(3, N=7, seed=0)


def _direct(p, theta, data):
    """Loop over sequences and heads: softmax over the N context tokens and the query (y-slot 0)."""
    X, y = data.X.double().numpy(), data.y.double().numpy()
    out = np.zeros(len(X))
    parts = p.unpack(np.asarray(theta))
    for k in range(len(X)):
        xq, yc = X[k, -1], np.append(y[k, :-1], 0.0)
        for i in range(p.H):
            if p.kind == "merged":
                sc = np.array([xq @ parts[1][i] @ x for x in X[k]])
            else:
                sc = np.array([(parts[2][i].T @ xq) @ (parts[1][i].T @ x) for x in X[k]])
            w = np.exp(sc - sc.max())
            out[k] += parts[0][i] * (w / w.sum()) @ yc
    return out


@pytest.mark.parametrize("kind", ["merged", "separate"])
def test_prediction_matches_a_direct_loop(s, kind):
    p, y0 = ld.init_merged(3, s.D, 0.3, s.N, 1) if kind == "merged" else ld.init_separate(3, s.D, 2, 3.0, s.N, 1)
    data = ls.sample_tokens(s, 5, seed=2, dtype=torch.float64)
    got = ls.softmax_predict(p, torch.tensor(y0), data).numpy()
    np.testing.assert_allclose(got, _direct(p, y0, data), rtol=1e-10)


def test_small_scores_give_linear_attention_plus_the_mean_term(s):
    """softmax(εs) = (1 + ε(s − s̄))/(N+1) + O(ε²): ŷ_soft minus the mean term v·Σy/(N+1) and the linear head with
    normaliser N+1 is second order, so it falls 100× when ε falls 10×."""
    p, y0 = ld.init_merged(1, s.D, 1.0, s.N, 3)
    data = ls.sample_tokens(s, 400, seed=4, dtype=torch.float64)
    X, y = data.X.numpy(), data.y.numpy()
    yc = np.concatenate([y[:, :-1], np.zeros((len(y), 1))], 1)

    def residual(eps):
        theta = torch.tensor(y0)
        theta[1:] *= eps  # scores ∝ eps, value weight unchanged
        v, U = p.unpack(theta.numpy())
        sc = np.einsum("sd,de,sne->sn", X[:, -1], U[0], X)
        expect = v[0] * (yc.sum(1) + (yc * (sc - sc.mean(1, keepdims=True))).sum(1)) / (s.N + 1)
        return np.max(np.abs(ls.softmax_predict(p, theta, data).numpy() - expect))

    ratio = residual(1e-2) / residual(1e-3)
    assert 70 < ratio < 130, ratio


def test_gd_step_is_the_autograd_gradient_step(s):
    p, y0 = ld.init_separate(2, s.D, 1, 1.0, s.N, 5)
    data = ls.sample_tokens(s, 50, seed=6, dtype=torch.float64)
    tr = ls.softmax_gd(p, y0, data, data, lr=0.1, steps=1, record=[0, 1])
    theta = torch.tensor(y0, requires_grad=True)
    (g,) = torch.autograd.grad(ls.sampled_softmax_loss(p, theta, data), theta)
    np.testing.assert_allclose(tr.y[1], y0 - 0.1 * g.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(tr.t, [0.0, 0.2])


def test_zero_sum_reads_the_value_weights(s):
    p = ld.Params("merged", 3, s.D)
    y = np.zeros((1, p.size))
    y[0, :3] = [1.0, -1.0, 0.5]
    assert ls.zero_sum(ld.Trajectory(p, np.zeros(1), np.zeros(1), y)) == pytest.approx(0.5 / 2.5)


def test_bad_sequence_count_names_the_parameter(s):
    with pytest.raises(ValueError, match="S \\(sequences\\)"):
        ls.sample_tokens(s, 0, seed=0)
