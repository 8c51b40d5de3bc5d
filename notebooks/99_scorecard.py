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
# # Scorecard
#
# Every claim checked in this book, collected from the chapters' claims tables as they were
# executed for this build (profile **{glue:text}`score-profile`**): {glue:text}`score-n-pass`
# pass, {glue:text}`score-n-fail` fail and {glue:text}`score-n-not-evaluated` are not
# evaluated at this budget, of {glue:text}`score-n-total`. What the failures mean for the paper's
# contributions is on the [Findings](97_findings) page; this page is the ledger.
#
# The book is published at two budgets: *paper* (the authors' 500 000 Adam steps per model, the
# main edition) and *quick* (20 000, cheap enough to retrain on a 2-core CPU). This build's claims
# stand for its own profile; the other edition's are read from its published claims
# (`results/<profile>/claims`, written by `icl publish-claims`). At the quick budget
# {glue:text}`score-quick-n-pass` of {glue:text}`score-quick-n-total` claims pass and
# {glue:text}`score-quick-n-fail` fail; at the paper budget {glue:text}`score-paper-n-pass` pass and
# {glue:text}`score-paper-n-fail` fail ({glue:text}`score-paper-not-run`).

# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"

# %% tags=["remove-cell"]
from IPython.display import HTML, display

from icl.book.chapter import glue_figure, glue_text
from icl.book.claims import load_tables
from icl.book.style import use_style
from icl.pipeline import scorecard

use_style()
tables = load_tables()
per_chapter = scorecard.glue_counts(tables)
frame = scorecard.glue_editions(tables)
by_edition = scorecard.editions(tables)
glue_figure("score-overview", scorecard.plot_overview(by_edition))

# %% [markdown]
# ```{glue:figure} score-overview
# :name: score-overview
#
# Every claim of the book, one square each, chapters as rows, one panel per edition: green passes;
# a failing claim is coloured by its finding (red: the paper's statement does not hold in our runs;
# orange: it fails only under a reading stricter than the paper's words; purple: at our budget;
# brown: a setup choice of ours; black: not classified); grey is not evaluated at that budget,
# and an outlined pale square has not been run at it.
# ```
#
# ## Where the two budgets disagree
#
# The {glue:text}`score-n-differ` claims whose status differs between the editions: those are the
# ones the budget decides.

# %% tags=["remove-cell"]
differ, n_differ = scorecard.differing_claims_html(by_edition)
glue_text("score-n-differ", n_differ)

# %% tags=["remove-input"]
display(HTML(scorecard.folded(f"<strong>The {n_differ} claims</strong>, each edition's status and value", differ)))

# %% [markdown]
# ## The failing claims of the paper edition
#
# Each with its measured value against its criterion, its finding and the reason its chapter
# gives (the [Findings](97_findings) page groups them by the paper's contributions).

# %% tags=["remove-input"]
failing = [c for c in by_edition["paper"].values() if c.status == "fail"]
display(
    HTML(
        scorecard.folded(
            f"<strong>The {len(failing)} failing claims</strong>: "
            + ", ".join(f"{sum(c.finding == f for c in failing)} {f}" for f in ("paper", "reading", "budget", "setup")),
            scorecard.failing_claims_html(by_edition["paper"]),
        )
    )
)

# %% [markdown]
# ## Every claim, by chapter (this build)
#
# The same tables as at the end of each chapter, with their notes: why a claim fails, where its
# target and its tolerance come from. Open a chapter to read them.

# %% tags=["remove-input"]
display(HTML("\n".join(scorecard.chapter_html(t) for t in tables)))

# %% [markdown]
# ## How the paper edition was trained
#
# Its models were trained with this book's engine on a 2-core CPU, the seeds of one configuration
# together, and published with their provenance (`results/paper/models/`: weights, snapshot
# circuits, a log-binned loss curve, the code commit, the machine, the wall time). Published:
# {glue:text}`score-paper-models` models, {glue:text}`score-paper-hours` hours of training summed
# over the groups (two groups trained at once, so the elapsed time was about half that), a median of
# {glue:text}`score-paper-rate` model-steps/s per group.
# Anyone can retrain a published model, or its first steps, and compare:
# `icl verify KEY --steps 2000` (bit for bit on a CPU with the kernel set it was trained with).

# %% tags=["remove-cell"]
trained = scorecard.glue_paper_training()

# %% tags=["remove-input"]
display(HTML(scorecard.folded("<strong>The training groups</strong>", trained)))
display(
    HTML(
        scorecard.folded(
            "<strong>By chapter</strong>: the models each chapter reads, how many are published, "
            "and the training time of the groups it is the first to need",
            scorecard.paper_training_by_chapter(),
        )
    )
)

# %% tags=["remove-cell"]
display(per_chapter)
