"""The figure audit finds what it says it finds, and glue_figure records it beside the PNG."""

import io
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from icl.book.figure_audit import audit, problems  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def test_a_clean_figure_has_no_problem():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], label=r"$\eta_\mathrm{eff}$")
    ax.legend()
    a = audit(fig, _png(fig))
    assert (a["width_px"], a["height_px"]) == (400, 300) and a["legend_entries"] == 1
    assert problems(a) == []
    plt.close(fig)


def test_plain_subscripts_long_legends_bare_heatmaps_and_width_are_found():
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(24, 3))
    for k in range(9):
        ax.plot([0, k], label=f"run {k}")
    ax.legend()
    ax.set_xlabel("eta_eff")  # plain text: flagged
    ax.set_title("$\\omega_h$ and $x_{1}$")  # mathtext: not flagged
    bx.imshow(np.eye(3))
    found = problems(audit(fig, _png(fig)))
    assert any("2400 px wide" in p for p in found)
    assert any("9 entries" in p for p in found)
    assert any("'eta_eff'" in p for p in found) and not any("omega" in p for p in found)
    assert any("without a colour bar" in p for p in found)
    fig.colorbar(bx.images[0], ax=bx)
    assert not any("colour bar" in p for p in problems(audit(fig, _png(fig))))
    plt.close(fig)


def test_glue_figure_saves_the_audit_beside_the_png(tmp_path, monkeypatch):
    from icl.book.chapter import glue_figure

    monkeypatch.setenv("ICL_FIGURES_DIR", str(tmp_path))
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1])
    glue_figure("test-key", fig)
    assert (tmp_path / "test-key.png").exists()
    assert json.loads((tmp_path / "test-key.audit.json").read_text())["legend_entries"] == 0


def test_small_text_in_a_wide_figure_is_found_and_the_style_keeps_it_readable():
    from icl.book.figure_audit import read_pt
    from icl.book.style import FULL_WIDTH, MIN_FONT_PT, use_style

    # 9 pt text in a PNG shown at the book's 672 px column: 9 · 150/96 · 672/1170 ≈ 8.08 pt
    assert abs(read_pt(9, 1170, 150) - 9 * 150 / 96 * 672 / 1170) < 1e-12
    assert read_pt(9, 300, 150, 110) == 9 * 110 / 96  # narrower than the column: shown at its own size
    use_style()
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.5))
    ax.plot([0, 1], label="a")
    ax.legend()
    a = audit(fig, _png(fig), dpi=100)
    assert a["min_font_pt"] >= MIN_FONT_PT and not any("reads at" in p for p in problems(a))
    fig.set_size_inches(16, 2.5)
    ax.set_title("small", fontsize=6)
    found = problems(audit(fig, _png(fig), dpi=100))
    assert any("text of 6 pt reads at" in p for p in found)
    plt.close(fig)
    matplotlib.rcdefaults()


def test_a_heatmap_needs_a_colour_bar_with_its_own_scale():
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(6, 3))
    a = ax.imshow(np.eye(3), vmin=-1, vmax=1, cmap="RdBu_r")
    bx.imshow(np.eye(3) * 5, vmin=-5, vmax=5, cmap="RdBu_r")  # another scale
    fig.colorbar(a, ax=ax)
    assert audit(fig, _png(fig))["images_without_scale"] == 1
    fig.colorbar(bx.images[0], ax=bx)
    assert audit(fig, _png(fig))["images_without_scale"] == 0
    plt.close(fig)


def test_the_contact_sheet_shows_every_figure_and_checks_them(tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("contact_sheet", Path(__file__).parents[2] / "tools/contact_sheet.py")
    sheet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sheet)
    figs = tmp_path / "figures"
    figs.mkdir()
    for key, width in (("narrow", 4), ("wide", 24)):
        fig, ax = plt.subplots(figsize=(width, 2))
        ax.plot([0, 1])
        png = _png(fig)
        (figs / f"{key}.png").write_bytes(png)
        (figs / f"{key}.audit.json").write_text(json.dumps(audit(fig, png, dpi=100)))
        plt.close(fig)
    out = tmp_path / "site" / "figures.html"
    assert sheet.main(str(figs), str(out)) == 0
    assert sheet.main(str(figs), str(out), check=True) == 1  # the 2400 px figure
    page = out.read_text()
    assert "figures_files/narrow.png" in page and "2400 px wide" in page
    assert (tmp_path / "site" / "figures_files" / "wide.png").exists()
