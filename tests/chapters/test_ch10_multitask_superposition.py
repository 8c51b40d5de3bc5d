"""Multi-task regression (chapter 10, §5.4, App. A.3): the authors' sampler, the mode classifier on
constructed circuits of every mode, the exact risk of diagonal pre-conditioned debiased GD against
Monte Carlo, its minimisers, the predictors read from circuits, and the engine at T = 2."""

import numpy as np
import pytest
import torch

from icl.chapters import ch10_multitask_superposition as mt
from icl.core import theory
from icl.core.data import TaskConfig, sample_prompts
from icl.core.engine import TrainConfig, Trainer, autograd_loss_and_grad, softmax_loss_and_grad
from icl.core.estimators import icl_risks
from icl.core.models import AttentionModel, ModelConfig
from icl.runs.config import RunConfig

AUTH = TaskConfig(**mt.task_params())
PAPER = TaskConfig(**mt.task_params(convention="paper"))
SMALL = 0.2


def test_default_supports_are_the_papers_and_overlap_for_other_d():
    assert mt.default_supports(6) == ((1, 2, 3, 4), (3, 4, 5, 6))
    for d in (2, 3, 5, 7, 9):
        s1, s2 = mt.default_supports(d)
        assert len(set(s1) & set(s2)) >= 1 and set(s1) | set(s2) == set(range(1, d + 1))
    g = mt.groups(AUTH)
    assert [list(g[k] + 1) for k in ("private1", "private2", "shared")] == [[1, 2], [5, 6], [3, 4]]


def test_authors_sampler_moments_and_noiseless_query():
    P = sample_prompts(AUTH, 20_000, torch.Generator().manual_seed(0), dtype=torch.float64)
    beta = P.beta  # (B, d, T)
    mask = torch.as_tensor(AUTH.support_mask())
    assert torch.all(beta[:, mask == 0] == 0)
    assert abs(float(beta[:, mask == 1].var()) - 1.0) < 0.03  # β_t ~ N(0, I) on S_t, no 1/√d
    assert not torch.allclose(beta[..., 0][:, 2:4], beta[..., 1][:, 2:4])  # independent per task
    assert torch.allclose(P.y_q, torch.einsum("bd,bdt->bt", P.x_q, beta))  # noiseless query
    resid = P.y - torch.einsum("bld,bdt->blt", P.X, beta)
    assert np.allclose(resid.var(dim=(0, 1)).numpy(), 4 * 0.1, rtol=0.03)  # noise var |S_t| σ²


def test_convention_is_checked_and_stays_out_of_default_cache_keys():
    with pytest.raises(ValueError, match="convention"):
        TaskConfig(convention="other")
    with pytest.raises(ValueError, match="shared_beta"):
        TaskConfig(supports=((1, 2),), convention="authors")
    assert "convention" not in RunConfig().to_dict()["task"]
    r = RunConfig(task=AUTH)
    assert RunConfig.from_dict(r.to_dict()) == r and r.key() != RunConfig(task=PAPER).key()


@pytest.mark.parametrize("task", [AUTH, PAPER], ids=["authors", "paper"])
def test_diag_dgd_risk_matches_monte_carlo(task):
    rng = np.random.default_rng(1)
    gamma = rng.uniform(-0.3, 1.2, size=(2, task.d))
    r = mt.task_risks({"g": mt.DiagonalDGD(gamma)}, task, 60_000, L=20, seed=3)["g"]
    exact = mt.diag_dgd_risk(gamma, task, L=20)
    for t in range(2):
        assert abs(r[t].mean - exact[t]) < 4 * r[t].se


def test_diag_dgd_risk_is_thereoms_dgd_risk_in_the_single_task_case():
    task = TaskConfig(d=5, L=40, sigma2=0.1)
    eta = theory.eta_eff(5, 40, 0.1)
    assert mt.diag_dgd_risk(np.full((1, 5), eta), task)[0] == pytest.approx(float(theory.dgd_risk(eta, 5, 40, 0.1)))
    assert mt.dgd_rate(task)[0] == pytest.approx(theory.dgd_optimal_eta(5, 40, 0.1))


