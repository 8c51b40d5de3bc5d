"""The authors' formulation against the engine on a GPU (`icl.pipeline.bench.measure`, a fresh process each),
one JSON line per row."""

import json
from dataclasses import asdict

from icl.pipeline.bench import measure

if __name__ == "__main__":
    for impl, heads, models in [
        ("authors", 2, 1),
        ("engine", 2, 1),
        ("authors", 4, 1),
        ("engine", 4, 1),
        ("engine", 4, 3),
    ]:
        m = measure(impl, heads, models, device="cuda", seconds=3)
        print(json.dumps(dict(asdict(m), model_steps_per_s=m.model_steps_per_s)), flush=True)
