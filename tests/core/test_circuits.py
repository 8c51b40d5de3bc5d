"""Pattern metrics of Observations 1, 2 and 4 on circuits and trajectories whose answers are known."""

import numpy as np
import pytest
import torch

from icl.core.circuits import (
    extract,
    group_ov_x_part,
    head_groups,
    largest_dip,
    omega_spread,
    pattern_holds,
    pattern_onset,
    pattern_summary,
    peak_drop,
    structured_circuits,
)
from icl.core.data import TaskConfig, sample_prompts
from icl.core.estimators import KernelSum, TransformerPredictor
from icl.core.models import AttentionModel, ModelConfig

d = 5


def test_head_groups_and_exact_pattern_summary():
    omega, mu = np.array([0.15, -0.15, 0.001, 0.14]), np.array([1.6, -3.0, 0.002, 1.4])
    kq, ov = structured_circuits(omega, mu, d)
    assert head_groups(omega, mu).tolist() == [1, -1, 0, 1]
    s = pattern_summary(kq, ov, d)
    assert (s["n_pos"], s["n_neg"], s["n_dummy"]) == (2, 1, 1)
    assert s["sign_match"] == 1.0
    assert s["mu_pos"] == pytest.approx(3.0) and s["mu_neg"] == pytest.approx(-3.0)
    assert s["sum_mu"] == pytest.approx(0.002)
    assert s["omega_spread"] == pytest.approx(0.15 / 0.14 - 1)
    assert s["eta"] == pytest.approx(omega @ mu)
    for k in ("rel_diag_spread", "rel_offdiag", "rel_key_y", "rel_ov_x", "rel_group_ov_x"):
        assert s[k] == 0.0


def test_relative_metrics_are_per_head_and_skip_dummies():
    omega, mu = np.array([0.2, -0.1, 1e-4]), np.array([2.0, -1.0, 1e-4])
    kq, ov = structured_circuits(omega, mu, d)
    kq[1, 0, 1] = 0.03  # off-diagonal in head 2: 0.3 of its |ω|
    kq[0, d, 2] = -0.01  # key-y row in head 1: 0.05 of its |ω|
    kq[2, 3, 4] = 5.0  # huge entry in the dummy head: ignored
    ov[1, d, 0] = 0.5  # OV x-part in head 2: 0.5 of its |μ|
    s = pattern_summary(kq, ov, d)
    assert s["rel_offdiag"] == pytest.approx(0.3)
    assert s["rel_key_y"] == pytest.approx(0.05)
    assert s["rel_ov_x"] == pytest.approx(0.5)
    assert s["rel_group_ov_x"] == pytest.approx(0.5 / 2.0)


def test_group_ov_x_part_cancels_within_a_group_and_reaches_the_prediction_only_summed():
    """Two positive heads with equal ω and opposite x-parts predict exactly like the pure pattern."""
    omega, mu = np.array([0.2, 0.2, -0.2]), np.array([1.0, 1.5, -2.5])
    kq, ov = structured_circuits(omega, mu, d)
    ov[0, d, :d] = [0.3, -0.2, 0.1, 0.0, 0.4]
    ov[1, d, :d] = -ov[0, d, :d]
    assert np.allclose(group_ov_x_part(ov, head_groups(omega, mu), d), 0.0)
    assert pattern_summary(kq, ov, d)["rel_ov_x"] == pytest.approx(0.4 / 1.0)
    model = AttentionModel.from_circuits(torch.tensor(kq), torch.tensor(ov), d, ModelConfig(heads=3))
    P = sample_prompts(TaskConfig(), 256, torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(TransformerPredictor(model)(P), KernelSum(omega, mu)(P), atol=1e-12)


def test_omega_spread_and_validation():
    assert omega_spread([0.1, -0.2, 0.0], [1, -1, 0]) == pytest.approx(1.0)
    assert omega_spread([0.3], [1]) == 0.0
    with pytest.raises(ValueError, match="groups"):
        omega_spread([0.1, 0.2], [0, 0])
    nan = np.full((2, d + 1, d + 1), np.nan)  # a diverged model has no head to read
    with pytest.raises(ValueError, match="finite"):
        pattern_summary(nan, nan, d)
    with pytest.raises(ValueError, match="non-dummy"):
        pattern_summary(*structured_circuits([0.0, 0.0], [1.0, -1.0], d), d)


def test_pattern_onset_on_a_constructed_trajectory():
    steps = np.array([0, 1, 10, 100, 1000, 2000, 3000])
    omega = np.array(
        [[0.1, -0.1], [0.02, -0.01], [0.05, -0.04], [0.1, -0.1], [0.2, -0.2], [0.15, -0.15], [0.14, -0.14]]
    )
    mu = np.array([[0.1, -0.1], [0.1, 0.2], [0.2, -0.3], [0.5, -0.52], [1.0, -1.0], [1.3, 1.3], [1.4, -1.4]])
    # step 0 holds by chance; 1 breaks sign matching; 10: Σμ = −0.1 of 0.5 (ratio 0.2) fails zero-sum;
    # 100, 1000 hold; 2000 loses sign matching; 3000 holds again
    assert pattern_holds(omega, mu).tolist() == [True, False, False, True, True, False, True]
    assert pattern_onset(steps, omega, mu) == (0, 3000)
    assert pattern_onset(steps[:5], omega[:5], mu[:5]) == (0, 100)
    assert pattern_onset(steps[1:5], omega[1:5], mu[1:5], zero_sum_tol=0.25) == (10, 10)
    assert pattern_onset(steps[:6], omega[:6], mu[:6]) == (0, None)
    assert pattern_onset(steps[1:3], omega[1:3], mu[1:3]) == (None, None)
    with pytest.raises(ValueError, match="steps"):
        pattern_onset(steps[:4], omega, mu)


def test_peak_drop_and_largest_dip():
    i, drop = peak_drop([0.0, 0.1, -0.3, -0.2, -0.15])
    assert i == 2 and drop == pytest.approx(0.5)
    assert peak_drop([0.1, 0.2, 0.3])[1] == 0.0
    assert largest_dip([0.1, 0.5, 0.4, 0.8, 1.0]) == pytest.approx(0.1)
    assert largest_dip(-np.linspace(0.1, 3.0, 20)) == 0.0


def test_extract_agrees_with_a_trained_style_random_model():
    """pattern_summary's ω, μ are extract's (same index convention) on random factored weights."""
    m = AttentionModel(d, 1, ModelConfig(heads=3), [4])
    kq, ov = m.kq()[0].detach(), m.ov()[0].detach()
    p = extract(kq, ov, d)
    assert np.allclose(p.omega, np.diagonal(kq[:, :d, :d].numpy(), axis1=1, axis2=2).mean(1))
    s = pattern_summary(kq, ov, d, rel=0.0)
    assert s["eta"] == pytest.approx(float((p.omega * p.mu).sum()), rel=1e-6)


def test_settled_index_is_the_first_record_holding_to_the_end():
    from icl.core.circuits import settled_index

    ok = np.array([[0, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool).T  # (S=4, runs=4)
    np.testing.assert_array_equal(settled_index(ok), [1, 3, -1, 0])
