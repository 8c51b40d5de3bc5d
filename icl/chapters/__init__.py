"""One module (or package) per chapter, named like its notebook and budget
(`ch03_loss_approximation`): the chapter's analysis, numbers, claims and figures. Imports core,
runs and book; never another chapter.

Every chapter has the same public face (`tests/test_architecture.py` checks it):

- `Study(ch)`: the chapter's evidence, lazy. Its constructor only keeps `ch` (the preamble's
  `icl.book.chapter.Chapter`); each expensive part (loading or training models, a Monte Carlo
  risk, an ODE solve) is a cached property computed on first use.
- `numbers(st) -> dict`: every number the prose shows, key → (value, str.format pattern), or key
  → str for text glued as it is. Pure: it reads the study and glues nothing; the notebook glues
  the whole dict in one visible call, `ch.glue_numbers(mod.numbers(st))`.
- `claims(ch, st)`: adds the chapter's claims to `ch.claims`.
- `plot_*(st, …) -> Figure`: one function per figure; the notebook glues it with
  `ch.figure(key, …)`.
- `configs(ch)`, in chapters that train: the models the chapter loads (read by `icl plan`).

Nothing under `icl.chapters` glues or shows anything itself. A chapter too long for one module
(600 lines) is a package whose `__init__` is this face: `analysis` (the Study), `report`
(numbers and claims), `figures` (plots), and topic modules where the chapter has parts.
"""
