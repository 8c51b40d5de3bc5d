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
# evaluated at this budget, of {glue:text}`score-n-total`. A failing claim is listed with the
# reason its chapter gives; the *margin* column says how far inside (+) or outside (−) its
# tolerance each measured value lies.

# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from icl.book.claims import edition_table_markdown, load_tables
from icl.pipeline import scorecard

tables = load_tables()
per_chapter = scorecard.glue_counts(tables)

# %% tags=["hide-input"]
display(per_chapter)

# %% [markdown]
# ## The two budgets, side by side
#
# The book is published at two budgets: *paper* (the authors' 500 000 Adam steps per model, the
# main edition) and *quick* (20 000, cheap enough to retrain on a 2-core CPU). This build's claims
# stand for its own profile; the other edition's are read from its published claims
# (`results/<profile>/claims`, written by `icl publish-claims`). At the quick budget
# {glue:text}`score-quick-n-pass` of {glue:text}`score-quick-n-total` claims pass and
# {glue:text}`score-quick-n-fail` fail; at the paper budget {glue:text}`score-paper-n-pass` pass and
# {glue:text}`score-paper-n-fail` fail ({glue:text}`score-paper-not-run`; the table below). A claim
# whose status differs between the budgets is listed first: those are the ones the budget decides.

# %% tags=["remove-cell"]
editions = scorecard.glue_editions(tables)

# %% tags=["hide-input"]
display(Markdown(edition_table_markdown(editions)))

# %% [markdown]
# ### How the paper edition was trained
#
# Its models were trained with this book's engine on a 2-core CPU, the seeds of one configuration
# together, and published with their provenance (`results/paper/models/`: weights, snapshot
# circuits, a log-binned loss curve, the code commit, the machine, the wall time). Published:
# {glue:text}`score-paper-models` models, {glue:text}`score-paper-hours` hours of training summed
# over the groups (two groups trained at once, so the elapsed time was about half that), a median of
# {glue:text}`score-paper-rate` model-steps/s per group.
# Anyone can retrain a published model, or its first steps, and compare:
# `icl verify KEY --steps 2000` (bit for bit on a CPU).

# %% tags=["remove-cell"]
trained = scorecard.glue_paper_training()

# %% tags=["hide-input"]
display(trained)

# %% [markdown]
# By chapter: the models each chapter reads, how many of them are published, and the training
# time of the groups it is the first to need (a model read by several chapters counts once, for the
# first; a chapter that reads no trained model is not listed).

# %% tags=["hide-input"]
display(scorecard.paper_training_by_chapter())

# %% [markdown]
# ## Every claim, by chapter
#
# The same tables as at the end of each chapter, with their notes: why a claim fails, where its
# target and its tolerance come from.

# %% tags=["hide-input"]
for table in tables:
    display(Markdown(f"### {table.chapter}\n\n{table.summary().split(': ', 1)[1]}\n\n" + table.to_markdown()))
