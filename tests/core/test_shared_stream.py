"""Groups that share a prompt stream train bit for bit as they do alone (issue 31)."""

import pytest
import torch

from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig, Trainer
from icl.core.models import ModelConfig
from icl.core.shared_stream import stream_key, train_shared

TASK = TaskConfig()
TRAIN = TrainConfig(steps=90, batch=32, n_snapshots=5)
KINDS = [  # three kinds of model: head counts, a normalisation, an initialisation, a learning rate
    (ModelConfig(heads=2), TRAIN),
    (ModelConfig(heads=4, normalisation="linear"), TRAIN),
    (ModelConfig(heads=3, init="opposite_identity"), TrainConfig(steps=60, batch=32, n_snapshots=5, lr=3e-3)),
]


def _alone(model, train, seeds):
    return Trainer(TASK, model, train, seeds, device="cpu").run(chunk=25)


@pytest.mark.parametrize("prefetch", [False, True])
def test_shared_stream_trains_every_group_as_it_trains_alone(prefetch):
    seeds = [0, 2]
    shared = [Trainer(TASK, m, t, seeds, device="cpu") for m, t in KINDS]
    done = []
    train_shared(shared, chunk=25, prefetch=prefetch, on_steps=done.append)
    assert sum(done) == 2 * (90 + 90 + 60)
    for (m, t), tr in zip(KINDS, shared):
        ref = _alone(m, t, seeds)
        assert tr.step == t.steps
        assert torch.equal(tr.losses, ref.losses) and torch.equal(tr.theta, ref.theta)
        assert torch.equal(tr.snap_kq, ref.snap_kq)
        assert all(torch.equal(a.get_state(), b.get_state()) for a, b in zip(tr.generators, ref.generators))


def test_a_shared_run_resumes_from_its_checkpoints_bit_for_bit():
    seeds = [1]
    first = [Trainer(TASK, m, t, seeds, device="cpu") for m, t in KINDS[:2]]
    for t in first:
        t.run(until=50, chunk=25)  # as if stopped at step 50, one group checkpointed only at 25
    states = [first[0].state_dict(), Trainer(TASK, *KINDS[1], seeds, device="cpu").run(until=25).state_dict()]
    resumed = [Trainer(TASK, m, t, seeds, device="cpu").load_state_dict(s) for (m, t), s in zip(KINDS[:2], states)]
    train_shared(resumed, chunk=25)
    for (m, t), tr in zip(KINDS[:2], resumed):
        ref = _alone(m, t, seeds)
        assert torch.equal(tr.theta, ref.theta) and torch.equal(tr.losses, ref.losses)


def test_groups_on_different_streams_are_refused():
    a = Trainer(TASK, ModelConfig(heads=2), TRAIN, [0], device="cpu")
    b = Trainer(TASK, ModelConfig(heads=2), TRAIN, [1], device="cpu")
    c = Trainer(TaskConfig(d=3, L=24), ModelConfig(heads=2), TRAIN, [0], device="cpu")
    assert stream_key(a) != stream_key(b)
    for other in (b, c):
        with pytest.raises(ValueError, match="share one prompt stream"):
            train_shared([a, other])
    with pytest.raises(ValueError, match="chunk must be"):
        train_shared([a], chunk=0)