@pytest.mark.parametrize("task", [AUTH, PAPER], ids=["authors", "paper"])
def test_restricted_dgd_minimises_the_diagonal_family(task):
    g0 = mt.restricted_dgd(task).gamma
    r0 = mt.diag_dgd_risk(g0, task)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert np.all(mt.diag_dgd_risk(g0 + 0.05 * rng.standard_normal(g0.shape), task) > r0)


def test_best_common_gamma_minimises_the_summed_risk_and_weights_shared_coordinates_more():
    g = mt.best_common_gamma(AUTH)

    def total(gam):
        return mt.diag_dgd_risk(np.stack([gam, gam]), AUTH).sum()

    rng = np.random.default_rng(0)
    assert all(total(g + 0.02 * rng.standard_normal(6)) > total(g) for _ in range(20))
    grp = mt.groups(AUTH)
    assert g[grp["shared"]].min() > g[grp["private1"]].max()
    # and it is worse than the restricted one on every task
    assert np.all(mt.diag_dgd_risk(np.stack([g, g]), AUTH) > mt.diag_dgd_risk(mt.restricted_dgd(AUTH).gamma, AUTH))


def test_weighted_kernel_sum_equals_the_attention_model_with_those_circuits():
    rng = np.random.default_rng(2)
    d, H, T = 6, 3, 2
    omega, M = rng.normal(0, 0.3, (H, d)), rng.normal(0, 1, (H, T, T))
    kq, ov = np.zeros((H, d + T, d + T)), np.zeros((H, d + T, d + T))
    for h in range(H):
        kq[h, :d, :d] = np.diag(omega[h])
        ov[h, d:, d:] = M[h]
    model = AttentionModel.from_circuits(torch.tensor(kq), torch.tensor(ov), d, ModelConfig(heads=H))
    P = sample_prompts(AUTH, 64, torch.Generator().manual_seed(0), dtype=torch.float64)
    want = model(P.Z[None], P.x_q[None])[0]
    assert torch.allclose(mt.WeightedKernelSum(omega, M)(P), want, atol=1e-10)
    c = mt.read_circuits(kq, ov, d)
    assert np.allclose(c.omega, omega) and np.allclose(c.M, M) and c.kq_offdiag.max() == 0 == c.ov_x.max()


