"""Where training groups run: in this process (default), as local subprocesses, or as Slurm jobs.

A *group* is the configs of one model configuration that differ only in their seed: one `Trainer`
trains them together (`icl.runs.training`). With an executor other than "inprocess", each missing
group becomes one job through **submitit**: `local` runs the jobs as subprocesses of this machine
(submitit's LocalExecutor), `slurm` submits them with sbatch (one job per group, as a job array
limited to `array_parallelism` at once). A job trains its group into the cache and checkpoints
there as it goes, so the cache must be on a file system every node sees (`ICL_CACHE_DIR`).
Cache writes are atomic renames, so two jobs finishing the same key leave one valid entry.
Rerunning the command submits only what is still missing, and each job resumes from its
checkpoint.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .training import train_group

__all__ = ["SlurmOptions", "make_executor", "submit_groups", "JobFailures", "EXECUTORS"]

EXECUTORS = ("inprocess", "local", "slurm")


@dataclass(frozen=True)
class SlurmOptions:
    """sbatch options of a submission. time_min: wall-time limit per job (minutes); cpus: CPUs per job;
    gpus: GPUs per node (0: none); mem_gb: memory per job; array_parallelism: jobs running at once."""

    partition: str | None = None
    time_min: int = 24 * 60
    cpus: int = 2
    gpus: int = 0
    mem_gb: float = 8.0
    array_parallelism: int = 64
    extra: dict = field(default_factory=dict)  # any other submitit slurm_* parameter

    def __post_init__(self):
        for name in ("time_min", "cpus", "array_parallelism"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus < 0:
            raise ValueError(f"gpus must be an integer >= 0, got {self.gpus!r}")
        if not (isinstance(self.mem_gb, (int, float)) and self.mem_gb > 0):
            raise ValueError(f"mem_gb must be a number > 0, got {self.mem_gb!r}")


class JobFailures(RuntimeError):
    """Jobs that failed: `failed` maps a job id to (its state, its log path)."""

    def __init__(self, failed: dict):
        self.failed = failed
        lines = [f"job {j}: {state}, log {log}" for j, (state, log) in failed.items()]
        super().__init__(
            f"{len(failed)} training job(s) failed (rerun the command to resubmit only them):\n" + "\n".join(lines)
        )


def make_executor(kind: str, folder: str | os.PathLike, options: SlurmOptions | None = None):
    """A submitit executor: kind "local" (subprocesses here) or "slurm" (sbatch); logs in `folder`."""
    import submitit

    if kind not in ("local", "slurm"):
        raise ValueError(f"executor must be one of {EXECUTORS}, got {kind!r}")
    o = options or SlurmOptions()
    if kind == "local":
        ex = submitit.LocalExecutor(folder=str(folder))
        ex.update_parameters(timeout_min=o.time_min)
        return ex
    ex = submitit.SlurmExecutor(folder=str(folder))
    params = {
        "time": o.time_min,
        "cpus_per_task": o.cpus,
        "mem": f"{int(o.mem_gb * 1024)}M",
        "array_parallelism": o.array_parallelism,
        **o.extra,
    }
    if o.partition:
        params["partition"] = o.partition
    if o.gpus:
        params["gpus_per_node"] = o.gpus
    ex.update_parameters(**params)
    return ex


def _train_job(configs, cache_dir: str, device: str, checkpoint_every: int, compile):
    """The body of one job: train one group into the cache (resuming from its checkpoint); returns the keys."""
    runs = train_group(configs, Path(cache_dir), device, False, checkpoint_every, True, compile)
    return [r.config.key() for r in runs]


LOST_AFTER_S = 5.0  # a Slurm job absent from squeue this long without a result file has ended without one


def _slurm_queue(jobs) -> set | None:
    """Ids of our Slurm jobs still in squeue (array tasks as "id_index"); None for local jobs or without squeue."""
    import subprocess

    import submitit

    if not jobs or not isinstance(jobs[0], submitit.SlurmJob):
        return None
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return set(out.stdout.split())


def _in_queue(job_id: str, queued: set) -> bool:
    """squeue lists a pending array as "22_[0-3]" and a running task as "22_1"."""
    master = job_id.split("_")[0]
    return job_id in queued or master in queued or any(q.startswith(master + "_[") for q in queued)


def submit_groups(
    groups,
    executor,
    *,
    cache_dir,
    device="auto",
    checkpoint_every=5_000,
    compile="auto",
    progress: bool = True,
    poll_s: float = 1.0,
) -> list:
    """Submit one job per group and wait for all; a bar over jobs shows their states. Raises JobFailures
    naming each failed job with its log path (the others' results are in the cache)."""
    if not groups:
        return []
    with executor.batch():
        jobs = [executor.submit(_train_job, g, str(cache_dir), device, checkpoint_every, compile) for g in groups]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc=f"{len(jobs)} training job(s)", unit="job")
    gone_since: dict = {}  # Slurm jobs that left the queue without a result (submitit cannot tell without sacct)
    while True:
        queued = _slurm_queue(jobs)
        now = time.monotonic()
        for j in jobs:
            if queued is not None and not _in_queue(str(j.job_id), queued) and not j.done():
                gone_since.setdefault(str(j.job_id), now)
            else:
                gone_since.pop(str(j.job_id), None)
        lost = {k for k, t in gone_since.items() if now - t > LOST_AFTER_S}
        states = ["LOST" if str(j.job_id) in lost else j.state for j in jobs]
        finished = sum(j.done() or str(j.job_id) in lost for j in jobs)
        if bar is not None:
            bar.n = finished
            bar.set_postfix_str(", ".join(f"{s.lower()} {states.count(s)}" for s in sorted(set(states))))
            bar.refresh()
        if finished == len(jobs):
            break
        time.sleep(poll_s)
    if bar is not None:
        bar.close()
    failed, keys = {}, []
    for j, state in zip(jobs, states):
        if state == "LOST" and not j.done():
            failed[str(j.job_id)] = ("left the queue without a result (cancelled or killed)", str(j.paths.stderr))
            continue
        try:
            keys += j.result()
        except Exception as e:  # submitit raises the job's error (or a failed/cancelled state)
            failed[str(j.job_id)] = (f"{j.state}: {type(e).__name__}", str(j.paths.stderr))
    if failed:
        raise JobFailures(failed)
    return keys
