"""Runs: a configuration, its trained result, where results are kept (cache, publication) and how
groups are trained (here, in local subprocesses or Slurm jobs). Imports the model and the engine,
never the book or the chapters."""
