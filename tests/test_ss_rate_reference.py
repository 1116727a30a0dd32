"""Cross-check of SS_rate against an independent re-implementation of the authors' function.

The reference below follows ``compute_mse_sim_loss`` in ``sfm/sfm_loss_d_v2.py`` of
qcw-china/Self-similarity-Analysis-in-Deep-Neural-Networks (the code of Ding et al. 2025,
commit 1b0c2a96ff27919788d1783066f215c31cbe3c4d), line by line, with the helpers it calls
(``get_upper_triangle_indices``, ``pred_fun``, ``linkage_function``) inlined. It shares no
code with :mod:`fractalnb.graphs`. Its fourth return value, ``now_rate``, is the SS_rate the
paper reports and the quantity its targets γ = 0.2–0.3 refer to.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fractalnb import graphs

# (channels D, samples B, seed): 8 feature sets of 17 to 176 channels, several seeds
CASES = [
    (17, 64, 0),
    (24, 32, 1),
    (48, 256, 2),
    (64, 128, 3),
    (96, 64, 4),
    (128, 256, 5),
    (150, 48, 6),
    (176, 128, 7),
]


def authors_compute_mse_sim_loss(x: torch.Tensor, sample_num: int = 256,
                                 target_rate: float = 1.0):
    """Re-implementation of ``compute_mse_sim_loss`` (sfm/sfm_loss_d_v2.py, authors' code).

    ``x`` is ``(n, d)``: ``n`` channels, each a point in ``R^d`` (``d`` samples). Returns
    ``(loss, TZ, TV, now_rate)`` as the original does.
    """
    n, d = x.shape
    device = x.device
    # get_upper_triangle_indices(n, device)
    i1, i2 = torch.triu_indices(n, n, offset=1, device=device)
    dist = torch.norm(x[i1] - x[i2], dim=1, p=2) / np.sqrt(d)
    TV = torch.max(dist).item()  # noqa: N806 (the authors' names)
    TZ = torch.min(dist).item()  # noqa: N806
    a, b = np.log(1 + TZ), np.log(1 + TV)

    def pf(v):  # pred_fun(a, b, n=1): the chord, 1 at lo(TZ), 0 at lo(TV)
        return ((-v + a) / (b - a) + 1) * 1

    sample = torch.linspace(start=0.0, end=1.0, steps=sample_num, device=device,
                            dtype=x.dtype)
    l = (1 + TZ) * torch.pow((1 + TV) / (1 + TZ), sample) - 1  # noqa: E741
    fac = n
    # linkage_function(dist, l, fac=fac, k=1): forward value = fraction of pairs with
    # sigmoid(l - dist) > 0.5, i.e. dist < l; the sigmoid only shapes the gradient
    link = torch.sigmoid((l.unsqueeze(1) - dist.unsqueeze(0)) * 1.0)
    link_hard = torch.mean((link > 0.5).to(x.dtype), dim=1)
    link = torch.mean(link - 0.5, dim=1)
    Nl = link_hard + (link - link.detach()) * fac  # noqa: N806
    NlNl = n - (n - 1) * torch.log(1 + (n - 1) * Nl) / np.log(n)  # noqa: N806
    logl = torch.log(1 + l)
    pf_logNl = pf(logl)  # noqa: N806
    logNl = torch.log(NlNl) / np.log(n)  # noqa: N806
    S = torch.sum(torch.abs(pf_logNl - logNl)) * 2 / sample_num  # noqa: N806
    loss = 0.5 * (S - target_rate) ** 2
    return loss, TZ, TV, S.item()


def _features(d: int, b: int, seed: int) -> np.ndarray:
    """Channels with unequal scales and some correlation, as a layer's features have."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(d, b)) * rng.uniform(0.2, 3.0, size=(d, 1))
    mix = rng.normal(size=(d, 4)) @ rng.normal(size=(4, b))
    return base + mix


def _rates():
    rows = []
    for d, b, seed in CASES:
        feats = _features(d, b, seed)
        _, tz, tv, reference = authors_compute_mse_sim_loss(torch.as_tensor(feats))
        rows.append({"D": d, "reference": reference, "tz": tz, "tv": tv,
                     "code": graphs.ss_rate(feats, formula="code"),
                     "default": graphs.ss_rate(feats),
                     "paper": graphs.ss_rate(feats, formula="paper")})
    return rows


@pytest.fixture(scope="module")
def rates():
    return _rates()


def test_code_formula_agrees_with_the_authors_function(rates):
    worst = max(abs(r["code"] - r["reference"]) for r in rates)
    detail = ", ".join(f"D={r['D']}: {r['code']:.7f} vs {r['reference']:.7f}" for r in rates)
    assert worst < 2e-5, f"largest difference {worst:.2e}; {detail}"


def test_the_only_difference_is_one_pair_at_the_end_thresholds(rates):
    # The authors count pairs with C < theta (sigmoid(theta - C) > 0.5) on a grid computed
    # as (1 + TZ) ((1 + TV) / (1 + TZ))^s - 1, whose ends can miss TZ and TV by an ulp;
    # fractalnb counts C <= theta on a grid that ends exactly at TZ and TV. So at most the
    # closest pair (first threshold) and the farthest pair (last threshold) are counted
    # differently: the difference is bounded by what one pair changes there.
    for (d, _, _), r in zip(CASES, rates, strict=True):
        pairs = d * (d - 1) // 2
        y = np.log(graphs.pseudo_box_count(np.array([1 / pairs, 1 - 1 / pairs]), d)) / np.log(d)
        bound = 2 / 256 * ((1 - y[0]) + y[1])
        assert abs(r["code"] - r["reference"]) <= bound + 1e-12, (d, r, bound)


def test_default_formula_is_the_authors_code(rates):
    assert graphs.FORMULAS[0] == "code"
    for r in rates:
        assert r["default"] == r["code"]


def test_threshold_range_is_the_authors(rates):
    for (d, b, seed), r in zip(CASES, rates, strict=True):
        distances = graphs.pair_distances(_features(d, b, seed))
        assert distances.min() == pytest.approx(r["tz"], rel=1e-12)
        assert distances.max() == pytest.approx(r["tv"], rel=1e-12)


def test_paper_formula_is_on_another_scale(rates):
    code = np.array([r["code"] for r in rates])
    paper = np.array([r["paper"] for r in rates])
    detail = (f"code {code.min():.3f}-{code.max():.3f}, "
              f"paper {paper.min():.3f}-{paper.max():.3f}")
    # the same feature sets, an order-one difference in every case, in the same direction
    assert np.all(paper - code > 0.1), detail
    assert paper.min() > code.max(), detail


def test_reference_gradient_matches_the_constraint_direction():
    # the constraint's surrogate (sigmoid straight-through, gradient scale D) is the authors':
    # the two gradients of (SS_rate - gamma)^2 point the same way
    feats = torch.as_tensor(_features(32, 64, 11)).requires_grad_(True)
    loss, *_ = authors_compute_mse_sim_loss(feats, target_rate=0.0)
    (reference,) = torch.autograd.grad(loss, feats)
    ours = feats.detach().clone().requires_grad_(True)
    penalty, _ = graphs.self_similarity_penalty(ours, target=0.0)
    (grad,) = torch.autograd.grad(penalty, ours)
    cosine = float((grad * reference).sum() / (grad.norm() * reference.norm()))
    assert cosine > 0.99, f"cosine {cosine:.4f}"
