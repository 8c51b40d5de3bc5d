"""The visual language's helpers (icl.book.style)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import same_color  # noqa: E402

from icl.book import style  # noqa: E402


def test_config_colours_are_distinct_however_many():
    for n in (1, 8, 9, 20):
        cs = style.config_colours(n)
        assert len(cs) == n
        assert len({matplotlib.colors.to_hex(c) for c in cs}) == n
    with pytest.raises(ValueError, match="n must be"):
        style.config_colours(-1)


def test_references_are_drawn_above_the_data_in_their_fixed_style():
    fig, ax = plt.subplots()
    (data,) = ax.plot([1, 2], [1, 2])
    line = style.reference(ax, [1, 2], [2, 1], "dgd")
    assert line.get_zorder() > data.get_zorder() and line.get_label() == "debiased GD"
    assert same_color(line.get_color(), style.REFERENCE["dgd"]["color"])
    assert style.reference(ax, 0.5, kind="bayes", label="").get_label() == "_nolegend_"
    with pytest.raises(ValueError, match="kind must be one of"):
        style.reference(ax, 0.5, kind="nope")
    plt.close(fig)


def test_a_legend_of_configurations_and_seeds_does_not_grow_with_the_runs():
    fig, ax = plt.subplots()
    colours = dict(zip(["H = 1", "H = 2", "H = 4"], style.config_colours(3)))
    for c in colours.values():
        for k in range(3):
            ax.plot([0, 1], [k, k + 1], color=c, ls=style.seed_style(k))
    lg = style.config_seed_legend(ax, colours, seeds=[0, 1, 2], refs=["dgd"])
    assert [t.get_text() for t in lg.get_texts()] == [
        "H = 1",
        "H = 2",
        "H = 4",
        "seed 0",
        "seed 1",
        "seed 2",
        "debiased GD",
    ]
    plt.close(fig)


def test_sizes_stay_within_the_width_budget_and_bad_input_is_named():
    assert style.figsize(8)[0] == style.FULL_WIDTH and style.figsize(2)[0] == 2 * style.PANEL_WIDTH
    with pytest.raises(ValueError, match="cols and rows"):
        style.figsize(0)
    with pytest.raises(ValueError, match="width must be"):
        style.figsize(2, width=12)
    with pytest.raises(ValueError, match="group must be"):
        style.sign_colour(2)


def test_a_reference_handle_takes_the_reference_style_and_its_overrides():
    h = style.reference_handle("bayes")
    assert h.get_label() == "Bayes" and h.get_linestyle() == ":"
    g = style.reference_handle("gd", "optimal GD", color="0.3")
    assert g.get_label() == "optimal GD" and same_color(g.get_color(), "0.3")
    with pytest.raises(ValueError, match="kind must be one of"):
        style.reference_handle("nope")
