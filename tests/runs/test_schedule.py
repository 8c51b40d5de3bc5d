"""The plan's scheduler: pieces on shared prompt streams, balanced by cost, trained over processes
into the cache bit for bit as each group alone (issue 31)."""

import pytest
import torch

from icl.core.data import TaskConfig
from icl.runs.config import run_config
from icl.runs.profiles import get_profile
from icl.runs.schedule import make_pieces, projected_seconds, train_missing
from icl.runs.store import read_entry
from icl.runs.training import train_group

PROF = get_profile("smoke")
ISOTROPIC = TaskConfig()


def _group(heads, seeds=(0, 1), task=ISOTROPIC, **kw):
    return [run_config(PROF, heads=heads, seed=s, task=task, **kw) for s in seeds]


def test_pieces_share_streams_and_split_a_big_bundle_to_balance_the_workers():
    iso = [_group(h) for h in (1, 2, 3, 4)]  # one stream
    other = [_group(2, task=TaskConfig(d=3, L=24))]
    cost = (0.5, 1.0)  # (draw, update) seconds per step
    pieces = make_pieces(iso + other, [cost] * 5, workers=2)
    assert sum(len(p.groups) for p in pieces) == 5
    n = PROF.steps
    # the plan costs (0.5 + 4) n for the bundle and 1.5 n for the other: the bundle is cut in two,
    # each part paying one draw per step and its two groups' updates
    assert sorted(p.cost / n for p in pieces) == [1.5, 2.5, 2.5]
    for p in pieces:  # no piece mixes streams
        assert len({(g[0].task, tuple(c.train.seed for c in g)) for g in p.groups}) == 1
    assert [p.cost for p in pieces] == sorted((p.cost for p in pieces), reverse=True)
    one = make_pieces(iso, [cost] * 4, workers=1)
    assert len(one) == 1 and one[0].cost == 4.5 * n  # one draw for four groups
    with pytest.raises(ValueError, match="workers must be"):
        make_pieces(iso, [cost] * 4, workers=0)
    with pytest.raises(ValueError, match="costs must have"):
        make_pieces(iso, [cost], workers=2)


def test_projected_seconds_is_the_longest_first_makespan():
    assert projected_seconds([3, 3, 2, 2, 2], 2) == 7
    assert projected_seconds([5], 3) == 5


def test_train_missing_over_two_processes_equals_each_group_alone(tmp_path):
    groups = [_group(1), _group(2, normalisation="linear"), _group(2, seeds=(3,))]
    train_missing(groups, workers=2, cache_dir=tmp_path / "a", device="cpu", log=lambda *_: None)
    for g in groups:
        alone = train_group(g, tmp_path / "b", "cpu", False, 5_000, False)
        for c, ref in zip(g, alone):
            run = read_entry(tmp_path / "a" / c.key(), c)
            assert run is not None and torch.equal(run.factors, ref.factors)


def test_a_piece_passes_its_prefetch_choice_down_to_the_shared_stream(tmp_path, monkeypatch):
    import queue

    from icl.runs import schedule, training

    seen = {}

    class Stop(Exception):
        pass

    def fake_train_shared(trainers, **kw):
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(training, "train_shared", fake_train_shared)
    for choice in (False, True, None):
        with pytest.raises(Stop):
            schedule._train_piece([_group(1)], str(tmp_path), "cpu", False, 100, None, None, queue.Queue(), 0, choice)
        assert seen["prefetch"] is choice


def test_load_or_train_many_names_a_bad_workers_count(tmp_path):
    from icl.runs.load import load_or_train_many

    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="workers must be"):
            load_or_train_many(_group(1), cache_dir=tmp_path, workers=bad)


def test_a_worker_exits_when_its_parent_is_killed(tmp_path):
    """The pool's workers and the progress queue's manager carry an orphan guard: SIGKILL the process that
    started them (no `finally` runs) and they go too, instead of training (or idling) on beside the next leg."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    script = f"""
import multiprocessing, os, time
from icl.runs.schedule import _orphan_guard, _progress_queue
def task(path, q):
    q.put(1)
    open(path, "a").write(f"{{os.getpid()}}\\n")
    time.sleep(120)
if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    manager, q = _progress_queue(ctx)
    open({str(pids)!r} + ".manager", "w").write(str(manager._process.pid))
    pool = ctx.Pool(1, initializer=_orphan_guard, initargs=(os.getpid(), 0.2))
    pool.apply_async(task, ({str(pids)!r}, q))
    time.sleep(120)
"""
    (tmp_path / "parent.py").write_text(script)  # a file: spawn re-imports the parent's main module
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")])
    try:
        deadline = time.time() + 60
        while not (pids.exists() and pids.read_text().strip()) and time.time() < deadline:
            time.sleep(0.2)
        worker = int(pids.read_text().split()[0])
        manager = int((tmp_path / "pids.manager").read_text())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    for pid, name in ((worker, "worker"), (manager, "progress queue's manager")):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"the {name} outlived its parent by 10 s")


def test_checkpointed_steps_cost_nothing_and_a_lagging_group_draws_alone_until_it_catches_up():
    iso = [_group(h) for h in (1, 2)]
    n = PROF.steps
    cost = (0.5, 1.0)
    fresh = make_pieces(iso, [cost] * 2, workers=1)
    assert fresh[0].cost == 2.5 * n and fresh[0].model_steps == 4 * n and fresh[0].resumed == 0
    half, quarter = n // 2, n // 4
    (p,) = make_pieces(iso, [cost] * 2, workers=1, done=[half, quarter])
    # updates: (n - n/2) + (n - n/4); draws: shared from n/2 on (n/2), the second group's catch-up alone (n/4)
    assert p.cost == (n - half) + (n - quarter) + 0.5 * ((n - half) + (half - quarter))
    assert p.model_steps == 2 * (n - half) + 2 * (n - quarter) and p.resumed == 2 * half + 2 * quarter
    assert make_pieces(iso, [cost] * 2, workers=1, done=[None, None])[0].cost == fresh[0].cost
    with pytest.raises(ValueError, match="done must have"):
        make_pieces(iso, [cost] * 2, workers=1, done=[0])


def test_a_resumed_plan_counts_its_checkpoints_as_done_in_the_plan_and_the_bar(tmp_path, capsys):
    from icl.core.engine import Trainer
    from icl.pipeline.plan import Group, format_plan
    from icl.runs.training import checkpoint_path, checkpoint_step, save_checkpoint

    g = _group(1)
    c = g[0]
    tr = Trainer(c.task, c.model, c.train, [x.train.seed for x in g], device="cpu")
    tr.run(until=40)
    save_checkpoint(checkpoint_path(g, tmp_path), tr)
    assert checkpoint_step(g, tmp_path) == 40 and checkpoint_step(_group(2), tmp_path) is None
    logged = []
    train_missing([g], workers=1, cache_dir=tmp_path, device="cpu", log=logged.append)
    to_go = 2 * (PROF.steps - 40)
    assert f"({to_go:,} model-steps to go, 80 done in checkpoints)" in logged[0]
    bar = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert any(line.startswith("plan:") and f" 80/{2 * PROF.steps} " in line for line in bar)
    for c2 in g:
        assert read_entry(tmp_path / c2.key(), c2) is not None
    # the plan's table: what a checkpoint has done is not missing
    grp = Group(g, ["01_x"], "smoke", 0, 40)
    assert grp.missing_steps == to_go
    assert "checkpoint at step 40" in format_plan([grp], "smoke")
