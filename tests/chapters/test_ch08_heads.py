"""Chapter 08's reading of the f-models' heads over training (icl.chapters.ch08_linear_and_activations.heads)
and the claims' helpers that decide which models hold the ± pattern."""

from types import SimpleNamespace

import numpy as np
import pytest

from icl.chapters.ch08_linear_and_activations import analysis as A
from icl.chapters.ch08_linear_and_activations import heads as H
from icl.chapters.ch08_linear_and_activations import report_f as R
from icl.core.circuits import extract, structured_circuits

D5 = 5


class _Run:
    """A stand-in for TrainedRun: circuits at every snapshot in the pattern (3.1) with the given (S, H)
    ω and μ, and a flat training loss."""

    def __init__(self, omega, mu, steps=None, loss=0.24):
        omega, mu = np.asarray(omega, float), np.asarray(mu, float)
        kq, ov = zip(*(structured_circuits(w, m, D5) for w, m in zip(omega, mu)))
        self.snapshot_kq, self.snapshot_ov = np.stack(kq), np.stack(ov)  # (S, H, D, D)
        self.snapshot_steps = np.arange(len(omega)) * 10 if steps is None else np.asarray(steps)
        self._loss = loss

    def history(self):
        return extract(self.snapshot_kq, self.snapshot_ov, D5)

    def loss_curve(self):
        return self.snapshot_steps[1:].astype(float), np.full(len(self.snapshot_steps) - 1, self._loss)


def test_shared_start_finds_identical_step_zero_circuits_only():
    a = _Run([[0.01, -0.02], [0.2, -0.2]], [[0.01, 0.02], [2.0, -2.0]])
    b = _Run([[0.01, -0.02], [0.7, 0.7]], [[0.01, 0.02], [-0.9, -0.9]])  # same start, other end
    c = _Run([[0.03, -0.02], [0.2, -0.2]], [[0.01, 0.02], [2.0, -2.0]])  # other start
    d = _Run([[0.01, -0.02, 0.0, 0.0]] * 2, [[0.01, 0.02, 0.0, 0.0]] * 2)  # other head count
    runs = {("relu", 2, 1): a, ("square", 2, 1): b, ("relu", 2, 2): c, ("relu", 4, 1): d}
    assert H.shared_start(runs, ("relu", 2, 1)) == [("square", 2, 1)]
    assert H.shared_start(runs, ("relu", 2, 2)) == []


def test_same_sign_onset_is_the_step_from_which_every_mu_shares_one_sign():
    mu = [[0.01, 0.02], [0.5, -0.1], [-0.3, -0.2], [0.2, -0.1], [-0.8, -0.9], [-0.9, -0.9]]
    omega = [[0.01, 0.01]] * 6
    assert H.same_sign_onset(_Run(omega, mu)) == 40
    assert H.same_sign_onset(_Run(omega[:4], mu[:4])) is None


def test_rise_fall_reads_the_mean_scale_of_the_final_non_dummy_heads():
    # head 1 rises and falls, head 2 rises late; head 3 ends a dummy (|ωμ| tiny) and is left out
    omega = [[0.01, 0.0, 0.01], [0.5, 0.05, 0.3], [0.3, 0.2, 0.02], [0.25, -0.25, 0.001]]
    mu = [[0.01, 0.0, 0.01], [1.0, 0.1, 0.5], [2.0, -1.0, 0.01], [2.0, -2.0, 0.001]]
    rf = H.omega_rise_fall(_Run(omega, mu))
    assert rf.peak_step == 10 and rf.peak == pytest.approx(0.275) and rf.final == pytest.approx(0.25)
    assert rf.fall == pytest.approx(1 - 0.25 / 0.275) and rf.holds(0.05) and not rf.holds(0.1)
    rf = H.omega_rise_fall(_Run(omega[:2] + [[0.4, -0.4, 0.0], [0.2, -0.2, 0.0]], mu))
    assert rf.interior and rf.fall == pytest.approx(0.5) and rf.holds(0.1) and not rf.holds(0.6)
    rising = H.omega_rise_fall(_Run([[0.1, -0.1], [0.2, -0.2]], [[1, -1], [2, -2]]))
    assert not rising.interior and not rising.holds(0.0)


