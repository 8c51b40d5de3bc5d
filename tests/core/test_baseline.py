"""The engine computes the same mathematics as the straightforward implementation."""

import torch

from icl.core.baseline import NaiveAttention
from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig, Trainer
from icl.core.models import ModelConfig


def tokens(Z, x_q, y_q):
    """(B, L+1, D) token sequence with the query last."""
    zq = torch.cat([x_q, torch.zeros_like(y_q)], -1)
    return torch.cat([Z, zq[:, None]], 1)


def _adam_beside(tr, net, predict, steps):
    """torch.optim.Adam on `net` (prediction `predict(Z, x_q, y_q)` of one model) on the batches the engine
    `tr` draws, while the engine steps on them too; returns the baseline's losses (steps,)."""
    opt = torch.optim.Adam(net.parameters(), lr=tr.train.lr, betas=tr.train.betas, eps=tr.train.eps)
    losses = torch.empty(steps)
    with torch.no_grad():
        for i in range(steps):
            Z, xq, yq = tr.sample()
            with torch.enable_grad():
                loss = ((predict(Z[0], xq[0], yq[0]) - yq[0]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
            opt.step()
            losses[i] = loss.detach()
            tr.step_on(Z, xq, yq)
    return losses


def test_baseline_forward_equals_the_query_only_forward():
    task = TaskConfig()
    tr = Trainer(task, ModelConfig(heads=3), TrainConfig(steps=1, batch=64), [0], device="cpu")
    model = tr.model.double()
    Z, xq, yq = (t.double() for t in tr.sample())
    net = NaiveAttention.from_factors(model).double()
    with torch.no_grad():
        fast = model(Z, xq)[0]
        naive = net(tokens(Z[0], xq[0], yq[0]))
    assert ((fast - naive).abs().max() / naive.abs().max()).item() < 1e-10


def test_same_weights_and_batches_give_the_same_loss_trajectory():
    """1000 Adam steps in float32 from one initialisation on one stream of batches."""
    task, steps = TaskConfig(), 1000
    tr = Trainer(task, ModelConfig(heads=2), TrainConfig(steps=steps, batch=32), [4], device="cpu")
    net = NaiveAttention.from_factors(tr.model)
    naive_losses = _adam_beside(tr, net, lambda Z, xq, yq: net(tokens(Z, xq, yq)), steps)
    engine_losses = tr.losses[:, 0]
    rel = ((engine_losses - naive_losses).abs() / naive_losses.abs()).max().item()
    assert rel < 1e-4, rel
    assert naive_losses[-100:].mean() < 0.7 * naive_losses[:10].mean()  # it did learn something
    kq_naive = net.W_k.weight.view(2, 6, 6).transpose(-1, -2) @ net.W_q.weight.view(2, 6, 6) / 6**0.5
    assert torch.allclose(tr.model.kq()[0], kq_naive, atol=1e-3)


def test_authors_formulation_equals_the_engine_forward_and_trains_the_same():
    """The authors' query-only formulation (their src/models.py) computes our prediction and, with Adam on the same
    batches, the same loss trajectory (float32 rounding apart)."""
    from icl.core.baseline import AuthorsAttention

    task, steps = TaskConfig(), 300
    tr = Trainer(task, ModelConfig(heads=3), TrainConfig(steps=steps, batch=32), [5], device="cpu")
    Z, xq, yq = (t.double() for t in tr.sample())
    net = AuthorsAttention.from_factors(tr.model.double()).double()
    with torch.no_grad():
        assert torch.allclose(net(Z[0], xq[0]), tr.model(Z, xq)[0], rtol=1e-10, atol=1e-12)
    tr = Trainer(task, ModelConfig(heads=3), TrainConfig(steps=steps, batch=32), [5], device="cpu")
    net = AuthorsAttention.from_factors(tr.model)
    losses = _adam_beside(tr, net, lambda Z, xq, yq: net(Z, xq), steps)
    assert ((tr.losses[:, 0] - losses).abs() / losses.abs()).max().item() < 1e-4
