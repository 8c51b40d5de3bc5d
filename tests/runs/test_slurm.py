"""Training through submitit: local subprocesses and a real single-node Slurm (tests/slurm/cluster.sh).

`make test` starts the cluster before these tests and stops it after. Where no Slurm is up the Slurm
tests skip, saying so, unless ICL_REQUIRE_SLURM=1 (CI sets it), where they fail.
"""

import os
import shutil
import subprocess
import threading
import time

import pytest
import torch

from icl.core.data import TaskConfig
from icl.runs.config import run_config
from icl.runs.executors import JobFailures, SlurmOptions, make_executor, submit_groups
from icl.runs.load import load_or_train_many
from icl.runs.profiles import get_profile
from icl.runs.training import checkpoint_path

_USABLE = ("idle", "mix", "alloc", "completing")  # sinfo's %T of a node that takes (or queues) jobs


def _slurm_state(wait_s: float = 20.0) -> tuple[bool, str]:
    """Whether a controller answers with a node that takes jobs, and what `sinfo` said. A node between
    states (the "completing" of the previous test's jobs, "unknown" while slurmd registers) is waited for,
    up to wait_s."""
    if not shutil.which("sinfo"):
        return False, "no sinfo"
    deadline = time.monotonic() + wait_s
    while True:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
        said = (out.stdout + out.stderr).strip()
        if out.returncode != 0:
            return False, said  # no controller: nothing to wait for
        if any(s in out.stdout for s in _USABLE):
            return True, said
        if time.monotonic() > deadline:
            return False, said
        time.sleep(0.5)


def _need_slurm():
    up, said = _slurm_state()
    if not up:
        msg = f"no Slurm cluster is up here (start one with tests/slurm/cluster.sh start, as root); sinfo says {said!r}"
        if os.environ.get("ICL_REQUIRE_SLURM") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def _configs(heads, seeds=(0,), steps=60, batch=16, task=None):
    from dataclasses import replace

    prof = replace(get_profile("smoke"), steps=steps, batch=batch)
    task = task or TaskConfig(d=3, L=10)
    return [run_config(prof, heads=h, seed=s, task=task) for h in heads for s in seeds]


def _same(a, b):
    for x, y in zip(a, b):
        assert x.config.key() == y.config.key()
        assert torch.equal(x.factors, y.factors)
        assert (x.losses == y.losses).all()


def test_local_executor_matches_in_process_training(tmp_path):
    configs = _configs((1, 2), seeds=(0, 1))
    here = load_or_train_many(configs, cache_dir=tmp_path / "a", device="cpu", verbose=False)
    ex = make_executor("local", tmp_path / "logs")
    there = load_or_train_many(configs, cache_dir=tmp_path / "b", device="cpu", executor=ex)
    _same(here, there)
    assert there[0].provenance["host"]  # read back from the cache the job wrote
    # the job ran under the kernel set of the process that submitted it (icl pins it at import)
    assert there[0].provenance["arithmetic"]["pin"] == here[0].provenance["arithmetic"]["pin"]
    assert (
        there[0].provenance["arithmetic"]["torch_cpu_capability"]
        == here[0].provenance["arithmetic"]["torch_cpu_capability"]
    )


def test_slurm_sweep_of_four_groups_is_bit_identical_to_in_process(tmp_path):
    _need_slurm()
    configs = _configs((1, 2, 3, 4))
    here = load_or_train_many(configs, cache_dir=tmp_path / "a", device="cpu", verbose=False)
    ex = make_executor("slurm", tmp_path / "logs", SlurmOptions(partition="debug", time_min=10, cpus=1, mem_gb=1))
    there = load_or_train_many(configs, cache_dir=tmp_path / "b", device="cpu", executor=ex, progress=False)
    _same(here, there)
    assert (
        there[0].provenance["arithmetic"]["torch_cpu_capability"]
        == here[0].provenance["arithmetic"]["torch_cpu_capability"]
    )


