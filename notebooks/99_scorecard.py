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
from icl.claims import load_tables, scorecard_counts

tables = load_tables()
counts = scorecard_counts(tables)
for key, value in counts.items():
    glue_text(f"score-{key}", value)

# %% tags=["hide-input"]
display(counts.frame)

# %% [markdown]
# ## Every claim, by chapter
#
# The same tables as at the end of each chapter, with their notes: why a claim fails, where its
# target and its tolerance come from.

# %% tags=["hide-input"]
for table in tables:
    display(Markdown(f"### {table.chapter}\n\n{table.summary().split(': ', 1)[1]}\n\n" + table.to_markdown()))
