"""The test sets themselves: sizes, self-similarity of the constructions, random surfaces."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import geometry
from fractalnb.geometry import fractal_transform

SETTINGS = settings(deadline=None, max_examples=25, derandomize=True)

CONSTRUCTIONS = [
    # (constructor, pieces m, ratio lambda, rank)
    (geometry.cantor_set, 2, 3, 1),
    (geometry.sierpinski_triangle, 3, 2, 2),
    (geometry.sierpinski_carpet, 8, 3, 2),
    (geometry.vicsek_fractal, 5, 3, 2),
    (geometry.menger_sponge, 20, 3, 3),
]


@pytest.mark.parametrize(("build", "pieces", "ratio", "rank"), CONSTRUCTIONS,
                         ids=lambda v: getattr(v, "__name__", str(v)))  # fmt: skip
def test_size_dimension_and_self_similarity(build, pieces, ratio, rank):
    for level in range(4 if rank < 3 else 3):
        f = build(level)
        assert f.mask.shape == (ratio**level,) * rank and f.mask.dtype == bool
        assert int(f.mask.sum()) == pieces**level
        assert f.dimension == pytest.approx(math.log(pieces) / math.log(ratio))
        assert f.dilation == ratio and f.level == level
        np.testing.assert_array_equal(f.matched_scales(), ratio ** np.arange(level + 1))
        assert not f.mask.flags.writeable
        if level >= 1:
            # one step of T_lambda ("any") maps level L to level L - 1: exact self-similarity
            coarse = fractal_transform(f.mask, ratio, reduce="any")
            np.testing.assert_array_equal(coarse, build(level - 1).mask)


def test_cantor_dust_is_the_product_of_cantor_sets():
    for rank in (1, 2, 3, 4):
        dust = geometry.cantor_dust(2, rank=rank)
        assert dust.mask.shape == (9,) * rank and dust.mask.sum() == 4**rank
        assert dust.dimension == pytest.approx(rank * math.log(2) / math.log(3))
    line = geometry.cantor_set(3).mask
    np.testing.assert_array_equal(geometry.cantor_dust(3, 2).mask, np.outer(line, line))


@SETTINGS
@given(size=st.integers(2, 300), angle=st.floats(0.0, 45.0))
def test_a_digital_line_has_one_cell_per_column(size, angle):
    line = geometry.line(size, angle)
    assert line.mask.shape == (size, size)
    np.testing.assert_array_equal(line.mask.sum(axis=0), np.ones(size))
    rows = np.argmax(line.mask, axis=0)
    assert rows[0] == 0 and np.all(np.diff(rows) >= 0) and np.all(np.diff(rows) <= 1)


def test_lines_and_squares_dilation_only_when_exactly_self_similar():
    assert geometry.line(64, 0).dilation == 2 and geometry.line(64, 45).level == 6
    assert geometry.line(64, 30).dilation is None and geometry.line(60, 0).dilation is None
    assert geometry.filled_square(32).level == 5 and geometry.filled_square(30).dilation is None
    assert geometry.filled_square(5).mask.all()


def test_fractal_percolation_expected_counts():
    # E[N(3^k)] = (9p)^(L - k), conditioned on nothing: average over seeds
    p, level = 0.7, 4
    counts = np.array([
        [np.count_nonzero(fractal_transform(geometry.fractal_percolation(level, p, seed=s).mask,
                                            3**k, "any")) for k in range(level + 1)]
        for s in range(200)
    ])  # fmt: skip
    expected = (9 * p) ** (level - np.arange(level + 1))
    stderr = counts.std(axis=0) / math.sqrt(len(counts))
    assert np.all(np.abs(counts.mean(axis=0) - expected) <= 4 * stderr + 1e-9)
    same = geometry.fractal_percolation(level, p, seed=5).mask
    np.testing.assert_array_equal(same, geometry.fractal_percolation(level, p, seed=5).mask)


@pytest.mark.parametrize("hurst", [0.3, 0.5, 0.8])
def test_fbm_surface_has_the_right_roughness(hurst):
    # the variogram E|z(x + h) - z(x)|^2 grows as h^(2H); spectral synthesis on a grid is
    # biased at small H (fine lags), so the tolerance is stated: 0.12
    slopes = []
    for seed in range(3):
        s = geometry.fractional_brownian_surface(256, hurst, seed=seed)
        z = s.values
        assert z.shape == (256, 256) and s.dimension == pytest.approx(3 - hurst)
        assert z.mean() == pytest.approx(0.0, abs=1e-12) and z.std() == pytest.approx(1.0)
        lags = np.array([2, 4, 8, 16])
        gamma = [np.mean((z[:, h:] - z[:, :-h]) ** 2) + np.mean((z[h:] - z[:-h]) ** 2)
                 for h in lags]  # fmt: skip
        slopes.append(np.polyfit(np.log(lags), np.log(gamma), 1)[0] / 2)
    assert abs(np.mean(slopes) - hurst) <= 0.12


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: geometry.cantor_set(-1), "level must be an integer >= 0"),
        (lambda: geometry.cantor_dust(2, rank=5), "rank must be an integer in \\[1, 4\\]"),
        (lambda: geometry.menger_sponge(7), "grid points"),
        (lambda: geometry.menger_sponge(10**9), "grid points"),
        (lambda: geometry.line(1), "size must be an integer >= 2"),
        (lambda: geometry.line(8, 60.0), "angle must be a real number >= 0 and <= 45"),
        (lambda: geometry.filled_square(0), "size"),
        (lambda: geometry.fractal_percolation(3, 0.1, seed=0), "keep must be a real number > "),
        (lambda: geometry.fractal_percolation(0, 0.5, seed=0), "level must be an integer >= 1"),
        (lambda: geometry.fractal_percolation(2, 0.5, seed=-1), "seed must be an integer >= 0"),
        (lambda: geometry.fractional_brownian_surface(64, 1.0, seed=0),
         "hurst must be a real number > 0 and < 1"),
        (lambda: geometry.fractional_brownian_surface(4, 0.5, seed=0), "size"),
        (lambda: geometry.line(64, 30).matched_scales(), "no construction scale ratio"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: geometry.cantor_set(2.0), "level must be an integer, got float 2.0"),
        (lambda: geometry.sierpinski_carpet(True), "level must be an integer, got bool"),
        (lambda: geometry.line(16.5), "size must be an integer, got float"),
        (lambda: geometry.line(8, "30"), "angle must be a real number"),
        (lambda: geometry.fractional_brownian_surface(8, 0.5, seed=None), "seed must be"),
    ],
)
def test_wrong_types_are_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()
