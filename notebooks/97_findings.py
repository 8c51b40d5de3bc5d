# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     notebook_metadata_filter: kernelspec
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Findings
#
# What this book finds about the paper, contribution by contribution, at the authors' budget (the
# paper edition: 500 000 Adam steps per model, three seeds). Each contribution is decided by the
# claims that test it; the verdict follows a rule fixed before reading them:
#
# - **holds**: every deciding claim passes;
# - **holds with a caveat**: some fail, but each failure is a matter of reading, budget or setup,
#   or the failures where the paper's statement does not hold are fewer than half;
# - **does not hold in our runs**: at least half of the deciding claims fail because the paper's
#   statement does not hold in our runs.
#
# Every failing claim carries a *finding*, one of four: **paper** (the paper's statement does not
# hold in our runs, with the evidence a referee would accept), **reading** (it fails only under a
# reading stricter or looser than the paper's words), **budget** (it fails at our budget, with
# evidence it holds at a larger one) and **setup** (a choice of ours the paper does not make).
# In the paper edition {glue:text}`find-n-pass` of {glue:text}`find-n-claims` claims pass; of
# the {glue:text}`find-n-fail` that fail, {glue:text}`find-n-paper` are findings about the
# paper, {glue:text}`find-n-reading` about a reading, {glue:text}`find-n-budget` about the budget
# and {glue:text}`find-n-setup` about our setup ({glue:text}`find-n-unclassified` not classified).
# The [scorecard](99_scorecard) lists every claim.

# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"

# %% tags=["remove-cell"]
from IPython.display import HTML, Image, display

from icl.book.chapter import figures_dir, glue_text
from icl.book.claims import load_tables
from icl.pipeline import findings, scorecard

tables = load_tables()
paper = scorecard.editions(tables)["paper"]
quick = scorecard.editions(tables)["quick"]  # shown only for a chapter the paper edition does not have yet
counts = findings.finding_counts(paper)
for key, n in counts.items():
    glue_text(f"find-n-{key.replace(' ', '-')}", n)
glue_text("find-n-claims", len(paper))
glue_text("find-n-fail", sum(c.status == "fail" for c in paper.values()))
glue_text("find-figures-profile", profile)
verdicts = [findings.verdict(findings.deciding(c, paper)) for c in findings.CONTRIBUTIONS]
glue_text("find-n-contributions", len(verdicts))
for key, v in (("holds", "holds"), ("caveat", "holds with a caveat"), ("not-hold", "does not hold in our runs")):
    glue_text(f"find-n-{key}", verdicts.count(v))

# %% [markdown]
# ## The contributions at a glance

# %% tags=["remove-input"]
display(HTML(findings.overview_html(paper, quick)))

# %% [markdown]
# ## Contribution by contribution
#
# Each with the paper's words, the verdict, the claims that decide it (why a failing one fails is
# its chapter's note) and the chapter figure that shows it, drawn in this build (profile
# {glue:text}`find-figures-profile`).

# %% tags=["remove-input"]
for contribution in findings.CONTRIBUTIONS:
    display(HTML(f"<h3>{contribution.title}</h3>" + findings.contribution_html(contribution, paper, quick)))
    chapter, key = contribution.figure.split("/")
    png = figures_dir() / f"{key}.png"
    if png.exists():
        display(Image(filename=str(png), width=560))
        display(
            HTML(
                f'<p><small>From chapter {chapter[:2]}: <a href="{chapter}.html#{key}">its figure {key}</a>, '
                f"with its caption.</small></p>"
            )
        )
