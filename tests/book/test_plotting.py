import numpy as np

from icl.book.plotting import coordinate_labels
from icl.core.binning import log_binned


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


def test_plot_head_dynamics_draws_heads_and_group_sums():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pytest

    from icl.book.plotting import GROUP_COLOURS, plot_head_dynamics

    steps = np.array([0, 1, 10, 100])
    omega = np.array([[0.0, 0.0, 0.0], [0.1, -0.1, 0.01], [0.2, -0.2, 0.0], [0.15, -0.15, 0.0]])
    mu = np.array([[0.0, 0.0, 0.0], [0.5, -0.5, 0.0], [1.0, -1.1, 0.0], [2.0, -2.0, 0.0]])
    fig = plot_head_dynamics(steps, omega, mu, np.array([1, -1, 0]), onset=10)
    ax_w, ax_m = fig.axes[:2]
    assert ax_w.get_xscale() == "log"
    head_lines = [l for l in ax_w.get_lines() if l.get_label().startswith("head")]
    assert len(head_lines) == 3 and all(len(l.get_xdata()) == 3 for l in head_lines)  # step 0 dropped
    assert matplotlib.colors.same_color(head_lines[2].get_color(), GROUP_COLOURS[0])
    total = [l for l in ax_m.get_lines() if "Sigma_h" in l.get_label()]
    assert len(total) == 1 and np.allclose(total[0].get_ydata(), mu[1:].sum(1))
    plt.close(fig)
    with pytest.raises(ValueError, match="groups"):
        plot_head_dynamics(steps, omega, mu, np.array([1, -1]))


def test_plot_risk_curves_error_bars_are_two_standard_errors():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pytest

    from icl.book.plotting import plot_risk_curves

    L = np.array([5, 10, 20])
    ax = plot_risk_curves(L, {"a": (np.array([1.0, 0.5, 0.3]), np.array([0.1, 0.05, 0.01]))}, train_L=10)
    (bars,) = ax.containers
    seg = bars.lines[2][0].get_segments()  # the vertical error bars
    assert np.allclose([s[1, 1] - s[0, 1] for s in seg], [0.4, 0.2, 0.04])
    assert ax.get_xscale() == "log" and ax.get_legend_handles_labels()[1] == ["a"]
    with pytest.raises(ValueError, match="one mean"):
        plot_risk_curves(L, {"a": (np.ones(2), np.ones(2))}, ax=ax)
    plt.close(ax.figure)


def test_chapter_figure_renders_once_saves_and_glues_the_same_png(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from icl.book import chapter

    glued = {}
    monkeypatch.setenv("ICL_FIGURES_DIR", str(tmp_path))
    monkeypatch.setattr(chapter, "_glue", lambda key, value: glued.__setitem__(key, value))
    ch = chapter.start("01_setup", "smoke", "cpu")
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot([0, 1], [0, 1])
    with matplotlib.rc_context({"savefig.dpi": 200}):
        ch.figure("t-fig", fig)
    png = (tmp_path / "t-fig.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and glued["t-fig"].data == png
    width = int.from_bytes(png[16:20], "big")
    assert 600 < width < 900  # 4 in at 200 dpi, give or take the tight bounding box
    assert glued["t-fig"].width == round(width / 2)  # shown at the figure's own 100 dpi
    assert not plt.fignum_exists(fig.number)
