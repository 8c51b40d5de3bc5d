"""Command line: `icl chapters`, `icl plan`, `icl sweep`, `icl verify`, `icl publish-claims`, `icl bench`."""

from __future__ import annotations

import argparse
import itertools
import sys


def _int_list(s: str) -> list[int]:
    try:
        return [int(x) for x in s.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {s!r}") from None


def _failure_line(err) -> str:
    """One line for a failed chapter: the exception raised in its kernel (papermill's `ename` and
    `evalue`, e.g. "CorruptPublication: the published model … is corrupt: …"), else the error's last line."""
    if getattr(err, "ename", None):
        return f"{err.ename}: {' '.join(str(err.evalue or '').split())}"
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[-1] if text else ''}"


def cmd_chapters(a):
    """Bad parameters (`icl.book.parameters`) raise ValueError before any kernel starts: `main` prints them
    as one message and exits 2. A chapter that fails prints one line and the command exits 1."""
    from .pipeline.execute import ChapterFailures, execute_chapters, parse_parameters

    if not a.param:  # the chapters' default models: say what they will train before they do
        _announce_missing(a.profile, a.only or None)
    try:
        execute_chapters(
            profile=a.profile,
            device=a.device,
            out_dir=a.out,
            only=a.only or None,
            parameters=parse_parameters(a.param),
            force=a.force,
            jobs=a.jobs,
        )
    except ChapterFailures as e:
        for name, err in e.failures.items():
            print(f"[chapters] FAILED: {name}: {_failure_line(err)}", file=sys.stderr)
        sys.exit(1)


def _announce_missing(profile: str, only) -> None:
    """One line on stderr when the chapters' models are neither published nor cached: the chapters will
    train them first (at the paper budget, hours on a CPU), and how to train them ahead."""
    from .pipeline.plan import plan

    groups = [g for g in plan(profile, only) if g.missing]
    if groups:
        chapters = sorted({c for g in groups for c in g.chapters})
        print(
            f"[chapters] {sum(g.missing for g in groups)} models of profile {profile} "
            f"({sum(g.missing_steps for g in groups):,} model-steps; {', '.join(chapters)}) are neither published "
            f"nor cached: the chapters train them first. `icl plan --profile {profile}` lists them; "
            f"`icl plan --profile {profile} --train` trains them ahead on every core.",
            file=sys.stderr,
            flush=True,
        )


def cmd_sweep(a):
    from dataclasses import replace

    from .core.data import TaskConfig
    from .runs.config import run_config
    from .runs.load import load_or_train_many
    from .runs.profiles import get_profile

    prof = get_profile(a.profile)
    if a.steps is not None:
        prof = replace(prof, steps=a.steps)
    if a.batch is not None:
        prof = replace(prof, batch=a.batch)
    task = TaskConfig(d=a.d, L=a.L, sigma2=a.sigma2, covariance=a.covariance, rho=a.rho)
    configs = [
        run_config(prof, heads=h, seed=s, task=task, normalisation=n, init=i)
        for h, s, n, i in itertools.product(a.heads, a.seeds, a.normalisation, a.init)
    ]
    compile = {"auto": "auto", "on": True, "off": False}[a.compile]
    executor = _executor(a)
    from .runs.executors import JobFailures

    try:
        runs = load_or_train_many(
            configs,
            cache_dir=a.cache_dir,
            device=a.device,
            progress=not a.quiet,
            compile=compile,
            executor=executor,
            workers=_workers(a),
        )
    except JobFailures as e:
        print(e, file=sys.stderr)
        sys.exit(1)
    for r in runs:
        c = r.config
        print(
            f"{c.key()}  H={c.model.heads} seed={c.train.seed} {c.model.normalisation:8s} "
            f"final loss {r.final_loss():.4f}"
        )


def _workers(a) -> int:
    """--workers, or one per core on a CPU and one on a GPU."""
    import os

    from .core.engine import resolve_device

    if a.workers is not None:
        if a.workers < 1:
            sys.exit(f"--workers must be >= 1, got {a.workers}")
        return a.workers
    return (os.cpu_count() or 1) if resolve_device(a.device).type == "cpu" else 1


