import numpy as np

from icl.plotting import coordinate_labels, log_binned


def test_log_binned_covers_every_step_once():
    v = np.random.default_rng(0).normal(size=5000)
    centres, means = log_binned(v, 40)
    assert np.all(np.diff(centres) > 0)
    edges = np.unique(np.round(np.logspace(0, np.log10(5001), 41)).astype(int))
    counts = np.diff(edges)
    assert counts.sum() == 5000
    assert np.isclose((means * counts).sum(), v.sum())


def test_coordinate_labels():
    assert coordinate_labels(2) == ["$x_{1}$", "$x_{2}$", "$y$"]
    assert coordinate_labels(1, 2)[-1] == "$y^{(2)}$"
