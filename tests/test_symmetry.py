"""Symmetries of the parameters and what the fractal quantities see (fractalnb.symmetry).

Every claim of the module (and of chapters 06 and 07) as a property test:
- neuron permutations keep the function (MLP, CNN with BatchNorm, ResNet blocks), in
  evaluation and training mode; without the successor's compensation they do not;
- strong invariance: quantities of the multiset of entries (threshold, density, N(1),
  the coarsest count, norms) do not move under any permutation of the entries;
- exact equivariance: a permutation that maps r-boxes onto r-boxes commutes with T_r and
  keeps N(r); `respects_scale` is the definition, checked against brute force; the three
  generators respect the scales they claim;
- weak equivariance: `permutation_spread` reports the counts of exactly the permuted
  tensors, and marks correctly where equality is guaranteed;
- positive rescaling (ReLU intertwiner, and BatchNorm's own invariance) keeps the
  function; T_r commutes with box-constant rescaling, and otherwise within the stated bound;
- which counts are invariant under rescaling: support always, quantile and mean+k·std
  under a global scale, absolute thresholds not; per-neuron scales can move the quantile set.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from fractalnb import symmetry
from fractalnb.geometry import (
    box_counts,
    box_dimension,
    dilation_scales,
    fractal_transform,
    occupancy,
    unfold_conv,
)
from fractalnb.training import build_model

SETTINGS = settings(deadline=None, max_examples=30, derandomize=True)
FEW = settings(deadline=None, max_examples=10, derandomize=True)
torch.set_num_threads(1)


# ---------------------------------------------------------------------------------------
# helpers


def randomize_batchnorms(model: nn.Module, seed: int) -> nn.Module:
    """Give every BatchNorm non-trivial affine parameters and running statistics."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=g))
                m.bias.copy_(torch.randn(n, generator=g) * 0.3)
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
                m.running_var.copy_(0.5 + torch.rand(n, generator=g))
    return model


def mlp(widths: list[int], seed: int, batchnorm: bool = False, act=nn.ReLU) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(act())
    return randomize_batchnorms(nn.Sequential(*layers), seed)


def cnn(width: int, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width),
        nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(8 * width, 5), nn.ReLU(),
        nn.Linear(5, 3),
    )  # fmt: skip
    return randomize_batchnorms(net, seed)


def train_mode_distance(a: nn.Module, b: nn.Module, x: torch.Tensor) -> float:
    """max |f_a − f_b| with BatchNorm using batch statistics (on copies: stats untouched)."""
    a, b = copy.deepcopy(a).train(), copy.deepcopy(b).train()
    with torch.no_grad():
        return float((a(x) - b(x)).abs().max())