def _executor(a):
    """The submitit executor the options name, or None (train in this process)."""
    if a.executor == "inprocess":
        return None
    from .runs.executors import SlurmOptions, make_executor

    opts = SlurmOptions(
        partition=a.partition,
        time_min=a.time,
        cpus=a.cpus,
        gpus=a.gpus,
        mem_gb=a.mem_gb,
        array_parallelism=a.array_parallelism,
    )
    return make_executor(a.executor, a.log_dir, opts)


def _executor_options(s):
    s.add_argument(
        "--executor",
        choices=["inprocess", "local", "slurm"],
        default="inprocess",
        help="inprocess: train here; local: one subprocess per group (submitit); slurm: one sbatch job per group",
    )
    s.add_argument("--partition", default=None, help="slurm partition")
    s.add_argument("--time", type=int, default=24 * 60, help="slurm: wall-time limit per job, minutes")
    s.add_argument("--cpus", type=int, default=2, help="slurm: CPUs per job")
    s.add_argument("--gpus", type=int, default=0, help="slurm: GPUs per job (then use --device auto)")
    s.add_argument("--mem-gb", type=float, default=8.0, help="slurm: memory per job, GB")
    s.add_argument("--array-parallelism", type=int, default=64, help="slurm: jobs running at once")
    s.add_argument("--log-dir", default="slurm_logs", help="submitit's folder for job scripts and logs")


def cmd_plan(a):
    from .pipeline.plan import format_plan, plan, train_plan
    from .runs.executors import JobFailures
    from .runs.publish import results_dir

    groups = plan(a.profile, a.only or None, cache_dir=a.cache_dir)
    print(format_plan(groups, a.profile), flush=True)
    publish = results_dir() if a.publish else None
    if not a.train:
        if publish is not None:
            from .pipeline.plan import publish_available

            publish_available(groups, cache_dir=a.cache_dir, publish_dir=publish)
        return
    try:
        train_plan(
            groups,
            workers=_workers(a),
            cache_dir=a.cache_dir,
            device=a.device,
            executor=_executor(a),
            publish_dir=publish,
            compile={"auto": "auto", "on": True, "off": False}[a.compile],
        )
    except JobFailures as e:
        print(e, file=sys.stderr)
        sys.exit(1)


def cmd_publish_claims(a):
    from .book.claims import publish_claims

    for path in publish_claims(a.profile, a.source):
        print(f"published {path}")


def cmd_verify(a):
    from .pipeline.verify import format_report, verify

    report = verify(a.key, steps=a.steps, device=a.device)
    print(format_report(report))
    sys.exit(report.exit_status)


def cmd_bench(a):
    import json

    from .pipeline.bench import format_table, plan_benchmark, run_benchmark

    if a.plan:
        prefetch = {None: None, "on": True, "off": False}[a.prefetch]
        chapters = a.chapters.split(",") if a.chapters else None
        print(
            json.dumps(
                plan_benchmark(a.plan, seconds=a.seconds, workers=a.workers, prefetch=prefetch, chapters=chapters)
            )
        )
        return

    result = run_benchmark(
        heads=a.heads,
        batched_models=a.models,
        batched_heads=a.batched_heads,
        device=a.device,
        seconds=a.seconds,
        out=a.out,
    )
    print()
    print(format_table(result))
    print(f"\nwritten to {a.out}")


