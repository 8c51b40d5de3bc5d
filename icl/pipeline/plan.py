"""Which models each chapter needs, without executing it: `icl plan`.

Every chapter that trains declares its models in its module, `icl.chapters.chNN_name`, as
`configs(ch)` (the same function the chapter itself calls, so the plan cannot drift from what the
chapter loads). A *group*
is the configs that differ only in their seed: one `Trainer` trains them together
(`icl.runs.load.load_or_train_many`), and one executor job trains one group. The plan merges the
chapters' configs (a model two chapters share is trained once), splits them into groups, and
says which are cached (or published, `icl.runs.publish`) and how many model-steps are missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from ..runs.config import RunConfig
from ..runs.load import cached_run, load_or_train_many
from ..runs.store import default_cache_dir
from ..runs.training import checkpoint_step

__all__ = ["trains", "Group", "chapter_configs", "plan", "format_plan", "train_plan", "publish_available"]


def _chapter_module(chapter: str):
    """The chapter's module, `icl.chapters.ch<chapter>`, or None when the chapter has none (a book page)."""
    try:
        return import_module(f"icl.chapters.ch{chapter}")
    except ModuleNotFoundError:
        return None


def trains(chapter: str) -> bool:
    """Whether `chapter` loads trained models: its module lists them in `configs(ch)`."""
    module = _chapter_module(chapter)
    return module is not None and hasattr(module, "configs")


def _task_defaults(chapter: str) -> dict | None:
    if chapter == "10_multitask_superposition":
        from ..chapters.ch10_multitask_superposition import task_params

        return task_params()
    return None


def chapter_configs(chapter: str, profile: str, **params) -> list[RunConfig]:
    """The models `chapter` loads under `profile` with the papermill `params` (None: defaults)."""
    from ..book.chapter import start
    from .execute import chapter_sources

    if chapter == "98_rerun":  # the rerun page executes chapter 01 with other parameters (default EXAMPLE)
        from .rerun import CHAPTER, EXAMPLE

        rerun = params.get("rerun")
        return chapter_configs(CHAPTER, profile, **(EXAMPLE if rerun is None else rerun))
    if not trains(chapter):
        names = [p.stem for p in chapter_sources()]
        if chapter not in names:
            raise ValueError(f"chapter must be one of {names}, got {chapter!r}")
        return []
    ch = start(chapter, profile, "cpu", task_defaults=_task_defaults(chapter), **params)
    return list(_chapter_module(chapter).configs(ch))


@dataclass
class Group:
    """Configs trained together (same config but the seed), the chapters that read them, and how many
    are already available (in the cache or published)."""

    configs: list
    chapters: list
    profile: str
    available: int = 0
    checkpoint_step: int | None = None  # the step a checkpoint of the missing models has reached

    @property
    def key(self) -> str:
        return self.configs[0].with_seed(0).key()

    @property
    def missing(self) -> int:
        return len(self.configs) - self.available

    @property
    def model_steps(self) -> int:
        return sum(c.train.steps for c in self.configs)

    @property
    def missing_steps(self) -> int:
        """Model-steps still to train: the missing models' steps, less what their checkpoint has done."""
        return self.missing * (self.configs[0].train.steps - (self.checkpoint_step or 0)) if self.missing else 0

    def label(self) -> str:
        c = self.configs[0]
        t, m = c.task, c.model
        task = f"d={t.d} L={t.L} σ²={t.sigma2:g}"
        if t.covariance != "isotropic":
            task += f" {t.covariance} ρ={t.rho:g}"
        if t.n_tasks > 1:
            task += f" T={t.n_tasks}"
        if t.prior != "gaussian":
            task += f" prior={t.prior}"
        init = "" if m.init == "default" else f" init={m.init}"
        init += "" if m.init_scale == 1.0 else f" init×{m.init_scale:g}"
        tr, opt = c.train, ""
        if (tr.optimizer, tr.lr, tr.batch) != ("adam", 1e-3, 256) or tr.weight_decay:
            opt = f" {tr.optimizer} lr={tr.lr:g} batch={tr.batch}" + (
                f" wd={tr.weight_decay:g}" if tr.weight_decay else ""
            )
        seeds = ",".join(str(c.train.seed) for c in self.configs)
        return f"H={m.heads} {m.normalisation}{init} {task}{opt} seeds {seeds} × {c.train.steps:,} steps"


