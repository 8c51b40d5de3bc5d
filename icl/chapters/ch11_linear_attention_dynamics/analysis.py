"""Chapter 11's studies: each setting trained both ways (population flow and GD on sampled sequences), read by the
chapter's detector, and gathered in a lazy `Study` (the mathematics is in `dynamics` and `linear_softmax`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .dynamics import (
    Params,
    Setting,
    Trajectory,
    c_d,
    converged_loss,
    detect_drops,
    eigen_contributions,
    escape_slope,
    flow,
    gd,
    halfway_time,
    init_merged,
    init_separate,
    pcr_gaps,
    plateau_losses,
    plateau_readings,
    sample_sequences,
    scalar_ode,
    setting,
    white_init,
    white_loss,
)
from .linear_softmax import SoftmaxRun, sample_tokens, softmax_gd

__all__ = [
    "Run",
    "run_both",
    "Readings",
    "read",
    "learned_order",
    "plateau_durations",
    "plateau_indices",
    "detector_floor",
    "learning_times",
    "time_law_slopes",
    "max_rel",
    "SCALAR_START",
    "scalar_comparison",
    "scalar_gaps",
    "Summary",
    "Study",
]


# ----------------------------------------------------------------------------- training both ways
def _times(T: float, n: int, t0: float) -> np.ndarray:
    return np.geomspace(t0, T, n)


def _steps(T: float, lr: float, n: int) -> tuple[int, np.ndarray]:
    steps = int(round(T / (2 * lr)))
    return steps, np.unique(np.geomspace(1, steps, n).astype(int))


@dataclass
class Run:
    """One setting trained both ways: the population flow and GD on sampled sequences (from the same init)."""

    s: Setting
    flow: Trajectory
    gd: Trajectory | None = None
    y0: np.ndarray | None = None  # the common initial parameters


def run_both(s: Setting, p: Params, y0, T: float, lr: float, b, with_gd: bool = True) -> Run:
    """Flow on a ln-t grid from 2·lr to T, and GD at rate lr for T/(2 lr) steps on b.sequences sequences."""
    fl = flow(p, y0, s, _times(T, b.n_times, 2 * lr))
    if not with_gd:
        return Run(s, fl, None, y0)
    steps, rec = _steps(T, lr, b.n_times)
    return Run(s, fl, gd(p, y0, s, sample_sequences(s, b.sequences, b.seed + 1), lr, steps, rec), y0)


# ----------------------------------------------------------------------------- readings
@dataclass
class Readings:
    """What the claims read off a loss curve: its drops, its plateau losses (flattest points) and their indices."""

    drops: list
    plateaus: np.ndarray
    idx: np.ndarray


def read(traj: Trajectory, tol) -> Readings:
    """Drops (with the chapter's detector threshold) and plateau readings of a trajectory's population loss."""
    drops = detect_drops(traj.t, traj.loss, tol.drop_threshold, tol.drop_min_frac)
    return Readings(drops, *plateau_readings(traj.t, traj.loss, drops))


def learned_order(traj: Trajectory, s: Setting, r: Readings) -> list[int]:
    """On each plateau after the first (m = 1, 2, …): how many eigen-directions carry at least half of their converged
    Γ (summed over heads), in the order d = 1..D — [1, 2, …] when e_1, e_2, … are learned one per drop."""
    frac = eigen_contributions(traj, s).sum(axis=1)  # (n_t, D)
    return [
        int(np.sum(frac[i] > 0.5)) if np.all((frac[i] > 0.5) == (np.arange(s.D) < np.sum(frac[i] > 0.5))) else -1
        for i in r.idx[1:]
    ]


def plateau_durations(r: Readings) -> np.ndarray:
    """Durations of the plateaus between consecutive drops (m = 1 … n_drops − 1): t_start(m+1) − t_end(m)."""
    return np.array([b.t_start - a.t_end for a, b in zip(r.drops[:-1], r.drops[1:])])


def max_rel(measured, target) -> float:
    return float(np.max(np.abs(np.asarray(measured) - np.asarray(target)) / np.abs(np.asarray(target))))


def detector_floor(s: Setting, tol) -> float:
    """The detector's smallest counted drop for setting s: tol.drop_min_frac, or half the smallest step
    L(M_{m−1}) − L(M_m) (as a share of the whole descent) where that is smaller. The budget's 2 % is chosen so that
    the smallest step the paper predicts always counts, which holds at D = 4 (9 %) but not at D = 8 (1.6 %)."""
    lv = plateau_losses(s)
    return float(min(tol.drop_min_frac, 0.5 * np.min(-np.diff(lv)) / (lv[0] - lv[-1])))


def plateau_indices(traj: Trajectory, s: Setting, tol, floor: float | None = None) -> list[int]:
    """The m whose L(M_m) some plateau of the curve sits at (within tol.loss_rel), by the chapter's detector with
    the floor `floor` (None: `detector_floor(s, tol)`)."""
    levels = plateau_losses(s)
    r = read(traj, dataclasses.replace(tol, drop_min_frac=detector_floor(s, tol) if floor is None else floor))
    return sorted({m for x in r.plateaus for m, Lm in enumerate(levels) if abs(x - Lm) <= tol.loss_rel * Lm})


def learning_times(traj: Trajectory, s: Setting) -> np.ndarray:
    """(D,): the time t_m at which the loss first crosses half-way from L(M_{m−1}) to L(M_m) (ln-t interpolated),
    counted from the start t = 0: when e_m is learned. NaN for a step the run does not complete."""
    lv = plateau_losses(s)
    return np.array(
        [
            halfway_time(traj.t, traj.loss, lv[m], lv[m + 1]) if traj.loss[-1] < (lv[m] + lv[m + 1]) / 2 else np.nan
            for m in range(s.D)
        ]
    )


def time_law_slopes(times: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Per seed (rows of times, (seeds, D)), the least-squares slope of ln t_m against ln λ_m (−2 for t ∝ λ⁻²);
    seeds with a missing time are left out."""
    full = times[~np.isnan(times).any(axis=1)]
    return np.array([np.polyfit(np.log(lam), np.log(row), 1)[0] for row in full])


SCALAR_START = 1e-3  # the share of its direction at which a new head is compared with the scalar ODE


def scalar_comparison(run: Run, start_share: float = SCALAR_START, n: int = 4000) -> list[dict]:
    """For each direction e_m: the head that ends up carrying it, its effective scale (its share of Γ_mm times
    (λ_m c_m)⁻¹, to the power 1/3: v when k = q = v·e_m) on a dense flow, and the scalar ODE started from it
    when the share first reaches `start_share`. Returns per m: t (from that moment), model, ode."""
    s = run.s
    tr = flow(run.flow.p, run.y0, s, np.linspace(0, run.flow.t[-1], n))
    share, c = eigen_contributions(tr, s), c_d(s)
    out = []
    for m in range(s.D):
        i = int(np.argmax(share[-1, :, m]))
        k = int(np.argmax(share[:, i, m] >= start_share))
        veff = np.cbrt(np.clip(share[k:, i, m], 0, None) / (s.lam[m] * c[m]))
        t = tr.t[k:] - tr.t[k]
        out.append({"m": m + 1, "head": i + 1, "t": t, "model": veff, "ode": scalar_ode(s.lam[m], c[m], veff[0], t)})
    return out


def scalar_gaps(comp: list[dict]) -> list[float]:
    """Per direction e_m: the largest deviation of the head's effective scale from the scalar ODE, over the ODE's
    final value."""
    return [float(np.max(np.abs(c["model"] - c["ode"])) / np.max(c["ode"])) for c in comp]


# ----------------------------------------------------------------------------- the study
@dataclass
class Summary:
    """Every number the chapter's prose and claims use, read from the studies (`Study.summary`)."""

    merged: Readings
    merged_final: float
    converged: float
    trace: float
    escape_times: np.ndarray  # (inits,): half-way times of GD from one init direction at each scale
    escape_slope: float
    escape_slope_theory: float
    merged_rests: dict  # (seed, init) → the plateau levels of that GD run that are neither tr Λ nor L(Γ*)
    white_dev: float
    white_D: int
    sep: Readings
    sep_s: Setting
    sep_targets: np.ndarray
    sep_order: list
    sep_durations: np.ndarray
    sep_final: float
    sep_converged: float
    pcr: np.ndarray
    stall_final: float
    stall_target: float
    rank_floor: float  # the detector's floor for D = ranks_D (`detector_floor`)
    rank_drops: dict
    rank_plateaus: dict
    rank_plateaus_budget_floor: dict  # the same with the budget's floor tol.drop_min_frac
    rank_final: dict
    ranks_targets: np.ndarray
    seed_durations: np.ndarray  # (seeds, D − 1): `Study.seeds`
    seed_times: np.ndarray  # (seeds, D): `Study.seeds`, when e_m is learned
    scalar_gaps: list  # per direction: `scalar_gaps` of `Study.comparison`

    @property
    def median_durations(self) -> np.ndarray:
        """Per plateau m = 1 … D − 1, the median duration over the seeds that show all D drops."""
        full = self.seed_durations[~np.isnan(self.seed_durations).any(axis=1)]
        return np.median(full, axis=0) if len(full) else np.full(self.seed_durations.shape[1], np.nan)

    @property
    def two_rest_share(self) -> float:
        """The share of the merged GD runs (seeds × init scales) whose loss rests only at tr Λ and L(Γ*)."""
        return float(np.mean([not v for v in self.merged_rests.values()]))

    @property
    def law_slopes(self) -> np.ndarray:
        """Per seed that learns every direction, the slope of ln t_m against ln λ_m (`time_law_slopes`)."""
        return time_law_slopes(self.seed_times, self.sep_s.lam)

    @property
    def law_slope(self) -> tuple[float, float]:
        """(mean, standard error) of `law_slopes` over the seeds (NaN with fewer than two)."""
        x = self.law_slopes
        return (float(np.mean(x)), float(np.std(x, ddof=1) / np.sqrt(len(x)))) if len(x) > 1 else (np.nan, np.nan)

    @property
    def ordered_seeds(self) -> tuple[int, int]:
        """(seeds whose own durations strictly increase, seeds that show all D drops)."""
        full = self.seed_durations[~np.isnan(self.seed_durations).any(axis=1)]
        return int(np.sum(np.all(np.diff(full, axis=1) > 0, axis=1))), len(full)


class Study:
    """Chapter 11's evidence, lazy: the merged model (their Fig. 1), separate rank-one heads (Fig. 3), the plateau
    durations over init seeds, heads of rank R (Fig. 4), each new head against the scalar ODE, the softmax versions
    (Fig. 5), and the `Summary` the prose and the claims read."""

    def __init__(self, ch):
        self.ch = ch

    @cached_property
    def merged(self) -> dict:
        """Fig. 1: merged D = merged_D, H = merged_H (flow + GD), "main"; the init scan (flow), "scan"
        (init → trajectory); white Λ (flow + GD), "white", from Γ(0) = white_s0·I; "starts": GD on the main run's
        sequences from `duration_seeds` init seeds × the scales `merged_inits`, (seed offset, init) → trajectory
        (offset 0 is the scan's direction)."""
        b = self.ch.budget
        s = setting(b.merged_D, b.N, b.seed)
        main = run_both(s, *init_merged(b.merged_H, s.D, b.merged_init, b.N, b.seed), b.merged_T, b.merged_lr, b)
        _, direction = init_merged(b.merged_H, s.D, 1.0, b.N, b.seed)
        scan = {
            e: flow(Params("merged", b.merged_H, s.D), e * direction, s, _times(b.merged_T, b.n_times, 0.1))
            for e in b.merged_inits
        }
        white = setting(b.merged_D, b.N, b.seed, lam=np.ones(b.merged_D))
        wrun = run_both(white, *white_init(b.merged_H, s.D, b.white_init), b.white_T, b.white_lr, b)
        data, (steps, rec) = sample_sequences(s, b.sequences, b.seed + 1), _steps(b.merged_T, b.merged_lr, b.n_times)
        starts = {
            (k, e): gd(*init_merged(b.merged_H, s.D, e, b.N, b.seed + k), s, data, b.merged_lr, steps, rec)
            for k in range(b.duration_seeds)
            for e in b.merged_inits
        }
        return {
            "main": main,
            "scan": scan,
            "white": wrun,
            "white_s0": b.merged_H * b.white_init**2 / np.sqrt(s.D),
            "starts": starts,
        }

    @cached_property
    def separate(self) -> dict:
        """Fig. 3: separate rank one, D = sep_D, H = sep_H (flow + GD), "main"; H = stall_H < D (flow), "stall"."""
        b = self.ch.budget
        s = setting(b.sep_D, b.N, b.seed)
        main = run_both(s, *init_separate(b.sep_H, s.D, 1, b.sep_init, b.N, b.seed), b.sep_T, b.sep_lr, b)
        stall = run_both(
            s, *init_separate(b.stall_H, s.D, 1, b.sep_init, b.N, b.seed), b.sep_T, b.sep_lr, b, with_gd=False
        )
        return {"main": main, "stall": stall}

    @cached_property
    def seeds(self) -> dict:
        """The separate rank-one model's flow from `duration_seeds` init seeds, read two ways: "durations" (seeds,
        D − 1), the plateau durations between the detector's drops (`read` with `ch.tol`), NaN where a run shows
        fewer than D drops by `duration_T`; "times" (seeds, D), when each e_m is learned (`learning_times`)."""
        b = self.ch.budget
        s, out = setting(b.sep_D, b.N, b.seed), np.full((b.duration_seeds, b.sep_D - 1), np.nan)
        times = np.full((b.duration_seeds, b.sep_D), np.nan)
        for k in range(b.duration_seeds):
            tr = flow(
                *init_separate(b.sep_H, s.D, 1, b.sep_init, b.N, b.seed + k), s, _times(b.duration_T, b.n_times, 0.1)
            )
            dur = plateau_durations(read(tr, self.ch.tol))
            out[k, : min(len(dur), s.D - 1)] = dur[: s.D - 1]
            times[k] = learning_times(tr, s)
        return {"durations": out, "times": times}

    @cached_property
    def ranks(self) -> dict:
        """Fig. 4: D = ranks_D, H = ranks_H heads of rank R for each R in `ranks` (flow): R → trajectory."""
        b = self.ch.budget
        s = setting(b.ranks_D, b.N, b.seed)
        return {
            R: flow(
                *init_separate(b.ranks_H, s.D, R, b.ranks_init, b.N, b.seed),
                s,
                _times(b.ranks_T, b.n_times, 1.0),
                method="LSODA",
            )
            for R in b.ranks
        }

    @cached_property
    def comparison(self) -> list[dict]:
        """Each newly learning head of the separate model against the scalar ODE (`scalar_comparison`)."""
        return scalar_comparison(self.separate["main"])

    @cached_property
    def summary(self) -> Summary:
        """The studies read: detector, plateaus, escape times, white-Λ deviation, PCR gaps on fresh prompts, the
        durations over seeds and the scalar-ODE gaps."""
        b, tol = self.ch.budget, self.ch.tol
        merged, sep, ranks = self.merged, self.separate, self.ranks
        m, s = merged["main"], merged["main"].s
        L0, Ls = s.trace, converged_loss(s)
        esc = np.array([halfway_time(tr.t, tr.loss, L0, Ls) for (k, _), tr in merged["starts"].items() if k == 0])
        rests = {
            key: [x for x in read(tr, tol).plateaus if min(abs(x - L0) / L0, abs(x - Ls) / Ls) > tol.loss_rel]
            for key, tr in merged["starts"].items()
        }
        w = merged["white"]
        sw = w.s
        white_dev = float(np.max(np.abs(w.gd.loss - white_loss(w.gd.t, sw.D, sw.N, merged["white_s0"]))))
        ss, g = sep["main"].s, sep["main"].gd
        r = read(g, tol)
        fresh = sample_sequences(ss, b.mc_prompts, b.seed + 2)
        st = sep["stall"].flow
        rs = setting(b.ranks_D, b.N, b.seed)
        rtol = dataclasses.replace(tol, drop_min_frac=detector_floor(rs, tol))
        return Summary(
            read(m.gd, tol),
            float(m.gd.loss[-1]),
            converged_loss(s),
            s.trace,
            esc,
            escape_slope(esc, b.merged_inits),
            1 / float(np.linalg.norm(s.Lam @ s.Lam)),
            rests,
            white_dev,
            sw.D,
            r,
            ss,
            plateau_losses(ss),
            learned_order(g, ss, r),
            plateau_durations(r),
            float(g.loss[-1]),
            converged_loss(ss),
            pcr_gaps(g, ss, r.idx, fresh),
            float(st.loss[-1]),
            float(plateau_losses(ss)[b.stall_H]),
            rtol.drop_min_frac,
            {R: len(read(tr, rtol).drops) for R, tr in ranks.items()},
            {R: plateau_indices(tr, rs, tol) for R, tr in ranks.items()},
            {R: plateau_indices(tr, rs, tol, floor=tol.drop_min_frac) for R, tr in ranks.items()},
            {R: float(tr.loss[-1]) for R, tr in ranks.items()},
            plateau_losses(rs),
            self.seeds["durations"],
            self.seeds["times"],
            scalar_gaps(self.comparison),
        )

    @cached_property
    def softmax(self) -> dict:
        """Their Fig. 5, kind → `SoftmaxRun`: "merged" (D = merged_D, H = merged_H, the merged run's init and rate) and
        "separate" rank one (D = sep_D, H = sep_H, init × softmax_init_factor, rate softmax_sep_lr), each with the
        linear flow from the same init."""
        b = self.ch.budget
        out = {}
        for kind, D, (p, y0), T, lr in [
            (
                "merged",
                b.merged_D,
                init_merged(b.merged_H, b.merged_D, b.merged_init, b.N, b.seed),
                b.merged_T,
                b.merged_lr,
            ),
            (
                "separate",
                b.sep_D,
                init_separate(b.sep_H, b.sep_D, 1, b.sep_init * b.softmax_init_factor, b.N, b.seed),
                b.softmax_sep_T,
                b.softmax_sep_lr,
            ),
        ]:
            s = setting(D, b.N, b.seed)
            steps, rec = _steps(T, lr, b.n_times // 2)
            soft = softmax_gd(
                p,
                y0,
                sample_tokens(s, b.softmax_sequences, b.seed + 1),
                sample_tokens(s, b.mc_prompts // 5, b.seed + 2),
                lr,
                steps,
                rec,
            )
            out[kind] = SoftmaxRun(s, soft, flow(p, y0, s, _times(T, b.n_times, 2 * lr)))
        return out
