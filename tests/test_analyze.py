"""fractalnb.training.analysis: the per-tensor table on any nn.Module, checked on known answers."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import fractalnb  # noqa: E402
from fractalnb import geometry, plotting, symmetry, training  # noqa: E402
from fractalnb.geometry import (
    box_dimension,  # noqa: E402
    shuffled_copy,
    unfold_conv,  # noqa: E402
)
from fractalnb.plotting import plot_dimension_by_depth
from fractalnb.training import analyze, compare, weight_layers

COLUMNS = (
    "name", "module", "kind", "role", "depth", "layer_depth", "shape", "grid", "numel",
    "rule", "tau", "density", "dimension", "ci_low", "ci_high", "r2", "self_similarity",
    "dsi_residual", "n_fit", "r_min", "r_max", "esd_alpha", "esd_n_evals",
    "surface_dimension", "note",
)  # fmt: skip

LOG3_LOG2 = math.log(3) / math.log(2)
LOG8_LOG3 = math.log(8) / math.log(3)
LOG2_LOG3 = math.log(2) / math.log(3)


def _set(param: torch.Tensor, values: np.ndarray) -> None:
    with torch.no_grad():
        param.copy_(torch.as_tensor(np.asarray(values, dtype=np.float32)).reshape(param.shape))


def _row(table, name):
    rows = table[table["name"] == name]
    assert len(rows) == 1, f"{name} not found once in {table['name'].tolist()}"
    return rows.iloc[0]


# --- known answers --------------------------------------------------------------------


def test_linear_layer_with_sierpinski_weights_has_dimension_log3_log2():
    triangle = geometry.sierpinski_triangle(8)  # 256 x 256
    layer = nn.Linear(256, 256)
    _set(layer.weight, triangle.mask)
    row = _row(analyze(layer), "weight")
    assert row["kind"] == "linear" and row["role"] == "weight"
    assert row["shape"] == (256, 256) and row["grid"] == (256, 256) and row["numel"] == 65536
    assert row["dimension"] == pytest.approx(LOG3_LOG2, abs=1e-9)
    assert row["ci_low"] <= row["dimension"] <= row["ci_high"]
    assert row["r2"] == pytest.approx(1.0)
    assert row["self_similarity"] == pytest.approx(1.0)
    assert row["dsi_residual"] == pytest.approx(0.0, abs=1e-12)
    assert row["density"] == pytest.approx(triangle.mask.mean())
    assert row["note"] == ""


def test_conv_layer_unfolded_to_a_carpet_has_dimension_log8_log3():
    carpet = geometry.sierpinski_carpet(4)  # 81 x 81 = out x (in * 3 * 3)
    conv = nn.Conv2d(9, 81, 3, bias=False)
    _set(conv.weight, carpet.mask)
    assert np.array_equal(unfold_conv(conv.weight.detach()).numpy() > 0.5, carpet.mask)
    # the carpet fills 62% of the grid: mean + std of |W| exceeds 1, so say tau explicitly
    row = _row(analyze(conv, dilation=3, threshold=0.5), "weight")
    assert row["kind"] == "conv" and row["grid"] == (81, 81) and row["shape"] == (81, 9, 3, 3)
    assert row["dimension"] == pytest.approx(LOG8_LOG3, abs=1e-9)
    assert row["dsi_residual"] == pytest.approx(0.0, abs=1e-12)
    grid = _row(analyze(conv, dilation=3, threshold=0.5, conv="grid"), "weight")
    assert grid["grid"] == (81, 9, 3, 3)


def test_bias_batchnorm_and_embedding_rows_have_known_answers():
    cantor = geometry.cantor_set(5).mask.astype(np.float32)  # 243 points, D = log 2 / log 3
    model = nn.ModuleDict({
        "fc": nn.Linear(1, 243),
        "bn": nn.BatchNorm1d(243),
        "emb": nn.Embedding(256, 256),
    })  # fmt: skip
    _set(model["fc"].bias, cantor)
    _set(model["bn"].weight, 0.5 + cantor)  # |W| in {0.5, 1.5}: the threshold splits them
    _set(model["emb"].weight, geometry.sierpinski_triangle(8).mask)
    table = analyze(model, dilation=3)
    assert _row(table, "fc.bias")["dimension"] == pytest.approx(LOG2_LOG3, abs=1e-9)
    bn = _row(table, "bn.weight")
    assert bn["kind"] == "norm" and bn["dimension"] == pytest.approx(LOG2_LOG3, abs=1e-9)
    emb = _row(analyze(model["emb"]), "weight")
    assert emb["kind"] == "embedding" and _row(table, "emb.weight")["kind"] == "embedding"
    assert emb["dimension"] == pytest.approx(LOG3_LOG2, abs=1e-9)


def test_rows_agree_with_box_dimension_on_each_tensor():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 48))
    table = analyze(net)
    assert list(table.columns) == list(COLUMNS)
    assert table["name"].tolist() == [n for n, _ in net.named_parameters()]
    for name, param in net.named_parameters():
        row = _row(table, name)
        view = unfold_conv(param.detach())
        fit = box_dimension(view, dilation=2)  # analyze counts at dyadic scales
        assert row["dimension"] == pytest.approx(fit.dimension, abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(fit.ci)
        assert row["r2"] == pytest.approx(fit.r2)
        assert row["self_similarity"] == pytest.approx(fit.self_similarity)
        assert row["tau"] == pytest.approx(fit.tau)
        assert row["rule"] == fit.rule
    assert table["layer_depth"].tolist() == [0, 0, 1, 1]


def test_esd_alpha_column_is_the_spectral_fit_of_each_weight_matrix():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(16, 32, 3), nn.ReLU(), nn.Flatten(), nn.Linear(256, 64),
                        nn.Linear(64, 10))
    table = analyze(net, spectral=True)
    conv, fc, head = (_row(table, n) for n in ("0.weight", "3.weight", "4.weight"))
    # WeightWatcher's conventions: a conv kernel is 9 matrices 32 x 16, eigenvalues pooled
    assert conv["esd_n_evals"] == 9 * 16 and fc["esd_n_evals"] == 64
    assert conv["esd_alpha"] == pytest.approx(training.esd_alpha(net[0].weight).alpha)
    assert fc["esd_alpha"] == pytest.approx(training.esd_alpha(net[3].weight).alpha)
    # 10 eigenvalues are too few for a tail; biases have no spectrum: NaN, not dropped
    assert head["esd_n_evals"] == 10 and math.isnan(head["esd_alpha"])
    biases = table[table["role"] == "bias"]
    assert biases["esd_alpha"].isna().all() and (biases["esd_n_evals"] == 0).all()
    off = analyze(net)  # off by default
    assert off["esd_alpha"].isna().all() and (off["esd_n_evals"] == 0).all()
    np.testing.assert_array_equal(off["dimension"].fillna(-1), table["dimension"].fillna(-1))


def test_esd_alpha_column_separates_a_heavy_tailed_layer_from_a_gaussian_one():
    rng = np.random.default_rng(1)
    model = nn.ModuleDict({"gauss": nn.Linear(400, 800), "heavy": nn.Linear(400, 800),
                           "zero": nn.Linear(400, 800)})
    _set(model["gauss"].weight, rng.standard_normal((800, 400)))
    heavy = (rng.pareto(1.0, (800, 400)) + 1.0) * rng.choice([-1.0, 1.0], (800, 400))
    _set(model["heavy"].weight, heavy)  # tail index mu = 1: ESD alpha = 1 + mu / 2 = 1.5
    _set(model["zero"].weight, np.zeros((800, 400)))
    table = analyze(model, spectral=True)
    assert _row(table, "gauss.weight")["esd_alpha"] > 4
    assert _row(table, "heavy.weight")["esd_alpha"] == pytest.approx(1.5, abs=0.15)
    zero = _row(table, "zero.weight")
    assert math.isnan(zero["esd_alpha"]) and zero["esd_n_evals"] == 0


def test_surface_dimension_column_reads_each_weight_matrix_as_a_surface():
    # a layer holding an exact fBm surface of H = 0.4 (D = 2.6), one of white noise (D = 3)
    rng = np.random.default_rng(2)
    model = nn.ModuleDict({"fbm": nn.Linear(256, 256), "noise": nn.Linear(256, 256),
                           "zero": nn.Linear(64, 64), "conv": nn.Conv2d(4, 16, 3),
                           "head": nn.Linear(8, 3)})
    fbm = geometry.fractional_brownian_surface(256, 0.4, seed=0, method="exact").values
    _set(model["fbm"].weight, fbm)
    _set(model["noise"].weight, rng.standard_normal((256, 256)))
    _set(model["zero"].weight, np.zeros((64, 64)))
    table = analyze(model)
    got = _row(table, "fbm.weight")["surface_dimension"]
    assert got == pytest.approx(geometry.madogram_dimension(model["fbm"].weight).dimension)
    assert got == pytest.approx(2.6, abs=0.03)
    assert _row(table, "noise.weight")["surface_dimension"] == pytest.approx(3.0, abs=0.02)
    # a conv kernel is the matrix out x (in kh kw), whatever the box-counting view is
    kernel = geometry.madogram_dimension(model["conv"].weight.reshape(16, -1)).dimension
    for view in ("unfold", "grid"):
        row = _row(analyze(model, conv=view), "conv.weight")
        assert row["surface_dimension"] == pytest.approx(kernel)
    # biases, a side of 3 (< max_lag + 2) and a constant matrix: NaN, rows kept
    assert table.loc[table["role"] == "bias", "surface_dimension"].isna().all()
    assert math.isnan(_row(table, "head.weight")["surface_dimension"])
    assert math.isnan(_row(table, "zero.weight")["surface_dimension"])


def test_threshold_mode_and_fit_range_are_passed_through():
    torch.manual_seed(1)
    layer = nn.Linear(128, 128, bias=False)
    w = layer.weight.detach()
    row = _row(analyze(layer, threshold=("quantile", 0.8), mode="boundary", fit_range=(2, 128)),
               "weight")
    fit = box_dimension(w, threshold=("quantile", 0.8), mode="boundary", fit_range=(2, 128))
    assert row["dimension"] == pytest.approx(fit.dimension)
    assert row["density"] == pytest.approx(0.2, abs=1e-3)
    assert (row["r_min"], row["r_max"]) == (2, 128)


def test_unmeasurable_tensors_keep_their_row_with_a_note():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 2), nn.BatchNorm1d(2), nn.PReLU())
    table = analyze(model)
    assert len(table) == len(list(model.parameters()))  # nothing dropped
    bn = _row(table, "1.weight")  # gamma = 1 everywhere: the threshold leaves A empty
    assert math.isnan(bn["dimension"]) and "empty" in bn["note"]
    bias = _row(table, "0.bias")  # two entries: fewer than three scales
    assert math.isnan(bias["dimension"]) and bias["note"]
    prelu = _row(table, "2.weight")
    assert prelu["kind"] == "other" and prelu["note"]


# --- errors -------------------------------------------------------------------------------


def test_nan_weights_raise_naming_the_layer():
    net = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    with torch.no_grad():
        net[2].weight[1, 3] = float("nan")
    with pytest.raises(ValueError, match=r"'2\.weight'.*1 NaN/Inf"):
        analyze(net)
    with torch.no_grad():
        net[2].weight[1, 3] = float("inf")
    with pytest.raises(ValueError, match=r"'2\.weight'"):
        analyze(net)


def test_meta_device_and_parameterless_models_raise():
    with torch.device("meta"):
        meta = nn.Linear(32, 32)
    with pytest.raises(ValueError, match=r"'weight'.*meta"):
        analyze(meta)
    with pytest.raises(ValueError, match="no parameters"):
        analyze(nn.Sequential(nn.ReLU(), nn.Flatten()))
    with pytest.raises(TypeError, match="model"):
        analyze(torch.zeros(3, 3))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"mode": "differential"}, "mode"),
        ({"conv": "flat"}, "conv"),
        ({"dilation": 1}, "dilation"),
        ({"confidence": 1.5}, "confidence"),
        ({"threshold": ("median", 2)}, "threshold"),
        ({"device": "meta"}, "device"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, word):
    with pytest.raises(ValueError, match=word):
        analyze(nn.Linear(16, 16), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"mode": 3}, "mode"),
        ({"dilation": 2.0}, "dilation"),
        ({"confidence": "0.9"}, "confidence"),
        ({"fit_range": 4}, "fit_range"),
        ({"fit_range": (2.0, 8)}, "fit_range"),
        ({"progress": "yes"}, "progress"),
        ({"spectral": 1}, "spectral"),
        ({"device": 0.5}, "device"),
    ],
)
def test_wrong_types_raise_type_errors_naming_them(kwargs, word):
    with pytest.raises(TypeError, match=word):
        analyze(nn.Linear(16, 16), **kwargs)
    with pytest.raises(TypeError, match=word):
        compare({"a": nn.Linear(16, 16)}, **kwargs)


def test_a_bad_fit_range_is_refused_not_noted_on_every_row():
    # analyze keeps a row per tensor with a note when a tensor cannot be measured; a bad
    # fit range is the caller's error, refused before any tensor is counted
    for bad in ("most", (8, 2), (0, 4)):
        with pytest.raises(ValueError, match="fit_range"):
            analyze(nn.Linear(16, 16), fit_range=bad)


# --- devices ------------------------------------------------------------------------------


def test_device_argument_gives_the_same_table():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 64))
    a = analyze(net)
    b = analyze(net, device="cpu")
    np.testing.assert_allclose(a["dimension"], b["dimension"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_model_matches_cpu():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 64, 3), nn.Linear(64, 64))
    cpu = analyze(net)
    gpu = analyze(net.cuda())
    np.testing.assert_allclose(cpu["dimension"], gpu["dimension"], atol=1e-6)


# --- symmetries and nulls (property-based) -------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(out=st.integers(4, 48), inp=st.integers(4, 48), seed=st.integers(0, 10_000),
       scale=st.floats(0.01, 100.0))
def test_a_global_positive_scale_leaves_every_dimension_unchanged(out, inp, seed, scale):
    # mean + k std of |W| scales with W, so the occupied set, hence N(r) and D, do not move
    torch.manual_seed(seed)
    layer = nn.Linear(inp, out)
    twin = nn.Linear(inp, out)
    with torch.no_grad():
        twin.weight.copy_(layer.weight * 2.0**round(math.log2(scale)))  # exact in float
        twin.bias.copy_(layer.bias * 2.0**round(math.log2(scale)))
    a, b = analyze(layer), analyze(twin)
    np.testing.assert_array_equal(a["density"], b["density"])
    np.testing.assert_array_equal(a["dimension"].fillna(-1), b["dimension"].fillna(-1))
    np.testing.assert_allclose(a["surface_dimension"], b["surface_dimension"], rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(width=st.integers(4, 40), seed=st.integers(0, 10_000))
def test_neuron_permutation_keeps_function_and_strongly_invariant_quantities(width, seed):
    torch.manual_seed(seed)
    mlp = nn.Sequential(nn.Linear(12, width), nn.ReLU(), nn.Linear(width, 5))
    twin = symmetry.permute_neurons(mlp, "0", symmetry.random_permutation(width, seed=seed))
    assert symmetry.function_distance(mlp, twin, torch.randn(7, 12)) < 1e-5
    a, b = analyze(mlp), analyze(twin)
    # density and threshold depend on the multiset of entries only
    np.testing.assert_allclose(a["density"], b["density"])
    np.testing.assert_allclose(a["tau"], b["tau"], rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(out=st.integers(2, 40), inp=st.integers(2, 40), seed=st.integers(0, 10_000))
def test_shuffled_copy_keeps_every_multiset_and_leaves_the_model_alone(out, inp, seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(inp, out), nn.BatchNorm1d(out))
    before = [p.detach().clone() for p in model.parameters()]
    twin = shuffled_copy(model, seed=seed)
    for p0, p, q in zip(before, model.parameters(), twin.parameters()):
        assert torch.equal(p0, p)
        assert torch.equal(p.flatten().sort().values, q.flatten().sort().values)
    assert shuffled_copy(model, seed=seed).state_dict()["0.weight"].equal(
        twin.state_dict()["0.weight"])


def test_shuffling_destroys_the_sierpinski_structure():
    layer = nn.Linear(256, 256, bias=False)
    _set(layer.weight, geometry.sierpinski_triangle(8).mask)
    trained = _row(analyze(layer), "weight")["dimension"]
    null = _row(analyze(shuffled_copy(layer, seed=0)), "weight")["dimension"]
    # a random set of the same density (0.1) looks 2-D only at scales where boxes hold
    # many points; over the fitted scales 2..64 its D lies between the triangle's and 2
    assert trained == pytest.approx(LOG3_LOG2, abs=1e-9)
    assert trained + 0.1 < null < 2.0


# --- helpers --------------------------------------------------------------------------------


def test_compare_weight_layers_and_the_plot():
    torch.manual_seed(4)
    nets = {"a": nn.Sequential(nn.Conv2d(3, 32, 3), nn.Linear(32, 32)),
            "b": nn.Sequential(nn.Conv2d(3, 32, 3), nn.Linear(32, 32))}
    table = compare(nets, key="state")
    assert table.columns[0] == "state" and table["state"].tolist() == ["a"] * 4 + ["b"] * 4
    weights = weight_layers(table)
    assert weights["name"].tolist() == ["0.weight", "1.weight"] * 2
    ax = plot_dimension_by_depth(table, hue="state")
    assert ax.get_ylabel() == "box-counting dimension D"
    assert len(ax.get_legend().get_texts()) == 2
    plt.close("all")
    with pytest.raises(ValueError, match="key"):
        compare(nets, key="name")
    with pytest.raises(TypeError, match="key"):
        compare(nets, key=3)
    with pytest.raises(ValueError, match="models"):
        compare({})
    with pytest.raises(TypeError, match="models"):
        compare([nn.Linear(4, 4)])
    with pytest.raises(TypeError, match=r"models\['b'\]"):
        compare({"a": nn.Linear(4, 4), "b": "net"})
    with pytest.raises(TypeError, match="table"):
        weight_layers([1, 2])
    with pytest.raises(ValueError, match="columns"):
        weight_layers(table.drop(columns=["kind"]))


def test_top_level_analyze_is_the_function():
    assert callable(fractalnb.analyze)
    table = fractalnb.analyze(nn.Linear(16, 16))
    assert len(table) == 2


# --- the chapter's helpers ------------------------------------------------------------------


def test_null_spread_and_against_null_on_a_structured_layer():
    layer = nn.Linear(256, 256, bias=False)
    _set(layer.weight, geometry.sierpinski_triangle(8).mask)
    spread = geometry.null_spread(layer, n=3, seed=0)
    assert spread["n_null"].tolist() == [3]
    assert spread["null_low"].iloc[0] <= spread["null_mean"].iloc[0] <= spread["null_high"].iloc[0]
    verdict = geometry.against_null(analyze(layer), spread)
    # the triangle's D lies below every shuffle's; whether the fit intervals separate
    # depends on how curved the shuffles' log-log plots are (their intervals are wide)
    row = verdict.iloc[0]
    assert bool(row["outside_null"]) and row["dimension"] < row["null_low"]
    assert bool(row["separated"]) == bool(row["ci_high"] < row["null_ci_low"])
    # a shuffled tensor tested against its own null is not separated
    twin = shuffled_copy(layer, seed=99)
    again = geometry.against_null(analyze(twin), geometry.null_spread(twin, n=3))
    assert not bool(again["separated"].iloc[0])
    with pytest.raises(ValueError, match="n"):
        geometry.null_spread(layer, n=0)
    with pytest.raises(ValueError, match="spread"):
        geometry.against_null(analyze(layer), spread.drop(columns=["null_low"]))


def test_dimension_over_epochs_plot_checks_its_input():
    torch.manual_seed(0)
    table = compare({0: nn.Linear(64, 64), 1: nn.Linear(64, 64)}, key="epoch")
    ax = plotting.plot_dimension_over_epochs(table, layers=["weight"])
    assert ax.get_xlabel() == "epoch"
    plt.close("all")
    with pytest.raises(ValueError, match="layers"):
        plotting.plot_dimension_over_epochs(table, layers=["bias2"])
    with pytest.raises(ValueError, match="column"):
        plotting.plot_dimension_over_epochs(table, key="step")


def test_symmetry_checks_on_a_batchnormed_cnn():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(64, 32), nn.ReLU(),
                        nn.Linear(32, 5)).eval()
    with torch.no_grad():  # BatchNorm with non-trivial statistics and affine parameters
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
        net[1].weight.uniform_(0.5, 1.5)
        net[1].bias.uniform_(-0.2, 0.2)
    twins = {
        "permute conv": symmetry.permute_neurons(net, "0", symmetry.random_permutation(16, seed=1)),
        "rescale fc": symmetry.rescale_neurons(net, "5", symmetry.random_scales(32, seed=2)),
    }
    x = torch.randn(6, 3, 8, 8)
    table = symmetry.symmetry_checks(net, twins, x)
    assert (table["function_change"] < 1e-4 * table["logit_scale"]).all()
    perm = table[table["transform"] == "permute conv"]
    assert set(perm["name"]) == {"0.weight", "0.bias", "1.weight", "1.bias", "5.weight"}
    np.testing.assert_allclose(perm["density_before"], perm["density_after"])
    resc = table[table["transform"] == "rescale fc"]
    assert set(resc["name"]) == {"5.weight", "5.bias", "7.weight"}
    with pytest.raises(ValueError, match="transforms"):
        symmetry.symmetry_checks(net, {}, x)


def test_architecture_summary_verdicts():
    torch.manual_seed(0)
    nets = {"a": nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8)),
            "b": nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 8))}
    t = {k: analyze(m) for k, m in nets.items()}
    v = {k: geometry.against_null(t[k], geometry.null_spread(m, n=2)) for k, m in nets.items()}
    x = torch.randn(4, 64)
    c = {k: symmetry.symmetry_checks(
        m, {"permute 0": symmetry.permute_neurons(m, "0", symmetry.random_permutation(
            m[0].out_features, seed=0))}, x) for k, m in nets.items()}
    table = training.architecture_summary(t, t, v, c)
    assert list(table.columns) == ["a", "b", "spread", "across models"]
    assert table.loc["mean |D trained - D init|", "a"] == 0.0  # init given as trained
    assert table.loc["density unchanged by permutations (1 = yes)", "across models"] == (
        "same for all")
    assert table.loc["mean D, trained", "across models"] in ("within CI", "differs beyond CI")
    with pytest.raises(ValueError, match="same models"):
        training.architecture_summary(t, {"a": t["a"]}, v)
    with pytest.raises(TypeError, match="verdicts"):
        training.architecture_summary(t, t, [v["a"], v["b"]])
    with pytest.raises(ValueError, match=r"verdicts\['a'\] lacks the columns \['separated'\]"):
        training.architecture_summary(t, t, {**v, "a": v["a"].drop(columns=["separated"])})
    with pytest.raises(TypeError, match=r"checks\['b'\]"):
        training.architecture_summary(t, t, v, {**c, "b": 3})