def plan(profile: str, chapters=None, *, cache_dir=None, max_models: int = 16) -> list[Group]:
    """The groups of every model the chosen chapters (default: all) need, in book order, each model
    once, with how many of each group are already available."""
    from .execute import chapter_sources

    names = [p.stem for p in chapter_sources(only=list(chapters) if chapters else None)]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    by_group: dict[str, list] = {}  # seed-0 key → [configs, chapters]
    seen: set = set()
    for name in names:
        for c in chapter_configs(name, profile):
            g = by_group.setdefault(c.with_seed(0).key(), [[], []])
            if name not in g[1]:
                g[1].append(name)
            if c.key() not in seen:
                seen.add(c.key())
                g[0].append(c)
    groups = []
    for cfgs, chs in by_group.values():
        cfgs = sorted(cfgs, key=lambda c: c.train.seed)
        for i in range(0, len(cfgs), max_models):
            part = cfgs[i : i + max_models]
            missing = [c for c in part if cached_run(c, cache) is None]
            groups.append(Group(part, chs, profile, len(part) - len(missing), checkpoint_step(missing, cache)))
    return groups


def format_plan(groups: list[Group], profile: str) -> str:
    """The plan as a table: one line per group, then the totals."""
    lines = [f"{'group':16s}  {'models':>6s}  {'avail':>5s}  {'missing model-steps':>19s}  chapters / configuration"]
    for g in groups:
        chs = ",".join(n[:2] for n in g.chapters)
        at = "" if g.checkpoint_step is None else f"  (checkpoint at step {g.checkpoint_step:,})"
        lines.append(
            f"{g.key:16s}  {len(g.configs):6d}  {g.available:5d}  {g.missing_steps:19,d}  [{chs}] {g.label()}{at}"
        )
    total = sum(len(g.configs) for g in groups)
    avail = sum(g.available for g in groups)
    lines.append(
        f"profile {profile}: {len(groups)} groups, {total} models ({avail} available, {total - avail} to train), "
        f"{sum(g.missing_steps for g in groups):,} of {sum(g.model_steps for g in groups):,} model-steps missing"
    )
    return "\n".join(lines)


def train_plan(
    groups: list[Group],
    *,
    workers: int = 1,
    cache_dir=None,
    device="auto",
    executor=None,
    publish_dir=None,
    compile="auto",
    log=print,
) -> None:
    """Train every group with missing models over `workers` processes (`train_missing`: groups on one
    prompt stream together, pieces of balanced measured cost, each group checkpointing into the cache
    and resuming from there), or one job per group through a submitit `executor`. publish_dir: publish
    each group's models there as soon as its piece finishes.
    compile: the engine's torch.compile choice (True, False, "auto": long runs on a GPU)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    todo = [g for g in groups if g.missing]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not todo:
        log("[plan] every model is available: nothing to train")
        return
    if executor is not None:
        load_or_train_many(
            [c for g in todo for c in g.configs],
            cache_dir=cache,
            device=device,
            executor=executor,
            progress=True,
            compile=compile,
        )
        if publish_dir is not None:
            from ..runs.publish import publish_run

            for g in todo:
                for c in g.configs:
                    publish_run(cached_run(c, cache), publish_dir, g.profile)
        return
    from ..runs.schedule import train_missing

    train_missing(
        [[c for c in g.configs if cached_run(c, cache) is None] for g in todo],
        workers=workers,
        cache_dir=cache,
        device=device,
        publish_dir=publish_dir,
        profile=todo[0].profile,
        compile=compile,
        done=[g.checkpoint_step for g in todo],
        log=log,
    )


def publish_available(groups: list[Group], *, cache_dir=None, publish_dir=None, log=print) -> int:
    """Publish every model of `groups` that is in the cache and not yet published; returns how many."""
    from ..runs.publish import publish_run, published_path

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    n = 0
    for g in groups:
        for c in g.configs:
            if published_path(c.key(), publish_dir) is not None:
                continue
            run = cached_run(c, cache)
            if run is not None and run.losses is not None:
                publish_run(run, publish_dir, g.profile)
                n += 1
    log(f"[plan] published {n} model(s) from the cache")
    return n