def tol(model: nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return 1e-4 * (1.0 + float(model.eval()(x).abs().max()))


def integer_array(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Integer-valued float64 entries: sums are exact in any order."""
    return np.random.default_rng(seed).integers(-20, 21, shape).astype(np.float64)


def respects_brute_force(perm: np.ndarray, r: int) -> bool:
    n = len(perm)
    for start in range(0, n, r):
        targets = {int(perm[i]) // r for i in range(start, min(start + r, n))}
        if len(targets) != 1:
            return False
    return True


def induced(perm: np.ndarray, r: int) -> np.ndarray:
    """The permutation of the r-boxes induced by a permutation that respects r."""
    assert respects_brute_force(perm, r)
    return perm[::r] // r


shapes = st.integers(1, 4).flatmap(
    lambda rank: st.lists(st.integers(1, {1: 40, 2: 12, 3: 7, 4: 5}[rank]),
                          min_size=rank, max_size=rank).map(tuple))


# ---------------------------------------------------------------------------------------
# tensor level


@SETTINGS
@given(st.integers(1, 8), st.integers(1, 5), st.integers(0, 2**31 - 1), st.booleans())
def test_permuting_rows_and_the_next_columns_keeps_a_relu_layer_pair(n, block, seed, torch_in):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(n, 6)), rng.normal(size=n)
    w2 = rng.normal(size=(3, n * block))
    x = rng.normal(size=(6, 4))

    def f(w, b, w2):
        h = np.maximum(w @ x + b[:, None], 0.0)  # (n, 4): n neurons, each read by `block` columns
        return w2 @ np.repeat(h, block, axis=0)

    perm = symmetry.random_permutation(n, seed=rng)
    args = [torch.from_numpy(a) for a in (w, b, w2)] if torch_in else [w, b, w2]
    out = (symmetry.permute_rows(args[0], perm), symmetry.permute_rows(args[1], perm),
           symmetry.permute_columns(args[2], perm, block=block))
    assert all(type(o) is type(a) for o, a in zip(out, args))
    np.testing.assert_allclose(f(*[np.asarray(o) for o in out]), f(w, b, w2), rtol=1e-10,
                               atol=1e-10)


def test_tensor_level_examples_and_types():
    w = torch.arange(6.0).reshape(3, 2)
    assert torch.equal(symmetry.permute_rows(w, [2, 0, 1]), w[[2, 0, 1]])
    assert np.array_equal(symmetry.permute_columns(np.arange(4).reshape(1, 4), [1, 0], block=2),
                          [[2, 3, 0, 1]])
    # negative-stride views (w[::-1]) are read like any array, as inputs and as permutations
    v = np.arange(12.0).reshape(4, 3)[::-1]
    assert np.array_equal(symmetry.permute_rows(v, np.arange(4)[::-1]), v[::-1])
    assert torch.equal(symmetry.permute_rows(torch.from_numpy(v.copy()), np.arange(4)[::-1]),
                       torch.from_numpy(v[::-1].copy()))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: symmetry.permute_rows(np.ones((3, 2)), [0, 0, 1]), ValueError,
         "perm is not a permutation"),
        (lambda: symmetry.permute_rows(np.ones((3, 2)), [0, 1]), ValueError, "perm has length 2"),
        (lambda: symmetry.permute_rows(np.ones((3, 2)), [0.5, 1, 2]), TypeError,
         "perm must hold integers"),
        (lambda: symmetry.permute_rows(np.ones((3, 2)), [0.0, 1.0, 2.0]), TypeError,
         "perm must hold integers"),
        (lambda: symmetry.permute_rows([1, 2], [1, 0]), TypeError, "x must be a numpy array"),
        (lambda: symmetry.permute_rows(np.array([1.0, np.nan]), [1, 0]), ValueError,
         "x has non-finite entries"),
        (lambda: symmetry.permute_columns(np.ones((2, 5)), [1, 0], block=2), ValueError,
         "multiple of block"),
        (lambda: symmetry.permute_columns(np.ones((2, 4)), [1, 0], block=2.0), TypeError,
         "block must be an integer"),
        (lambda: symmetry.random_scales(3, max_factor=1.0), ValueError, "max_factor"),
        (lambda: symmetry.random_scales(3, max_factor="2"), TypeError, "max_factor"),
        (lambda: symmetry.random_permutation(0), ValueError, "n must be an integer >= 1"),
        (lambda: symmetry.random_permutation(3.0), TypeError, "n must be an integer"),
        (lambda: symmetry.random_permutation(3, seed=None), TypeError, "seed must be an integer"),
        (lambda: symmetry.random_permutation(10**12), ValueError, "n asks for"),
        (lambda: symmetry.respects_scale([1, 0], 0), ValueError, "r must be an integer >= 1"),
        (lambda: symmetry.respects_scale([1, 0], True), TypeError, "r must be an integer"),
        (lambda: symmetry.respected_scales([1, 0], [2, 1]), ValueError,
         "scales must be strictly increasing"),
        (lambda: symmetry.hierarchical_permutation(8, 1), ValueError,
         "base must be an integer >= 2"),
        (lambda: symmetry.box_constant_scales(4, 2, seed=-1), ValueError, "seed must be"),
    ],
)
def test_bad_tensor_input_is_refused_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------------------
# function preservation: permutations


@SETTINGS
@given(st.lists(st.integers(1, 9), min_size=3, max_size=4), st.integers(0, 10_000),
       st.booleans(), st.data())
def test_permuting_neurons_keeps_an_mlp_function(widths, seed, batchnorm, data):
    net = mlp(widths, seed, batchnorm)
    layer = data.draw(st.sampled_from([str(i) for i, m in enumerate(net)
                                       if isinstance(m, nn.Linear)][:-1]))
    width = net[int(layer)].out_features
    perm = symmetry.random_permutation(width, seed=seed)
    twin = symmetry.permute_neurons(net, layer, perm)
    x = torch.randn(8, widths[0], generator=torch.Generator().manual_seed(seed))
    assert symmetry.function_distance(net, twin, x) <= tol(net, x)
    assert train_mode_distance(net, twin, x) <= tol(net, x)
    # the model itself is not modified, and the permuted rows are where they should be
    assert torch.equal(twin[int(layer)].weight, net[int(layer)].weight[perm])


@FEW
@given(st.integers(1, 4), st.integers(0, 10_000), st.sampled_from(["0", "4", "9"]))
def test_permuting_channels_keeps_a_cnn_function_through_batchnorm_pool_and_flatten(
        width, seed, layer):
    net = cnn(width, seed)
    coupling = symmetry.permutable_layers(net).set_index("layer").loc[layer]
    perm = symmetry.random_permutation(int(coupling["width"]), seed=seed)
    twin = symmetry.permute_neurons(net, layer, perm)
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(seed))
    assert symmetry.function_distance(net, twin, x) <= tol(net, x)
    assert train_mode_distance(net, twin, x) <= tol(net, x)


def test_the_coupling_after_a_flatten_moves_blocks_of_columns():
    net = cnn(3, 0)
    c = symmetry.permutable_layers(net).set_index("layer").loc["4"]
    assert (c["successor"], c["width"], c["block"], c["batchnorms"]) == ("9", 6, 4, ("5",))


@settings(deadline=None, max_examples=5, derandomize=True)
@given(st.integers(0, 10_000), st.sampled_from(["layer1.0.conv1", "layer2.1.conv1",
                                                "layer4.0.conv1"]))
def test_permuting_hidden_channels_keeps_a_resnet_function(seed, layer):
    torch.manual_seed(seed)
    net = randomize_batchnorms(build_model("resnet18", width=2), seed)
    c = symmetry.permutable_layers(net).set_index("layer").loc[layer]
    assert c["successor"] == layer.replace("conv1", "conv2")
    width = int(c["width"])
    twin = symmetry.permute_neurons(net, layer, symmetry.random_permutation(width, seed=seed))
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(seed))
    assert symmetry.function_distance(net, twin, x) <= tol(net, x)
    scaled = symmetry.rescale_neurons(net, layer, symmetry.random_scales(width, seed=seed))
    assert symmetry.function_distance(net, scaled, x) <= tol(net, x)


def test_the_residual_stream_is_refused_with_a_reason():
    net = build_model("resnet18", width=2)
    table = symmetry.permutable_layers(net).set_index("layer")
    assert table.loc["layer1.0.conv1", "permutable"]
    for name in ("conv1", "layer1.0.conv2", "layer2.0.downsample.0", "fc"):
        assert not table.loc[name, "permutable"]
    assert "residual" in table.loc["layer1.0.conv2", "reason"]
    with pytest.raises(ValueError, match="residual"):
        symmetry.permute_neurons(net, "layer1.0.conv2", np.arange(2))
    with pytest.raises(ValueError, match="no successor"):
        symmetry.permute_neurons(net, "fc", np.arange(10))


def test_the_book_cnn_is_permutable_and_rescalable_layer_by_layer():
    table = symmetry.permutable_layers(build_model("custom_cnn", width=2)).set_index("layer")
    for name in ("conv1", "conv2", "conv3", "fc1"):
        assert table.loc[name, "permutable"] and table.loc[name, "rescalable"]
    assert table.loc["conv3", "block"] == 16 and not table.loc["fc2", "permutable"]


@pytest.mark.parametrize("symmetry_name", ["permutation", "rescaling", "batchnorm"])
def test_function_preservation_compensated_vs_uncompensated(symmetry_name):
    net = cnn(3, 1)
    x = torch.randn(6, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    table = symmetry.function_preservation(net, x, symmetry=symmetry_name, seed=0)
    assert len(table) >= 1
    assert (table["distance"] <= tol(net, x)).all()
    assert (table["uncompensated_distance"] > 100 * table["distance"] + 1e-6).all()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: symmetry.permute_neurons(mlp([3, 4, 2], 0), "7", [0, 1, 2, 3]), "no module named"),
        (lambda: symmetry.permute_neurons(mlp([3, 4, 2], 0), "1", [0]), "unsupported module"),
        (lambda: symmetry.permute_neurons(mlp([3, 4, 2], 0), "0", [0, 1]), "perm has length 2"),
        (lambda: symmetry.permute_neurons("net", "0", [0]), "torch.nn.Module"),
        (lambda: symmetry.rescale_neurons(mlp([3, 4, 2], 0, act=nn.Tanh), "0", np.ones(4)),
         "not positively homogeneous"),
        (lambda: symmetry.rescale_before_batchnorm(mlp([3, 4, 2], 0), "0", np.ones(4)),
         "no BatchNorm"),
        (lambda: symmetry.function_preservation(mlp([3, 4, 2], 0), torch.ones(1, 3),
                                                symmetry="mirror"), "symmetry must be one of"),
    ],
)
def test_bad_model_input_is_refused_by_name(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_a_tanh_network_can_be_permuted_but_not_rescaled():
    net = mlp([3, 5, 2], 0, act=nn.Tanh)
    x = torch.randn(4, 3)
    twin = symmetry.permute_neurons(net, "0", [4, 3, 2, 1, 0])
    assert symmetry.function_distance(net, twin, x) < 1e-6
    assert not symmetry.permutable_layers(net).set_index("layer").loc["0", "rescalable"]


# ---------------------------------------------------------------------------------------
# function preservation: positive rescaling


@SETTINGS
@given(st.lists(st.integers(1, 9), min_size=3, max_size=4), st.integers(0, 10_000),
       st.booleans(), st.floats(1.5, 20.0), st.data())
def test_positive_rescaling_keeps_an_mlp_function(widths, seed, batchnorm, max_factor, data):
    net = mlp(widths, seed, batchnorm)
    layer = data.draw(st.sampled_from([str(i) for i, m in enumerate(net)
                                       if isinstance(m, nn.Linear)][:-1]))
    scales = symmetry.random_scales(net[int(layer)].out_features, max_factor=max_factor,
                                    seed=seed)
    twin = symmetry.rescale_neurons(net, layer, scales)
    x = torch.randn(8, widths[0], generator=torch.Generator().manual_seed(seed))
    assert symmetry.function_distance(net, twin, x) <= tol(net, x)
    assert train_mode_distance(net, twin, x) <= tol(net, x)
    if batchnorm:
        twin2 = symmetry.rescale_before_batchnorm(net, layer, scales)
        assert symmetry.function_distance(net, twin2, x) <= tol(net, x)


@FEW
@given(st.integers(1, 4), st.integers(0, 10_000), st.sampled_from(["0", "4", "9"]))
def test_positive_rescaling_keeps_a_cnn_function(width, seed, layer):
    net = cnn(width, seed)
    c = symmetry.permutable_layers(net).set_index("layer").loc[layer]
    scales = symmetry.random_scales(int(c["width"]), seed=seed)
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(seed))
    twin = symmetry.rescale_neurons(net, layer, scales)
    assert symmetry.function_distance(net, twin, x) <= tol(net, x)
    assert train_mode_distance(net, twin, x) <= tol(net, x)
    if c["batchnorms"]:  # conv → BatchNorm: the BatchNorm's own invariance (evaluation mode)
        twin2 = symmetry.rescale_before_batchnorm(net, layer, scales)
        assert symmetry.function_distance(net, twin2, x) <= tol(net, x)
        bn = dict(twin2.named_modules())[c["batchnorms"][0]]
        ref = dict(net.named_modules())[c["batchnorms"][0]]
        torch.testing.assert_close(bn.running_var, ref.running_var * torch.as_tensor(
            scales, dtype=torch.float32) ** 2)


# ---------------------------------------------------------------------------------------
# permutations that respect boxes: exact equivariance


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 45), st.integers(0, 2**31 - 1),
       st.sampled_from(["uniform", "hierarchical", "block", "within_block"]))
def test_respects_scale_is_the_definition(n, r, seed, kind):
    base = 2 + seed % 3
    p = {"uniform": lambda: symmetry.random_permutation(n, seed=seed),
         "hierarchical": lambda: symmetry.hierarchical_permutation(n, base, seed=seed),
         "block": lambda: symmetry.block_permutation(n, base, seed=seed),
         "within_block": lambda: symmetry.within_block_permutation(n, base, seed=seed)}[kind]()
    assert symmetry.respects_scale(p, r) == respects_brute_force(p, r)
    assert symmetry.respected_scales(p).tolist() == [s for s in range(1, n + 1)
                                                     if respects_brute_force(p, s)]


@SETTINGS
@given(st.integers(1, 70), st.integers(2, 4), st.integers(0, 2**31 - 1))
def test_the_generators_respect_the_scales_they_claim(n, base, seed):
    h = symmetry.hierarchical_permutation(n, base, seed=seed)
    powers = [base**k for k in range(8) if base**k <= 2 * n]
    assert all(symmetry.respects_scale(h, r) for r in powers)
    b = symmetry.block_permutation(n, base, seed=seed)
    assert all(symmetry.respects_scale(b, d) for d in range(1, base + 1) if base % d == 0)
    w = symmetry.within_block_permutation(n, base, seed=seed)
    for m in range(1, n // base + 2):
        assert symmetry.respects_scale(w, m * base)
        assert np.array_equal(induced(w, m * base), np.arange(-(-n // (m * base))))


@SETTINGS
@given(shapes, st.integers(0, 2**31 - 1), st.data())
def test_box_respecting_permutations_commute_exactly_with_T_r_and_keep_N_r(shape, seed, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    base = data.draw(st.integers(2, 3))
    kind = data.draw(st.sampled_from(["hierarchical", "block", "within_block"]))
    p = {"hierarchical": symmetry.hierarchical_permutation,
         "block": symmetry.block_permutation,
         "within_block": symmetry.within_block_permutation}[kind](n, base, seed=seed)
    x = integer_array(seed, shape)
    if data.draw(st.booleans()):
        x = torch.from_numpy(x)
    moved = symmetry.permute_rows(x, p) if axis == 0 else (
        x.index_select(axis, torch.as_tensor(p)) if isinstance(x, torch.Tensor)
        else np.take(x, p, axis=axis))
    for r in range(1, max(shape) + 1):
        if not symmetry.respects_scale(p, min(r, n)):
            continue
        pr = induced(p, min(r, n))
        coarse = np.asarray(fractal_transform(x, r))
        assert np.array_equal(np.asarray(fractal_transform(moved, r)), np.take(coarse, pr, axis))
    if np.any(np.asarray(x) != 0) and np.any(np.asarray(x) == 0):
        scales = dilation_scales(shape, base)
        for mode in ("occupied", "boundary"):
            before = box_counts(np.asarray(x) != 0, scales, mode)
            after = box_counts(np.asarray(moved) != 0, scales, mode)
            ok = [symmetry.respects_scale(p, min(int(r), n)) for r in scales]
            assert np.array_equal(before[ok], after[ok])


@SETTINGS
@given(st.integers(2, 24), st.integers(2, 24), st.integers(0, 2**31 - 1))
def test_equivariance_table_reports_zero_error_where_the_scale_is_respected(rows, cols, seed):
    x = np.random.default_rng(seed).normal(size=(rows, cols))
    perms = {"uniform": symmetry.random_permutation(rows, seed=seed),
             "hierarchical": symmetry.hierarchical_permutation(rows, 2, seed=seed)}
    table = symmetry.equivariance_table(x, perms, threshold=("quantile", 0.7))
    done = table[table["respects_scale"]]
    assert (done["transform_error"] <= 1e-12 * (1 + np.abs(x).sum())).all()
    assert done["same_count"].all()
    assert table[~table["respects_scale"]]["transform_error"].isna().all()
    assert table[table["permutation"] == "hierarchical"]["respects_scale"].all()


# ---------------------------------------------------------------------------------------
# strong invariance


@SETTINGS
@given(shapes, st.integers(0, 2**31 - 1),
       st.sampled_from([("quantile", 0.8), ("quantile", 0.5), ("mean_std", 1.0), 0.5]))
def test_global_quantities_are_invariant_under_every_permutation_of_the_entries(
        shape, seed, threshold):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    shuffled = rng.permutation(x.reshape(-1)).reshape(shape)
    try:
        before = symmetry.global_quantities(x, threshold)
    except ValueError:  # the threshold leaves A empty or full: no counts to compare
        return
    after = symmetry.global_quantities(torch.from_numpy(shuffled), threshold)
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert after[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    assert before["coarsest_count"] == 1
    assert before["count_at_scale_1"] == int(np.asarray(occupancy(x, threshold)).sum())
    assert before["l2_norm"] == pytest.approx(float(np.linalg.norm(x)))


@FEW
@given(st.integers(2, 16), st.integers(0, 10_000))
def test_density_tau_and_n1_of_a_layer_survive_neuron_permutations(width, seed):
    net = mlp([12, width, 3], seed)
    twin = symmetry.permute_neurons(net, "0", symmetry.random_permutation(width, seed=seed))
    for name in ("0", "2"):
        g0 = symmetry.global_quantities(net[int(name)].weight.detach(), ("quantile", 0.75))
        g1 = symmetry.global_quantities(twin[int(name)].weight.detach(), ("quantile", 0.75))
        assert g0 == pytest.approx(g1, rel=1e-6)


# ---------------------------------------------------------------------------------------
# weak equivariance: the distribution report


def structured_mlp(seed: int = 0) -> nn.Sequential:
    """A layer whose large rows are contiguous: a uniform permutation scatters them."""
    net = mlp([32, 16, 8], seed)
    with torch.no_grad():
        net[0].weight[:8] *= 10.0
        net[2].weight[:, :8] *= 10.0
    return net


@pytest.mark.parametrize("kind", ["uniform", "hierarchical", "block", "within_block"])
def test_permutation_spread_reports_the_counts_of_the_permuted_tensors(kind):
    net = structured_mlp()
    spread = symmetry.permutation_spread(net, "0", n_permutations=6, kind=kind,
                                         threshold=("mean_std", 1.0), seed=3)
    rng = np.random.default_rng(3)
    perms = [np.arange(16)] + [
        {"uniform": lambda: symmetry.random_permutation(16, seed=rng),
         "hierarchical": lambda: symmetry.hierarchical_permutation(16, 2, seed=rng),
         "block": lambda: symmetry.block_permutation(16, 2, seed=rng),
         "within_block": lambda: symmetry.within_block_permutation(16, 2, seed=rng)}[kind]()
        for _ in range(6)]
    for pid, perm in enumerate(perms):
        twin = symmetry.permute_neurons(net, "0", perm)
        for name in ("0.weight", "2.weight"):
            w = dict(twin.named_parameters())[name].detach()
            fit = box_dimension(w, threshold=("mean_std", 1.0))
            got = spread[(spread["permutation"] == pid) & (spread["tensor"] == name)]
            assert got["count"].tolist() == fit.counts.tolist()
            assert got["dimension"].iloc[0] == pytest.approx(fit.dimension, abs=1e-12)
            axis_perm = perm
            expected = [r >= 16 or symmetry.respects_scale(axis_perm, int(r))
                        for r in got["scale"]]
            assert got["respects_scale"].tolist() == expected
    identity = spread[spread["permutation"] == 0].set_index(["tensor", "scale"])["count"]
    for _, row in spread[spread["respects_scale"]].iterrows():
        assert row["count"] == identity[(row["tensor"], row["scale"])]
    if kind == "hierarchical":
        assert spread["respects_scale"].all()
        assert spread.groupby("tensor")["dimension"].nunique().eq(1).all()
    if kind == "uniform":  # the scattered large rows do move N(r) and D: a spread exists
        assert spread.groupby(["tensor", "scale"])["count"].nunique().max() > 1
        assert spread.groupby("tensor")["dimension"].nunique().max() > 1


def test_permutation_spread_on_an_unfolded_conv_successor_marks_the_right_scales():
    net = cnn(4, 0)  # conv "0" (4 channels) is read by conv "4": 4 × 9 unfolded columns
    spread = symmetry.permutation_spread(net, "0", n_permutations=4, kind="hierarchical",
                                         unfold=True, threshold=("quantile", 0.6), seed=0)
    cols = spread[spread["role"] == "columns"]
    w = net[4].weight.detach()
    rng = np.random.default_rng(0)
    perms = [np.arange(4)] + [symmetry.hierarchical_permutation(4, 2, seed=rng) for _ in range(4)]
    for pid, perm in enumerate(perms):
        axis_perm = (perm[:, None] * 9 + np.arange(9)[None, :]).reshape(-1)  # channel c: 9 columns
        got = cols[cols["permutation"] == pid]
        expected = [r >= 36 or symmetry.respects_scale(axis_perm, int(r)) for r in got["scale"]]
        assert got["respects_scale"].tolist() == expected
        moved = unfold_conv(symmetry.permute_columns(w, perm))
        counts = box_counts(occupancy(moved, ("quantile", 0.6)), got["scale"].tolist())
        assert got["count"].tolist() == counts.tolist()


def test_permutation_spread_refuses_bad_settings():
    net = mlp([4, 4, 2], 0)
    with pytest.raises(ValueError, match="kind"):
        symmetry.permutation_spread(net, "0", kind="cyclic")
    with pytest.raises(ValueError, match="n_permutations"):
        symmetry.permutation_spread(net, "0", n_permutations=0)


# ---------------------------------------------------------------------------------------
# rescaling and T_r; which counts are invariant


@SETTINGS
@given(shapes, st.integers(0, 2**31 - 1), st.data())
def test_T_r_commutes_exactly_with_box_constant_rescaling(shape, seed, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    r = data.draw(st.integers(1, max(shape)))
    n = shape[axis]
    x = np.random.default_rng(seed).normal(size=shape)
    lam = symmetry.box_constant_scales(n, min(r, n), seed=seed)
    d = symmetry.rescaling_commutation_defect(x, lam, r, axis=axis)
    assert d.box_constant
    assert float(d.defect.max()) <= 1e-12 * (1 + float(np.abs(x).sum()) * lam.max())
    # directly: T_r(Λx) = Λ_r T_r(x), Λ_r the factor of each box
    scaled = x * lam.reshape([-1 if i == axis else 1 for i in range(len(shape))])
    lam_r = lam[:: min(r, n)].reshape([-1 if i == axis else 1 for i in range(len(shape))])
    np.testing.assert_allclose(fractal_transform(scaled, r), lam_r * fractal_transform(x, r),
                               rtol=1e-12, atol=1e-12)


@SETTINGS
@given(shapes, st.integers(0, 2**31 - 1), st.data())
def test_T_r_commutes_with_general_rescaling_up_to_the_stated_bound(shape, seed, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    r = data.draw(st.integers(1, max(shape)))
    x = np.random.default_rng(seed).normal(size=shape)
    lam = symmetry.random_scales(shape[axis], seed=seed)
    d = symmetry.rescaling_commutation_defect(x, lam, r, axis=axis)
    assert np.all(d.defect <= d.bound + 1e-12 * (1 + d.bound))
    # a global scale is box-constant on every scale
    assert symmetry.rescaling_commutation_defect(x, np.full(shape[axis], 2.5), r,
                                                 axis=axis).box_constant


@FEW
@given(st.integers(2, 12), st.integers(0, 10_000), st.floats(1.5, 8.0))
def test_support_quantile_and_mean_std_counts_are_invariant_under_a_global_scale(
        width, seed, c):
    net = mlp([16, width, 4], seed)
    report = symmetry.rescaling_count_report(net, "0", np.full(width, c), quantile=0.8)
    by_rule = report.groupby("rule")
    assert by_rule["same_set"].all()[["support", "quantile", "mean_std"]].all()
    # an absolute threshold sees the scale: the layer gains entries, the successor loses
    absolute = report[report["rule"] == "absolute"].groupby("role").first()
    assert absolute.loc["layer", "density_after"] >= absolute.loc["layer", "density_before"]
    assert (absolute.loc["successor", "density_after"]
            <= absolute.loc["successor", "density_before"])


@FEW
@given(st.integers(2, 12), st.integers(0, 10_000), st.sampled_from(["intertwiner", "batchnorm"]))
def test_rescaling_count_report_counts_the_rescaled_tensors(width, seed, method):
    net = mlp([16, width, 4], seed, batchnorm=True)
    scales = symmetry.random_scales(width, seed=seed)
    report = symmetry.rescaling_count_report(net, "0", scales, method=method, quantile=0.7)
    twin = (symmetry.rescale_neurons if method == "intertwiner"
            else symmetry.rescale_before_batchnorm)(net, "0", scales)
    assert report[report["rule"] == "support"]["same_set"].all()
    for name in ("0.weight", "3.weight"):
        w = dict(twin.named_parameters())[name].detach()
        got = report[(report["tensor"] == name) & (report["rule"] == "quantile")]
        mask = w.abs() > float(np.quantile(w.abs().numpy(), 0.7))
        assert got["count_after"].tolist() == box_counts(mask, got["scale"].tolist()).tolist()


def test_a_per_neuron_rescaling_moves_the_quantile_set_and_the_absolute_set():
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        net[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
    report = symmetry.rescaling_count_report(net, "0", [10.0, 1.0], quantile=0.5,
                                             count_scales=[1])
    layer = report[report["role"] == "layer"].set_index("rule")
    assert layer.loc["support", "same_set"]
    assert not layer.loc["quantile", "same_set"]  # {3, 4} before, {10, 20} after
    assert not layer.loc["absolute", "same_set"]
    x = torch.randn(5, 2)
    assert symmetry.function_distance(net, symmetry.rescale_neurons(net, "0", [10.0, 1.0]),
                                      x) < 1e-5


def test_rescaling_report_and_defect_refuse_bad_input():
    net = mlp([4, 4, 2], 0)
    with pytest.raises(ValueError, match="method"):
        symmetry.rescaling_count_report(net, "0", np.ones(4), method="global")
    with pytest.raises(ValueError, match="axis"):
        symmetry.rescaling_commutation_defect(np.ones((2, 2)), [1.0, 1.0], 2, axis=2)
    with pytest.raises(ValueError, match="scales has length"):
        symmetry.rescaling_commutation_defect(np.ones((2, 3)), [1.0, 1.0], 2, axis=1)


@FEW
@given(st.integers(2, 40), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_rescaling_defect_table_is_zero_exactly_where_the_factors_are_box_constant(n, cols, seed):
    x = np.random.default_rng(seed).normal(size=(n, cols))
    factors = {"global": np.full(n, 3.0), "box 4": symmetry.box_constant_scales(n, 4, seed=seed),
               "per row": symmetry.random_scales(n, seed=seed)}
    table = symmetry.rescaling_defect_table(x, factors, scales=range(1, max(n, cols) + 1))
    assert table[table["factors"] == "global"]["box_constant"].all()
    box4 = table[(table["factors"] == "box 4") & table["scale"].isin([1, 2, 4])]
    assert box4["box_constant"].all()
    exact = table[table["box_constant"]]
    assert (exact["max_defect"] <= 1e-12 * (1 + np.abs(x).sum() * 4)).all()
    assert (table["max_ratio"] <= 1 + 1e-9).all()
    assert (table[table["scale"] == 1]["max_defect"] <= 1e-12).all()  # T_1 = id commutes


def test_negative_stride_views_are_accepted_wherever_tensors_are():
    w = np.random.default_rng(0).normal(size=(8, 6))
    v = w[::-1, ::-1]  # a view with negative strides; torch.from_numpy refuses it
    c = np.ascontiguousarray(v)
    perms = {"swap": np.arange(8)[::-1]}
    a = symmetry.equivariance_table(v, perms, threshold=("quantile", 0.7))
    b = symmetry.equivariance_table(c, perms, threshold=("quantile", 0.7))
    assert a.equals(b)
    assert symmetry.global_quantities(v) == symmetry.global_quantities(c)
    lam = symmetry.random_scales(8, seed=0)[::-1]
    d1 = symmetry.rescaling_commutation_defect(v, lam, 2)
    d2 = symmetry.rescaling_commutation_defect(c, lam.copy(), 2)
    assert np.array_equal(d1.defect, d2.defect) and np.array_equal(d1.bound, d2.bound)
    assert symmetry.rescaling_defect_table(v, {"l": lam}).equals(
        symmetry.rescaling_defect_table(c, {"l": lam.copy()}))
    assert np.array_equal(symmetry.permute_columns(v, np.arange(3)[::-1], block=2),
                          symmetry.permute_columns(c, [2, 1, 0], block=2))
    net = mlp([3, 4, 2], 0)
    twin = symmetry.permute_neurons(net, "0", np.arange(4)[::-1])
    assert torch.equal(twin[0].weight, net[0].weight[[3, 2, 1, 0]])
    scaled = symmetry.rescale_neurons(net, "0", np.array([1.0, 2.0, 3.0, 4.0])[::-1])
    assert torch.allclose(scaled[0].weight, net[0].weight * torch.tensor([[4.0], [3.0], [2.0],
                                                                          [1.0]]))


def test_model_level_arguments_are_refused_with_the_new_types():
    net = mlp([3, 4, 2], 0)
    x = torch.randn(2, 3)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        symmetry.permutable_layers("net")
    with pytest.raises(TypeError, match="layer must be a module name"):
        symmetry.permute_neurons(net, 0, [0, 1, 2, 3])
    with pytest.raises(TypeError, match="inputs must be a torch tensor"):
        symmetry.function_distance(net, net, x.numpy())
    with pytest.raises(ValueError, match="inputs has non-finite entries"):
        symmetry.function_distance(net, net, torch.full((2, 3), float("nan")))
    with pytest.raises(TypeError, match="seed must be an integer"):
        symmetry.function_preservation(net, x, seed=1.5)
    with pytest.raises(TypeError, match="layers must be a sequence"):
        symmetry.function_preservation(net, x, layers="0")
    with pytest.raises(TypeError, match="transforms must be a mapping"):
        symmetry.symmetry_checks(net, [net], x)
    with pytest.raises(TypeError, match="unfold must be True or False"):
        symmetry.permutation_spread(net, "0", n_permutations=1, unfold=1)
    with pytest.raises(ValueError, match="n_permutations asks for"):
        symmetry.permutation_spread(net, "0", n_permutations=10**9)
    with pytest.raises(ValueError, match="count_scales holds the side 9"):
        symmetry.rescaling_count_report(net, "0", np.ones(4), count_scales=[1, 9])