def test_a_cancelled_job_is_named_and_its_rerun_resumes_to_the_same_result(tmp_path):
    _need_slurm()
    (config,) = _configs((2,), steps=8000, batch=256, task=TaskConfig())  # ~10 s: time to cancel it
    cache = tmp_path / "cache"
    ex = make_executor("slurm", tmp_path / "logs", SlurmOptions(partition="debug", time_min=10, cpus=1, mem_gb=1))
    ckpt = checkpoint_path([config], cache)
    errors = []

    def submit():
        try:
            submit_groups(
                [[config]], ex, cache_dir=cache, device="cpu", checkpoint_every=500, progress=False, poll_s=0.2
            )
        except JobFailures as e:
            errors.append(e)

    th = threading.Thread(target=submit)
    th.start()
    for _ in range(600):  # wait for its first checkpoint, then cancel it
        if ckpt.exists():
            break
        time.sleep(0.1)
    assert ckpt.exists(), "the job wrote no checkpoint"
    jobs = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True).stdout.split()
    assert jobs, "the job ended before it could be cancelled"
    subprocess.run(["scancel", *jobs], check=True)
    # submitit lets the job's python run on through scancel's SIGTERM, and this container's Slurm
    # (proctrack/linuxproc, no cgroups) does not always kill it after KillWait: on an idle machine it
    # then finished the 8 000 steps (4.6 s) and wrote its result. A cluster's cgroup kills what is left
    # of a cancelled job; so does this line (the job's command line names its log folder).
    subprocess.run(["pkill", "-KILL", "-f", str(tmp_path / "logs")])
    th.join(timeout=120)
    assert errors, "the cancelled job was not reported"
    ((job, (state, log)),) = errors[0].failed.items()
    assert "CANCEL" in state.upper() or "FAIL" in state.upper() and log.endswith(".err")
    assert not (cache / config.key()).exists()  # nothing half-written is in the cache

    resumed = load_or_train_many([config], cache_dir=cache, device="cpu", executor=ex, progress=False)[0]
    assert resumed.provenance["resumed_from_step"] > 0
    here = load_or_train_many([config], cache_dir=tmp_path / "ref", device="cpu", verbose=False)[0]
    _same([here], [resumed])


def test_two_overlapping_sweeps_share_one_cache_without_damage(tmp_path):
    configs = _configs((1, 2), seeds=(0,), steps=200)
    cache = tmp_path / "cache"
    results = []

    def sweep(i):
        ex = make_executor("local", tmp_path / f"logs{i}")
        results.append(load_or_train_many(configs, cache_dir=cache, device="cpu", executor=ex, progress=False))

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    _same(results[0], results[1])
    entries = sorted(p.name for p in cache.iterdir() if p.name != "partial")
    assert entries == sorted(c.key() for c in configs)  # one entry per key, no leftovers
    again = load_or_train_many(configs, cache_dir=cache, device="cpu", verbose=False)  # all valid: read, not trained
    _same(results[0], again)


def test_the_sbatch_script_carries_the_resource_options(tmp_path):
    opts = SlurmOptions(partition="gpu", time_min=90, cpus=8, gpus=1, mem_gb=16, array_parallelism=4)
    text = make_executor("slurm", tmp_path, opts)._make_submission_file_text("python -c 'print(1)'", "uid")
    for line in (
        "#SBATCH --partition=gpu",
        "#SBATCH --time=90",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --mem=16384M",
    ):
        assert line in text, line


def test_bad_options_name_the_parameter():
    with pytest.raises(ValueError, match="cpus"):
        SlurmOptions(cpus=0)
    with pytest.raises(ValueError, match="executor"):
        make_executor("kubernetes", "/tmp")


def test_plan_trains_a_chapters_missing_models_as_slurm_jobs(tmp_path, monkeypatch):
    """`icl plan --train --executor slurm` (what `make book EXECUTOR=slurm` runs): the missing group
    becomes a Slurm job; afterwards the plan has nothing left to train and the result equals
    in-process training."""
    _need_slurm()
    from icl.pipeline.plan import plan, train_plan

    monkeypatch.setenv("ICL_PUBLISHED", "0")
    groups = plan("smoke", ["05"], cache_dir=tmp_path / "cache")
    assert [g.missing for g in groups] == [1]
    train_plan(
        groups,
        cache_dir=tmp_path / "cache",
        device="cpu",
        executor=make_executor("slurm", tmp_path / "logs", SlurmOptions(time_min=10, mem_gb=2)),
    )
    assert plan("smoke", ["05"], cache_dir=tmp_path / "cache")[0].missing == 0
    here = load_or_train_many(groups[0].configs, cache_dir=tmp_path / "here", device="cpu", verbose=False)
    there = load_or_train_many(groups[0].configs, cache_dir=tmp_path / "cache", device="cpu", verbose=False)
    _same(here, there)
