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

from icl.chapter import glue_text
from icl.claims import budgets_side_by_side as side_by_side
from icl.claims import edition_table_markdown, load_tables, scorecard_counts

tables = load_tables()
counts = scorecard_counts(tables)
for key, value in counts.items():
    glue_text(f"score-{key}", value)

# %% tags=["hide-input"]
display(counts.frame)

# %% [markdown]
# ## The two budgets, side by side
#
# The book is published at two budgets: *quick* (20 000 Adam steps per model, the default on a
# 2-core CPU) and *paper* (the authors' 500 000). This build's claims stand for its own profile; the
# other edition's are read from its published claims (`results/<profile>/claims`, written by
# `icl publish-claims`). At the quick budget {glue:text}`score-quick-n-pass` of
# {glue:text}`score-quick-n-total` claims pass and {glue:text}`score-quick-n-fail` fail; at the paper
# budget {glue:text}`score-paper-n-pass` pass, {glue:text}`score-paper-n-fail` fail and
# {glue:text}`score-paper-n-not-run` have not been run yet (the table below). A claim whose
# status differs between the budgets is listed first: those are the ones the budget decides.

# %% tags=["remove-cell"]
editions, edition_counts = side_by_side(tables)
for prof, n in edition_counts.items():
    for k, v in n.items():
        glue_text(f"score-{prof}-n-{k.replace(' ', '-')}", v)
    glue_text(f"score-{prof}-n-total", sum(v for k, v in n.items() if k != "not run"))

# %% tags=["hide-input"]
display(Markdown(edition_table_markdown(editions)))

# %% [markdown]
# ## Every claim, by chapter
#
# The same tables as at the end of each chapter, with their notes: why a claim fails, where its
# target and its tolerance come from.

# %% tags=["hide-input"]
for table in tables:
    display(Markdown(f"### {table.chapter}\n\n{table.summary().split(': ', 1)[1]}\n\n" + table.to_markdown()))