def test_diagonal_dgd_is_the_small_omega_limit_of_a_zero_sum_kernel_sum():
    omega = np.array([[0.5, 0.2, 1.0, 1.0, 0.0, 0.1], [-0.3, -0.3, 0.0, 0.2, -1.0, -0.5]])
    mu = np.array([[1.0, 2.0], [-1.0, -2.0]])  # zero sum per task
    M = np.stack([np.diag(m) for m in mu])
    gamma = np.einsum("ht,hd->td", mu, omega)
    P = sample_prompts(AUTH, 256, torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = mt.DiagonalDGD(gamma)(P)
    err = [float((mt.WeightedKernelSum(eps * omega, M / eps)(P) - ref).abs().max()) for eps in (1e-2, 1e-3)]
    assert err[1] < err[0] / 5 and err[1] < 1e-2 * float(ref.abs().max())


# --- the mode classifier on constructed circuits ----------------------------------------------------

MASK = AUTH.support_mask()
W_ALL = np.array([1.0, 1.0, 1.3, 1.3, 1.0, 1.0])
W_T1 = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
W_T2 = W_T1[::-1]
W_SUP = np.array([-1.0, -1.0, 0.05, -0.05, 1.0, 1.0])  # − on task 1's private, + on task 2's, ≈ 0 shared


def test_mode_i_one_weighted_kernel():
    assert mt.classify(0.3 * W_ALL[None], np.array([[2.0, 2.5]]), MASK, SMALL) == "I"


def test_mode_ii_one_plus_minus_pair():
    omega = np.stack([0.05 * W_ALL, -0.06 * W_ALL])
    assert mt.classify(omega, np.array([[5.0, 4.0], [-5.0, -4.5]]), MASK, SMALL) == "II"


def test_mode_iii_dedicated_pairs_and_dummies_ignored():
    omega = np.stack([0.1 * W_T1, -0.1 * W_T1, 0.1 * W_T2, -0.1 * W_T2, 1e-4 * W_ALL])
    mu = np.array([[5.0, 0.1], [-5.0, 0.0], [0.0, 4.0], [0.2, -4.0], [1e-3, 0.0]])
    assert mt.head_roles(omega, mu, MASK, SMALL) == ["task1+", "task1-", "task2+", "task2-", "dummy"]
    assert mt.classify(omega, mu, MASK, SMALL) == "III"


def test_mode_iv_superposition_and_its_table2_example():
    # the paper's Table 2 (columns: S1∖S2, S2∖S1, S1∩S2 as we read them; μ for task 1, task 2)
    omega, mu = mt.table2_circuits(AUTH)
    assert np.allclose(omega[2], [-0.0837, -0.0837, 0.0152, 0.0152, 0.0927, 0.0927])
    assert mt.head_roles(omega, mu, MASK, SMALL)[2] == "super"
    assert mt.classify(omega, mu, MASK, SMALL) == "IV"
    omega = np.stack([0.1 * W_SUP, 0.1 * W_ALL, -0.1 * W_ALL])
    assert mt.classify(omega, np.array([[-3.0, 3.0], [4.0, 1.0], [-1.0, -4.0]]), MASK, SMALL) == "IV"


def test_not_a_mode():
    # a head writing task 1 only but with ω on task 2's private coordinates: not dedicated
    omega = np.stack([0.1 * W_ALL, -0.1 * W_ALL, 0.1 * W_T2, -0.1 * W_T2])
    assert mt.classify(omega, np.array([[5.0, 0.0], [-5.0, 0.0], [0, 4.0], [0, -4.0]]), MASK, SMALL) == "other"
    # a superposed OV whose ω has the wrong sign on task 2's private coordinates
    omega = np.stack([0.1 * W_SUP * np.array([1, 1, 1, 1, -1, -1]), 0.1 * W_ALL])
    assert mt.classify(omega, np.array([[-3.0, 3.0], [4.0, 1.0]]), MASK, SMALL) == "other"


def test_super_shared_measures_the_shared_coordinates_of_superposed_heads():
    omega = np.stack([0.1 * (W_SUP + np.array([0, 0, 0.5, 0.5, 0, 0])), 0.1 * W_ALL])
    roles = mt.head_roles(omega, np.array([[-3.0, 3.0], [4.0, 1.0]]), MASK, SMALL)
    assert roles == ["super", "shared+"]
    assert mt.super_shared(omega, roles, MASK) == pytest.approx([0.55])


# --- the engine at T = 2 ------------------------------------------------------------------------


def test_hand_written_gradient_equals_autograd_at_t2_in_the_authors_setting():
    torch.manual_seed(0)
    model = AttentionModel(AUTH.d, AUTH.n_tasks, ModelConfig(heads=3), [4, 5]).double()
    P = sample_prompts(AUTH, 32, torch.Generator().manual_seed(7), dtype=torch.float64)
    Z, xq, yq = (a.expand(2, *a.shape).contiguous() for a in (P.Z, P.x_q, P.y_q))
    loss, grad = softmax_loss_and_grad(model.factors.data, Z, xq, yq, AUTH.d, model.scale)
    loss_a, grad_a = autograd_loss_and_grad(model, Z, xq, yq)
    assert torch.allclose(loss, loss_a, atol=1e-12) and torch.allclose(grad, grad_a, atol=1e-10)
    # the loss averages the two tasks' squared errors
    assert torch.allclose(loss, ((model(Z, xq) - yq) ** 2).mean(dim=(1, 2)))


def test_trainer_trains_two_outputs():
    tr = Trainer(AUTH, ModelConfig(heads=2), TrainConfig(steps=300, batch=64), [0], device="cpu")
    tr.run()
    first, last = tr.losses[:30].mean(), tr.losses[-30:].mean()
    assert last < 0.9 * first  # 3.94 → 3.15 in 300 steps (measured)


def test_task_risks_average_to_icl_risks():
    p = mt.restricted_dgd(AUTH)
    per = mt.task_risks({"r": p}, AUTH, 4_000, seed=5)["r"]
    avg = icl_risks({"r": p}, AUTH, 4_000, seed=5)["r"]
    assert np.mean([r.mean for r in per]) == pytest.approx(avg.mean, rel=1e-10)


# --- §5.4's statements beyond the modes: (5.8), zero-sum per task, Mode IV (i)–(ii) -----------------


def _structured(omega, M, d=6):
    """Circuits in the exact global pattern (5.8): KQ x-block diag(ω_h), OV y-block M_h, zeros elsewhere."""
    H, T = M.shape[:2]
    kq, ov = np.zeros((H, d + T, d + T)), np.zeros((H, d + T, d + T))
    kq[:, np.arange(d), np.arange(d)] = omega
    ov[:, d:, d:] = M
    return kq, ov


def test_pattern_residual_is_zero_on_the_global_pattern_and_reads_each_broken_part():
    omega = np.stack([0.1 * W_T1, -0.1 * W_T1])
    M = np.array([[[3.0, 0.4], [0.0, 0.0]], [[-3.0, 0.0], [0.0, 0.0]]])  # OV cross-task entries are free in (5.8)
    kq, ov = _structured(omega, M)
    assert np.allclose(mt.pattern_residual(mt.read_circuits(kq, ov, 6)), 0)
    kq[0, 4, 1] = 0.03  # KQ off-diagonal: 0.3 of max |ω_1|
    kq[1, 6, 2] = 0.01  # key-y row: 0.1 of max |ω_2|
    ov[1, 7, 0] = 0.6  # OV x-part: 0.2 of max |μ_2|
    assert np.allclose(mt.pattern_residual(mt.read_circuits(kq, ov, 6)), [0.3, 0.2])


def test_live_heads_are_the_heads_head_roles_does_not_call_dummies():
    omega = np.stack([0.1 * W_T1, -0.1 * W_T1, 0.1 * W_T2, -0.1 * W_T2, 1e-4 * W_ALL])
    mu = np.array([[5.0, 0.1], [-5.0, 0.0], [0.0, 4.0], [0.2, -4.0], [1e-3, 0.0]])
    live = [r != "dummy" for r in mt.head_roles(omega, mu, MASK, SMALL)]
    assert list(mt.live_heads(omega, mu)) == live == [True] * 4 + [False]


def test_mode_iv_measures_hold_on_the_papers_table2():
    omega, mu = mt.table2_circuits(AUTH)
    assert (mt.both_task_ratio(mu) > SMALL).all()  # (i): every head writes both tasks (smallest 2.34 / 6.92)
    assert list(mt.signed_heads(omega, mu, SMALL)) == [-1, 1, 0]  # (ii): head 1 negative, head 2 positive
    assert (mt.zero_sum_per_task(mu) < 0.005).all()  # the OV sums to zero per task


def test_signed_heads_needs_both_tasks_written_with_one_sign_and_omega_of_that_sign():
    mu = np.array([[-6.9, -0.001], [5.0, 6.0], [5.0, 6.0], [-1.8, 6.2]])
    omega = np.stack([-0.08 * W_T1, 0.1 * W_ALL, 0.1 * W_SUP, 0.1 * W_SUP])
    # a one-task head, a positive head, a one-sign OV over a ± ω, a superposed head
    assert list(mt.signed_heads(omega, mu, SMALL)) == [0, 1, 0, 0]
    assert mt.both_task_ratio(mu)[0] == pytest.approx(0.001 / 6.9)


def test_per_task_risks_are_column_means_with_their_standard_errors():
    e = torch.tensor([[1.0, 2.0], [3.0, 6.0], [2.0, 4.0]], dtype=torch.float64)
    r = mt.per_task_risks(e)
    assert [x.mean for x in r] == pytest.approx([2.0, 4.0])
    assert [x.se for x in r] == pytest.approx([1 / np.sqrt(3), 2 / np.sqrt(3)])