def main(argv=None):
    p = argparse.ArgumentParser(prog="icl", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("chapters", help="execute the chapters with papermill")
    c.add_argument("--profile", default="quick", help="smoke | quick | paper")
    c.add_argument("--device", default="auto", help="auto | cpu | cuda")
    c.add_argument("--out", default="executed", help="folder for the executed notebooks")
    c.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a chapter parameter, e.g. -p d=10 -p L=80 -p sigma2=0.5 -p heads=[1,2]",
    )
    c.add_argument("--force", action="store_true", help="re-execute chapters whose inputs are unchanged")
    c.add_argument("--jobs", type=int, default=1, help="chapters executed at once (the book pages 9x run last)")
    c.add_argument("only", nargs="*", help="chapter names or prefixes (default: all)")
    c.set_defaults(func=cmd_chapters)

    s = sub.add_parser("sweep", help="train seeds × heads × normalisations into the cache (batched engine)")
    s.add_argument("--profile", default="quick")
    s.add_argument("--steps", type=int, default=None, help="override the profile's steps")
    s.add_argument("--heads", type=_int_list, default=[1, 2, 4])
    s.add_argument("--seeds", type=_int_list, default=[0])
    s.add_argument("--batch", type=int, default=None, help="override the profile's batch size")
    s.add_argument("--normalisation", nargs="+", default=["softmax"])
    s.add_argument("--init", nargs="+", default=["default"], help="default | opposite_identity")
    s.add_argument("--d", type=int, default=5)
    s.add_argument("--L", type=int, default=40)
    s.add_argument("--sigma2", type=float, default=0.1)
    s.add_argument("--covariance", default="isotropic")
    s.add_argument("--rho", type=float, default=0.5)
    s.add_argument("--device", default="auto")
    s.add_argument(
        "--compile",
        choices=["auto", "on", "off"],
        default="auto",
        help="torch.compile the gradient (auto: runs of >= 100k steps on a GPU)",
    )
    s.add_argument("--cache-dir", default=None, help="the result cache (must be on a shared file system for slurm)")
    s.add_argument(
        "--workers",
        type=int,
        default=None,
        help="inprocess executor: worker processes (default: one per core on a CPU, one on a GPU)",
    )
    _executor_options(s)
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_sweep)

    pl = sub.add_parser(
        "plan", help="the models the chapters need (groups, available, missing model-steps); --train trains them"
    )
    pl.add_argument("--profile", default="quick", help="smoke | quick | paper")
    pl.add_argument("--train", action="store_true", help="train every missing group")
    pl.add_argument(
        "--workers",
        type=int,
        default=None,
        help="inprocess executor: worker processes (default: one per core on a CPU, one on a GPU)",
    )
    pl.add_argument(
        "--publish",
        action="store_true",
        help="publish each group's models to results/<profile>/models as soon as it finishes "
        "(without --train: publish the cached ones)",
    )
    pl.add_argument("--device", default="auto")
    pl.add_argument(
        "--compile",
        choices=["auto", "on", "off"],
        default="auto",
        help="torch.compile the gradient (auto: runs of >= 100k steps on a GPU)",
    )
    pl.add_argument("--cache-dir", default=None, help="the result cache (must be on a shared file system for slurm)")
    _executor_options(pl)
    pl.add_argument("only", nargs="*", help="chapter names or prefixes (default: all)")
    pl.set_defaults(func=cmd_plan)

    pc = sub.add_parser(
        "publish-claims",
        help="publish the executed chapters' claims as the profile's edition (results/<profile>/claims)",
    )
    pc.add_argument("--profile", default="quick")
    pc.add_argument("--from", dest="source", default="executed/claims", help="the executed chapters' claims folder")
    pc.set_defaults(func=cmd_publish_claims)

    v = sub.add_parser(
        "verify", help="retrain a published model (or its first --steps steps) and compare with what was published"
    )
    v.add_argument("key", help="the published model's key (results/<profile>/models/<key>)")
    v.add_argument("--steps", type=int, default=None, help="retrain only this many steps (default: all)")
    v.add_argument("--device", default="cpu", help="cpu gives bit-identical agreement (eager)")
    v.set_defaults(func=cmd_verify)

    b = sub.add_parser(
        "bench",
        help="training speed: the authors' formulation (and a full-sequence one) vs the engine (steps/s, memory)",
    )
    b.add_argument("--heads", type=_int_list, default=[1, 2, 4, 8])
    b.add_argument("--models", type=int, default=8, help="models trained together in the batched measurement")
    b.add_argument("--batched-heads", type=int, default=4)
    b.add_argument("--seconds", type=float, default=4.0, help="wall time per measurement")
    b.add_argument("--device", default="auto")
    b.add_argument("--out", default="benchmarks/results/latest.json")
    b.add_argument(
        "--plan",
        default=None,
        help="instead: train this profile's plan (e.g. paper) for --seconds from an empty cache; the last line "
        "is a JSON object with model_steps_per_s and projected_hours",
    )
    b.add_argument("--workers", type=int, default=None, help="with --plan: worker processes (default: one per core)")
    b.add_argument(
        "--prefetch",
        choices=("on", "off"),
        default=None,
        help="with --plan: each worker draws its next batch in a second thread (default: on a CPU)",
    )
    b.add_argument("--chapters", default=None, help="with --plan: only these chapters' models (comma-separated)")
    b.set_defaults(func=cmd_bench)

    a = p.parse_args(argv)
    try:
        a.func(a)
    except ValueError as e:  # bad parameters: a clear message, not a traceback
        print(f"icl {a.cmd}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
