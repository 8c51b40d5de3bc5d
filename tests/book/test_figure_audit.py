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
