"""Cache keys never change when a field is added: every published model's directory name is the key
of the config its meta.json stores (those were written before the fields added later existed)."""

import json
from pathlib import Path

import pytest

from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig
from icl.core.models import ModelConfig
from icl.runs.config import ADDED_FIELDS, RunConfig

RESULTS = Path(__file__).resolve().parents[2] / "results"
PUBLISHED = sorted(p for profile in ("quick", "paper") for p in (RESULTS / profile / "models").iterdir() if p.is_dir())

# computed before init_scale, prior and the optimiser fields existed
LITERAL = {
    "8b1ceefc415e1dac": RunConfig(),
    "243d13c90fd95c32": RunConfig(train=TrainConfig(steps=20_000, batch=256, seed=1), model=ModelConfig(heads=3)),
    "3ed4614049de674b": RunConfig(task=TaskConfig(supports=((1, 2), (3, 4)), shared_beta=False, convention="authors")),
}


def test_every_published_model_keeps_its_key():
    assert len(PUBLISHED) >= 100  # results/quick and results/paper are in the repository
    wrong = []
    for path in PUBLISHED:
        config = json.loads((path / "meta.json").read_text())["config"]
        if RunConfig.from_dict(config).key() != path.name:
            wrong.append(f"{path.parent.parent.name}/{path.name}")
    assert not wrong, f"keys changed: {wrong}"


@pytest.mark.parametrize("key", sorted(LITERAL))
def test_literal_keys_of_existing_configs(key):
    assert LITERAL[key].key() == key


def test_an_added_field_at_its_default_stays_out_of_the_dict_and_in_it_otherwise():
    d = RunConfig().to_dict()
    for part, names in ADDED_FIELDS.items():
        assert not set(names) & set(d[part])
    c = RunConfig(
        task=TaskConfig(prior="rademacher"),
        model=ModelConfig(init_scale=0.1),
        train=TrainConfig(optimizer="sgd", momentum=0.5, alpha=0.9, weight_decay=1e-4),
    )
    d = json.loads(json.dumps(c.to_dict()))
    assert d["task"]["prior"] == "rademacher" and d["model"]["init_scale"] == 0.1
    assert {k: d["train"][k] for k in ADDED_FIELDS["train"]} == {
        "optimizer": "sgd",
        "momentum": 0.5,
        "alpha": 0.9,
        "weight_decay": 1e-4,
    }
    assert RunConfig.from_dict(d) == c and len({c.key(), RunConfig().key()}) == 2
