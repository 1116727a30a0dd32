"""The fractal transformation T_r: its algebra, checked on random shapes, dtypes and backends.

What is exact and what is coarse (see book/formalisation.md):
- T_1 = id; T_r is linear for sum and mean;
- T_a ∘ T_b = T_ab exactly on EVERY shape for sum, max, min, any (nested boxes);
- for mean, exactly when b divides every side, otherwise within the oscillation of W
  inside the ab-box (the first place where the error of a coarse action enters);
- S_r T_r W = W up to the oscillation inside a box; T_r S_r = id.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fractalnb.geometry import (
    box_oscillation,
    box_sizes,
    coarse_shape,
    fractal_transform,
    unfold_conv,
    upsample,
)

SETTINGS = settings(deadline=None, max_examples=60, derandomize=True)

DTYPES = ["float64", "float32", "int64", "int32", "int16", "uint8", "bool"]
REDUCES = ["sum", "mean", "max", "min", "any"]


@st.composite
def signals(draw, max_side=11, dtypes=DTYPES):
    """A random integer-valued signal (exact arithmetic) of rank 1-4, as numpy or torch."""
    rank = draw(st.integers(1, 4))
    side = {1: 40, 2: max_side, 3: 7, 4: 5}[rank]
    shape = tuple(draw(st.lists(st.integers(1, side), min_size=rank, max_size=rank)))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        x = rng.random(shape) < draw(st.sampled_from([0.1, 0.5, 0.9]))
    elif dtype == "uint8":
        x = rng.integers(0, 50, shape).astype(dtype)
    else:
        x = rng.integers(-50, 50, shape).astype(dtype)
    if draw(st.booleans()):
        return torch.from_numpy(x)
    return x


def as_numpy(a):
    return a.numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def reference_transform(x: np.ndarray, sides, reduce: str) -> np.ndarray:
    """A plain, loop-based T_r: one box at a time, over the grid points it holds."""
    x = np.asarray(x)
    out_shape = tuple(math.ceil(n / s) for n, s in zip(x.shape, sides))
    out = np.empty(out_shape, dtype=np.float64 if reduce != "any" else bool)
    for j in np.ndindex(out_shape):
        box = x[tuple(slice(k * s, (k + 1) * s) for k, s in zip(j, sides))]
        values = box.astype(np.float64)
        if reduce == "any":
            out[j] = bool((values != 0).any())
        else:
            out[j] = getattr(values, reduce)()
    return out


def scale_for(draw, shape, per_axis):
    largest = max(shape)
    if per_axis:
        sides = tuple(draw(st.integers(1, largest + 2)) for _ in shape)
        assume(not all(s > n for s, n in zip(sides, shape)))
        return sides
    return draw(st.integers(1, largest))


# ---------------------------------------------------------------------------------------
# agreement with the plain definition


@SETTINGS
@given(x=signals(), reduce=st.sampled_from(REDUCES), per_axis=st.booleans(), data=st.data())
def test_matches_the_box_by_box_definition(x, reduce, per_axis, data):
    r = scale_for(data.draw, tuple(x.shape), per_axis)
    sides = r if per_axis else (r,) * x.ndim
    got = fractal_transform(x, r, reduce)
    assert type(got) is type(x)
    expected = reference_transform(as_numpy(x), sides, reduce)
    np.testing.assert_allclose(as_numpy(got).astype(expected.dtype), expected, rtol=1e-6)
    assert tuple(got.shape) == coarse_shape(x.shape, r)


def test_large_factors_use_the_reshape_path_and_agree():
    rng = np.random.default_rng(1)
    x = rng.integers(-9, 9, (37, 23)).astype(np.float64)
    for r in (9, 10, 16, 23, 37):
        for reduce in REDUCES:
            np.testing.assert_allclose(
                fractal_transform(x, r, reduce),
                reference_transform(x, (r, r), reduce).astype(
                    bool if reduce == "any" else np.float64
                ),
            )


# ---------------------------------------------------------------------------------------
# identity, linearity, composition


@SETTINGS
@given(x=signals(), reduce=st.sampled_from(REDUCES))
def test_identity(x, reduce):
    y = fractal_transform(x, 1, reduce)
    expected = as_numpy(x) != 0 if reduce == "any" else as_numpy(x)
    np.testing.assert_array_equal(as_numpy(y), expected)
    assert y is not x


@SETTINGS
@given(
    x=signals(dtypes=["float64", "int64"]),
    a=st.integers(-5, 5),
    b=st.integers(-5, 5),
    seed=st.integers(0, 1000),
    reduce=st.sampled_from(["sum", "mean"]),
    data=st.data(),
)
def test_linearity(x, a, b, seed, reduce, data):
    r = scale_for(data.draw, tuple(x.shape), data.draw(st.booleans()))
    y_np = np.random.default_rng(seed).integers(-50, 50, tuple(x.shape))
    y = torch.from_numpy(y_np).to(x.dtype) if isinstance(x, torch.Tensor) else y_np.astype(x.dtype)
    left = fractal_transform(a * x + b * y, r, reduce)
    right = a * fractal_transform(x, r, reduce) + b * fractal_transform(y, r, reduce)
    if reduce == "sum":  # integer values: exact in any summation order
        np.testing.assert_array_equal(as_numpy(left), as_numpy(right))
    else:
        np.testing.assert_allclose(as_numpy(left), as_numpy(right), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(
    x=signals(),
    reduce=st.sampled_from(["sum", "max", "min", "any"]),
    j=st.integers(0, 3),
    k=st.integers(0, 3),
    lam=st.integers(2, 3),
)
def test_composition_is_exact_on_every_shape(x, reduce, j, k, lam):
    assume(lam ** (j + k) <= max(x.shape))
    inner = fractal_transform(x, lam**k, reduce)  # integer values: sums are exact
    twice = fractal_transform(inner, lam**j, reduce)
    once = fractal_transform(x, lam ** (j + k), reduce)
    np.testing.assert_array_equal(as_numpy(twice), as_numpy(once))


@SETTINGS
@given(x=signals(dtypes=["int64", "uint8"]), data=st.data())
def test_composition_with_per_axis_sides(x, data):
    a = tuple(data.draw(st.integers(1, 3)) for _ in x.shape)
    b = tuple(data.draw(st.integers(1, 3)) for _ in x.shape)
    ab = tuple(p * q for p, q in zip(a, b))
    assume(not all(s > n for s, n in zip(ab, x.shape)))
    assume(not all(s > n for s, n in zip(a, x.shape)))
    coarse = fractal_transform(x, a)
    assume(not all(s > n for s, n in zip(b, coarse.shape)))
    np.testing.assert_array_equal(
        as_numpy(fractal_transform(coarse, b)), as_numpy(fractal_transform(x, ab))
    )


@SETTINGS
@given(x=signals(dtypes=["float64", "int32", "bool"]), a=st.integers(1, 4), b=st.integers(1, 4))
def test_mean_composition_exact_when_the_inner_side_divides_else_within_the_oscillation(x, a, b):
    assume(a * b <= max(x.shape))
    twice = as_numpy(fractal_transform(fractal_transform(x, a, "mean"), b, "mean"))
    once = as_numpy(fractal_transform(x, a * b, "mean"))
    error = np.abs(twice - once)
    if all(n % a == 0 for n in x.shape):
        np.testing.assert_allclose(twice, once, rtol=1e-12, atol=1e-12)
    bound = as_numpy(box_oscillation(x, a * b)).astype(np.float64)
    assert np.all(error <= bound + 1e-9)


def test_mean_composition_fails_on_a_partial_box():
    # 7 points, the last 4-box [4, 7) holds the 2-boxes [4, 6) and the partial [6, 7):
    # the mean of their means is (0 + 1) / 2, the mean of the 4-box is 1 / 3
    x = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    twice = fractal_transform(fractal_transform(x, 2, "mean"), 2, "mean")
    once = fractal_transform(x, 4, "mean")
    assert twice[1] == pytest.approx(0.5) and once[1] == pytest.approx(1 / 3)
    assert abs(twice[1] - once[1]) <= box_oscillation(x, 4)[1]
    # the sum composes exactly on the same input
    np.testing.assert_array_equal(fractal_transform(fractal_transform(x, 2), 2), [0.0, 1.0])


# ---------------------------------------------------------------------------------------
# the asymptotic inverse S_r


@SETTINGS
@given(
    x=signals(dtypes=["float64", "int64", "float32"]),
    reduce=st.sampled_from(["sum", "mean", "max", "min"]),
    data=st.data(),
)
def test_upsample_inverts_up_to_the_oscillation_in_a_box(x, reduce, data):
    r = scale_for(data.draw, tuple(x.shape), data.draw(st.booleans()))
    back = upsample(fractal_transform(x, r, reduce), r, tuple(x.shape), reduce)
    assert type(back) is type(x) and tuple(back.shape) == tuple(x.shape)
    error = np.abs(as_numpy(back).astype(np.float64) - as_numpy(x).astype(np.float64)).max()
    bound = float(as_numpy(box_oscillation(x, r)).max())
    slack = 1e-4 * (1 + bound) if x.dtype in (np.float32, torch.float32) else 1e-9
    assert error <= bound + slack


@SETTINGS
@given(
    x=signals(dtypes=["float64", "int64"]),
    reduce=st.sampled_from(["sum", "mean", "max", "min", "any"]),
    data=st.data(),
)
def test_transform_after_upsample_is_the_identity(x, reduce, data):
    shape = tuple(x.shape)
    r = scale_for(data.draw, shape, data.draw(st.booleans()))
    y = fractal_transform(x, r, reduce)  # any array of the coarse shape
    again = fractal_transform(upsample(y, r, shape, reduce), r, reduce)
    np.testing.assert_allclose(
        as_numpy(again).astype(np.float64), as_numpy(y).astype(np.float64), rtol=1e-12, atol=1e-9
    )


def test_upsample_is_exact_on_box_constant_signals_and_the_error_vanishes_with_resolution():
    y = np.array([[1.0, -2.0], [3.5, 0.25]])
    w = upsample(y, 3, (6, 5), reduce="mean")  # constant on every 3-box
    np.testing.assert_array_equal(upsample(fractal_transform(w, 3, "mean"), 3, w.shape, "mean"), w)
    errors = []
    for n in (64, 256, 1024):  # a Lipschitz signal sampled ever finer, boxes of fixed side
        grid = np.linspace(0.0, 1.0, n)
        signal = np.sin(2 * np.pi * grid)[:, None] * np.cos(np.pi * grid)[None, :]
        back = upsample(fractal_transform(signal, 4), 4, signal.shape)
        errors.append(np.abs(back - signal).max())
        assert errors[-1] <= box_oscillation(signal, 4).max()
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.02


# ---------------------------------------------------------------------------------------
# types, devices, helpers


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.bool])
def test_torch_results_keep_device_and_documented_dtype(reduce, dtype):
    x = (torch.arange(30).reshape(5, 6) % 4).to(dtype)
    y = fractal_transform(x, 2, reduce)
    assert isinstance(y, torch.Tensor) and y.device == x.device
    expected = {
        "sum": dtype if dtype.is_floating_point else torch.int64,
        "mean": dtype if dtype.is_floating_point else torch.float64,
        "max": dtype, "min": dtype, "any": torch.bool,
    }[reduce]  # fmt: skip
    assert y.dtype == expected
    np.testing.assert_array_equal(
        as_numpy(y), as_numpy(fractal_transform(x.numpy(), 2, reduce))
    )


def test_numpy_unsigned_and_readonly_inputs():
    x = np.arange(12, dtype=np.uint32).reshape(3, 4)
    np.testing.assert_array_equal(fractal_transform(x, 2), [[10, 18], [17, 21]])
    x.setflags(write=False)
    assert fractal_transform(x, 2, "max").tolist() == [[5, 7], [9, 11]]


def test_gradients_are_not_tracked():
    w = torch.ones(4, 4, requires_grad=True)
    assert not fractal_transform(w, 2).requires_grad


def test_box_sizes_and_coarse_shape():
    assert coarse_shape((64, 3, 3, 3), 2) == (32, 2, 2, 2)
    np.testing.assert_array_equal(box_sizes((5, 3), 2), [[4, 2], [4, 2], [2, 1]])
    assert box_sizes((7, 9, 2), (3, 4, 1)).sum() == 7 * 9 * 2


def test_unfold_conv():
    w = torch.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    u = unfold_conv(w)
    assert u.shape == (2, 12) and torch.equal(u[1], w[1].reshape(-1))
    assert unfold_conv(np.zeros((5, 7))).shape == (5, 7)
    with pytest.raises(ValueError, match="rank"):
        unfold_conv(np.zeros(()))


# ---------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("x", "r", "message"),
    [
        (np.array([1.0, np.nan, 2.0]), 1, "non-finite.*1 NaN"),
        (torch.tensor([[1.0, float("inf")]]), 1, "non-finite.*1 infinite"),
        (np.zeros((0, 3)), 1, "empty"),
        (torch.zeros((4, 0)), 1, "empty"),
        (np.float64(3.0), 1, "rank 0"),
        (np.zeros((2, 2, 2, 2, 2)), 1, "rank 5"),
        (np.zeros(4, dtype=np.complex128), 1, "complex"),
        (torch.zeros(4, dtype=torch.complex64), 1, "complex"),
        (np.array(["a", "b"]), 1, "real numbers"),
        (np.zeros(4), 0, "r must be an integer >= 1"),
        (np.zeros(4), -2, "r must be an integer >= 1"),
        (np.zeros((4, 6)), 7, "larger than the grid"),
        (np.zeros((4, 6)), (5, 7), "larger than the grid"),
        (np.zeros((4, 6)), (2, 2, 2), "rank 2"),
        (np.zeros((4, 6)), (2, 0), r"r\[1\] must be an integer >= 1"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_problem(x, r, message):
    with pytest.raises(ValueError, match=message):
        fractal_transform(x, r)


@pytest.mark.parametrize("r", [2.5, 2.0, True, "2", None])
def test_a_box_side_of_the_wrong_type_is_a_type_error(r):
    with pytest.raises(TypeError, match="r must be an integer, got"):
        fractal_transform(np.zeros(4), r)


def test_bad_reduce_and_bad_upsample_shapes():
    with pytest.raises(ValueError, match="reduce must be one of"):
        fractal_transform(np.zeros(4), 2, reduce="median")
    with pytest.raises(ValueError, match="has shape"):
        upsample(np.zeros(3), 2, (8,))
    with pytest.raises(ValueError, match="rank"):
        upsample(np.zeros(3), 2, (5, 5))
    with pytest.raises(TypeError, match="numpy array or a torch tensor"):
        fractal_transform({"a": 1}, 2)


def test_a_side_larger_than_one_axis_is_allowed_when_another_axis_is_longer():
    w = np.ones((64, 3, 3, 3))
    assert fractal_transform(w, 4).shape == (16, 1, 1, 1)
    assert fractal_transform(w, 64).tolist() == [[[[64 * 27.0]]]]


def test_a_sum_that_overflows_is_not_mistaken_for_a_non_finite_entry():
    # the finite check sums first (cheap) and checks entry by entry only if the sum is not
    # finite: float16 values of 6e4 overflow the sum but are all finite
    x = np.full(16, 6.0e4, dtype=np.float16)
    assert fractal_transform(x, 4, "max").tolist() == [6.0e4] * 4
    with pytest.raises(ValueError, match="1 infinite"):
        fractal_transform(np.concatenate([x, [np.float16(np.inf)]]), 4, "max")
