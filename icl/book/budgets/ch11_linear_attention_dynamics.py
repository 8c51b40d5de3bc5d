"""Chapter 11 (Zhang, Singh, Latham, Saxe 2025: how multi-head linear attention learns in context):
budget and tolerances.

The chapter has its own setting (x ~ N(0, Λ) in R^D, no label noise, N = 31), so the book's d, L and
σ² do not enter; its scientific parameters are the fields below. Times are in units of the gradient
flow (τ = 1); a GD step of rate η is Δt = 2η. The authors' code (yedizhang/linattn-icl) sums over the
N tokens where we divide by N: a model whose Γ is a product of p factors then maps theirs by
weights × N^{1/p} and rate × N^{2/p} (p = 2 merged, 3 separate). Inits below are in the authors' units,
as on their command lines; `icl.chapters.ch11_linear_attention_dynamics.init_merged/init_separate` map them
(including their
separate layers' 1/√numel scaling, which an earlier version of this chapter missed).
"""

from dataclasses import dataclass

from .ch01_setup import TOLERANCES as _CH01  # the book's reading of Obs. 2's "≈ 0"


@dataclass(frozen=True)
class Budget:
    N: int = 31  # context pairs per sequence (all the paper's figures)
    seed: int = 0  # seed of Λ's basis, of the inits and of the sampled sequences
    sequences: int = 100_000  # sampled training sequences for GD (the paper: 5000; ours: more, so that
    #                           the sampled loss's small-eigenvalue directions are resolved; GD runs on the
    #                           sample's exact moments, so a step's cost does not depend on this)
    mc_prompts: int = 50_000  # fresh prompts for the prediction gap to PCR
    n_times: int = 400  # recorded times per trajectory, on a grid in ln t
    # --- merged (Fig. 1): D = 4, H = 8 ---
    merged_D: int = 4
    merged_H: int = 8
    merged_init: float = 1e-6  # the authors' Fig. 1 command (--init 1e-6)
    merged_lr: float = 0.05  # GD rate (Δt = 0.1: the escape rate ‖Λ²‖_F ≈ 0.19 is resolved to 1 %)
    merged_T: float = 300.0  # flow time
    merged_inits: tuple = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)  # init scales for the ln(1/init) law (flow; authors' units)
    white_init: float = 1e-3  # white Λ = I: every head U_i = init·I/√D, v_i = init
    white_lr: float = 0.0005  # GD rate there (growth rate 2√D = 4 per unit time: Δt = 0.001, 0.2 % rate error)
    white_T: float = 6.0
    # --- separate rank one (Fig. 3): D = 4, H = 5 ---
    sep_D: int = 4
    sep_H: int = 5  # the paper: 4–5
    sep_init: float = 0.01  # the authors' default --init (their Fig. 3 command sets none)
    sep_lr: float = 0.1  # GD rate (Δt = 0.2; the paper's 0.02 × 31^{2/3} ≈ 0.2). At 0.5 the discrete steps
    #                     shift the escapes of e_2 and e_3, which lie close in time, enough to merge them
    sep_T: float = 2.0e4
    stall_H: int = 2  # H < D rank-one heads (beyond the paper; flow)
    duration_seeds: int = 12  # init seeds whose flows give the plateau durations and the time law: twice the
    #                           paper's Fig. 3 (6), so that the law's slope has s.e. ≈ 0.11 (0.13 at 6 seeds)
    duration_T: float = 4.0e4  # their flow time (each of the 12 learns every direction before it)
    # --- ranks (Fig. 4): D = 8, H = 9 (flow) ---
    ranks_D: int = 8
    ranks_H: int = 9
    ranks: tuple = (1, 2, 4, 8)
    ranks_init: float = 5e-3  # the authors' Fig. 4 command (--init 5e-3)
    ranks_T: float = 1.0e6  # rank one learns e_8 (λ = 1/36) last, near t ≈ 5e5
    # --- softmax versions (their Fig. 5; GD with autograd on token-level sequences) ---
    softmax_sequences: int = 2_000  # sampled training sequences (fewer than the linear runs': autograd is slower)
    softmax_init_factor: float = 10.0  # separate: × sep_init (ours: shortens the plateaus ~10×, so that the
    #                                    autograd run fits the quick budget; the linear flow is rerun from it)
    softmax_sep_lr: float = 0.2  # GD rate of the separate softmax run
    softmax_sep_T: float = 2.0e3  # its flow time


BUDGETS = {
    # smoke: seconds; short flows and few sequences, only the mechanics are checked
    "smoke": Budget(
        sequences=5_000,
        mc_prompts=2_000,
        n_times=150,
        merged_inits=(1e-2, 1e-4),
        white_T=3.0,
        sep_T=2.0e3,
        ranks=(8,),
        ranks_T=2.0e3,
        merged_T=150.0,
        duration_seeds=2,
        duration_T=2.0e3,
        softmax_sequences=200,
        softmax_sep_T=200.0,
    ),
    "quick": Budget(),
    "paper": Budget(),
}


@dataclass(frozen=True)
class Tolerances:
    # The step detector (ours): a drop is a maximal run where −dL/d ln t exceeds `drop_threshold` × the
    # curve's mean descent rate over the recorded ln t span, and falls by at least `drop_min_frac` of the
    # total descent. 1 × the mean rate and 2 % are chosen so that a flat plateau (rate ≪ 1) never counts
    # and the smallest drop the paper predicts (the last one of D = 4, 9 % of the descent) always does.
    drop_threshold: float = 1.0
    drop_min_frac: float = 0.02
    # "plateau at tr Λ", "plateau at L(M_m)", "final loss = the converged formula": '≈' read as 2 % of the
    # target; the finite-sample excess of S sequences (≈ D²/S relative) is far below it.
    loss_rel: float = 0.02
    # Escape time ≈ ln(1/init)/‖Λ²‖_F (the linearised flow around 0): the slope against ln(1/init) within 2 %:
    # with one init direction scaled, the corrections are O(init²) and the half-way time is interpolated.
    slope_rel: float = 0.02
    # White Λ: the simulated loss within 2 % of D (its start) of the analytic L(t) at every recorded time;
    # sampled moments shift the logistic's time by O(S^{-1/2}), well inside this.
    white_abs_frac: float = 0.02
    # Predictor on plateau m against PCR with m components: mean squared difference on fresh prompts at
    # most 2 % of PCR's mean square ('implements PCR' read as ~14 % RMS difference at most).
    pcr_gap: float = 0.02
    # The new head against the scalar ODE: max |v_model − v_ode| at most 5 % of the ODE's final value (ours,
    # chosen before measuring: the reduction assumes k = q = v·e_m and one head per direction, which the flow
    # reaches only approximately from a random init).
    scalar_rel: float = 0.05
    # Softmax versions, zero-sum value weights |Σ v_i| / Σ |v_i|: the book's reading of Obs. 2's "≈ 0" (chapter 01).
    zero_sum: float = _CH01.zero_sum


TOLERANCES = Tolerances()
