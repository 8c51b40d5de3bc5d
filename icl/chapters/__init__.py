"""One module per chapter, named like its notebook and budget (`ch03_loss_approximation`): the
chapter's analysis, numbers, claims and figures. Imports core, runs and book; never another chapter."""
