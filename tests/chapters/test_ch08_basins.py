"""Mirroring a head partway and training on (icl.chapters.ch08_linear_and_activations.basins, chapter 08's
same-sign probe)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from icl.chapters.ch08_linear_and_activations.basins import Probe, mirror_head, probe, probe_reading, probe_text
from icl.core.circuits import extract, structured_circuits
from icl.core.models import AttentionModel, ModelConfig
from icl.runs.config import run_config
from icl.runs.profiles import get_profile

D5 = 5
TWO_HEADS = ModelConfig(heads=2)  # frozen: a safe default


def _factors(omega, mu, cfg=TWO_HEADS):
    kq, ov = structured_circuits(omega, mu, D5)
    return (
        AttentionModel.from_circuits(torch.tensor(kq, dtype=torch.float32), torch.tensor(ov), D5, cfg)
        .factors[0]
        .detach()
    )


def _circuits(factors, cfg=TWO_HEADS):
    m = AttentionModel(D5, 1, cfg, [0])
    with torch.no_grad():
        m.factors.copy_(factors[None])
        return extract(m.kq(), m.ov(), D5)


def test_mirror_head_scales_one_head_by_one_minus_2a():
    F = _factors([0.3, -0.3], [1.5, -1.5])
    for a, s in ((0.0, 1.0), (0.5, 0.0), (0.75, -0.5), (1.0, -1.0)):
        p = _circuits(mirror_head(F, 1, a))
        np.testing.assert_allclose(p.omega[0], [0.3, -0.3 * s], atol=1e-6)
        np.testing.assert_allclose(p.mu[0], [1.5, -1.5 * s], atol=1e-6)
    assert torch.equal(F, _factors([0.3, -0.3], [1.5, -1.5]))  # the input is not touched
    with pytest.raises(ValueError, match="a must be"):
        mirror_head(F, 1, 1.5)
    with pytest.raises(ValueError, match="head must be"):
        mirror_head(F, 2, 0.5)


def test_probe_starts_where_it_says_and_a_pm_pair_stays_one():
    """From the ± pair near its optimum, a = 0 trains on as a ± pair; a = 1 starts as a same-sign pair."""
    cfg = run_config(get_profile("smoke"), heads=2)
    run = SimpleNamespace(config=cfg, factors=_factors([0.25, -0.25], [2.0, -2.0]))
    stay, mirrored = probe(run, (0.0, 1.0), steps=300)
    np.testing.assert_allclose(stay.omega0, [0.25, -0.25], atol=1e-6)
    np.testing.assert_allclose(mirrored.mu0, [2.0, 2.0], atol=1e-6)
    assert stay.zero_sum < 0.05 and stay.steps == 300
    assert np.isfinite(mirrored.loss) and stay.loss < mirrored.loss
    with pytest.raises(ValueError, match="steps"):
        probe(run, (0.0,), steps=0)


def _p(a, zs, loss):
    z = np.zeros(2)
    return Probe(a, 5000, z, z, z, z, zs, loss)


def test_probe_text_counts_each_outcome_and_reads_only_a_clean_split():
    clean = {
        ("relu", 2, 1): [_p(0.45, 1.0, 0.36), _p(1.0, 0.01, 0.241)],
        ("square", 2, 1): [_p(0.45, 1.0, 0.38), _p(1.0, 0.0, 0.240)],
    }
    text = probe_text(clean, 0.05)
    assert text.startswith("After 5,000 steps")
    assert "from a = 0.45, 0 of 2 reach the ± pattern and 2 end not zero-sum again (loss 0.360–0.380)" in text
    assert "from a = 1, 2 of 2 reach the ± pattern (loss 0.240–0.241)" in text
    assert "attractor" in probe_reading(clean, 0.05)
    assert "(a = 0.45) grows back" in probe_reading(clean, 0.05)
    mixed = {**clean, ("relu_0.8", 2, 1): [_p(0.45, 0.02, 0.24), _p(1.0, 0.0, 0.24)]}  # one leaves from a = 0.45
    assert "attractor" not in probe_reading(mixed, 0.05)
    halfway = {("relu", 2, 1): [_p(0.45, 0.6, 0.3), _p(1.0, 0.0, 0.24)]}  # not zero-sum, but not one sign either
    assert "attractor" not in probe_reading(halfway, 0.05)
    assert probe_text({}, 0.05).startswith("No two-head model") and probe_reading({}, 0.05) == ""
