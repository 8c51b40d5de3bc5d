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
# executed for this build. A failing claim is listed with the reason its chapter gives.

# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"

# %% tags=["remove-cell"]
import pandas as pd
from IPython.display import Markdown, display

from icl.claims import load_all_claims, load_tables

# %%
rows = load_all_claims()
if not rows:
    raise RuntimeError("no claims found: execute the chapters first (make book)")
df = pd.DataFrame(rows)
summary = df.groupby("chapter")["status"].value_counts().unstack(fill_value=0)
for col in ("pass", "fail", "not evaluated"):
    if col not in summary:
        summary[col] = 0
display(Markdown(f"Profile **{profile}**. {int((df.status == 'pass').sum())} claims pass, "
                 f"{int((df.status == 'fail').sum())} fail, {int((df.status == 'not evaluated').sum())} not evaluated."))
display(summary[["pass", "fail", "not evaluated"]])

# %% [markdown]
# ## Every claim, by chapter
#
# The same tables as at the end of each chapter; the notes say why a claim fails or what we chose.

# %%
for table in load_tables():
    display(Markdown(f"**{table.chapter}** — {table.summary().split(': ', 1)[1]}\n\n" + table.to_markdown()))