def test_split_history_starts_where_the_spread_grows_for_good_after_settling():
    omega = [[0.9, -0.1, 0.1, -0.1], [0.2, -0.2, 0.21, -0.2], [0.3, -0.3, 0.2, -0.2], [0.9, -0.8, 0.17, -0.17]]
    mu = [[0.1, -0.1, 1.0, -1.0], [2.0, -2.0, 2.0, -2.0], [1.0, -1.0, 2.0, -2.0], [0.25, -0.25, 2.0, -2.0]]
    s = H.split_history(_Run(omega, mu, steps=[0, 100, 1000, 10_000]), settled=100)
    assert (s.start, s.end) == (100, 10_000)
    assert s.spread0 == pytest.approx(0.21 / 0.2) and s.spread1 == pytest.approx(0.9 / 0.17)
    assert s.growing == 2 and s.loss0 == s.loss1 == 0.24
    np.testing.assert_allclose(s.omega1, omega[-1])
    np.testing.assert_allclose(s.mu1, mu[-1])
    assert s.groups == ((0, 1), (2, 3))  # the large-|ω_h| pair first
    dip = H.split_history(_Run(omega[:2] + [[0.25, -0.2, 0.2, -0.2]] + omega[3:], mu, steps=[0, 1, 2, 3]), None)
    assert (dip.start, dip.growing) == (1, 2)  # 1.05 → 1.25 → 5.3: growing from step 1
    grow_late = H.split_history(_Run(omega[:1] + omega[2:3] + omega[1:2] + omega[3:], mu, steps=[0, 1, 2, 3]), None)
    assert (grow_late.start, grow_late.growing) == (2, 1)


def _reading(omega, mu):
    p = extract(*structured_circuits(omega, mu, D5), D5)
    from icl.core.circuits import dummy_heads, sign_matching, zero_sum_ratio

    dummy = dummy_heads(p.omega, p.mu)
    return A.ActivationReading(
        ("relu", len(omega), 0),
        1.0,
        0.2,
        2.0,
        0.9,
        0.9,
        0.001,
        0.9,
        0.9,
        float(sign_matching(p.omega, p.mu, dummy)),
        float(zero_sum_ratio(p.mu)),
        int(((p.omega > 0) & ~dummy).sum()),
        int(((p.omega < 0) & ~dummy).sum()),
    )


def test_the_pm_pattern_needs_sign_matching_and_both_signs():
    assert _reading([0.2, -0.2], [2.0, -2.0]).pm
    assert _reading([0.2, -0.2, 0.0, 0.3], [2.0, -2.0, 0.0, 0.1]).pm  # a dummy head and a small positive one
    same_sign = _reading([-0.76, -0.76], [-0.86, -0.86])
    assert same_sign.sign_match == 1.0 and not same_sign.pm  # sign matching alone passes it
    assert not _reading([0.2, -0.2], [2.0, 2.0]).pm  # one head's signs disagree


def test_close_to_one_is_the_farthest_value_of_the_papers_table():
    assert R.CLOSE_TO_ONE == pytest.approx(1 - 0.8794, abs=1e-12)
    assert all(abs(x - 1) <= R.CLOSE_TO_ONE for *_, x in A.PAPER_TABLE1)


def test_readings_take_chapter_02s_words_for_the_same_words():
    from icl.book.budgets.ch02_observations import TOLERANCES as ch02

    assert (R.READINGS.homogeneous, R.READINGS.track_dgd, R.READINGS.fall) == (
        ch02.homogeneous,
        ch02.track_dgd,
        ch02.fall,
    )


def test_one_start_text_names_the_shared_initialisation():
    runs = {
        ("relu", 2, 1): _Run([[0.01, -0.02], [0.7, 0.7]], [[0.01, 0.02], [-0.9, -0.9]]),
        ("square", 2, 1): _Run([[0.01, -0.02], [0.2, 0.2]], [[0.01, 0.02], [-0.9, -0.9]]),
        ("sigmoid", 2, 1): _Run([[0.01, -0.02], [0.3, -0.3]], [[0.01, 0.02], [3.0, -3.0]]),
    }
    st = SimpleNamespace(starts=lambda k: H.shared_start(runs, k))
    text = R.one_start_text(st, [("relu", 2, 1), ("square", 2, 1)])
    assert text.startswith("2 models (relu(1 + s), (1 + s)², H = 2, seed 1) start from one initialisation")
    assert "one start, not 2 independent failures" in text and "from the same start σ(s) end in the ± pattern" in text
