"""The coarse action of (Z, +) by recursive dilation, as stated in chapter 03.

On the tower of grids Omega_k (k > 0: k coarse-graining steps by lambda; k < 0: each
entry of Omega split into lambda^-k sub-entries per axis) the step j acts by
phi_j = T_{lambda^j} for j >= 0 and by the upsampling S_{lambda^-j} for j < 0. The chapter
claims, on real weights, and these tests check on random ones:

- phi_0 = id;
- phi_i phi_j = phi_{i+j} exactly (up to rounding) unless i < 0 < j;
- for i < 0 < j the defect is bounded by the oscillation of the coarse-grained signal in
  a box, so relative to ||phi_{i+j} W||_inf it is at most 2, whatever i and j.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import fractal_transform
from fractalnb.geometry import box_oscillation, coarse_shape, upsample


def tower_shape(shape, k, dilation):
    if k >= 0:
        return coarse_shape(shape, dilation**k)
    return tuple(n * dilation ** (-k) for n in shape)


def act(x, j, k, shape, dilation):
    """phi_j on a signal x living on Omega_k (the notebook's definition)."""
    if j >= 0:
        return fractal_transform(x, dilation**j)
    return upsample(x, dilation ** (-j), tower_shape(shape, k + j, dilation))


CASES = [  # (dilation, steps, smallest and largest side): coarse steps stay inside the grid
    (2, range(-2, 3), 16, 24),
    (3, range(-1, 2), 9, 14),
]


def _signal(dilation, low, high):
    return st.tuples(st.integers(1, high), st.integers(low, high), st.integers(0, 2**32 - 1))


@pytest.mark.parametrize("dilation, steps, low, high", CASES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_composition_table_exact_outside_the_mixed_block(dilation, steps, low, high, data):
    rows, cols, seed = data.draw(_signal(dilation, low, high))
    shape = (rows, cols) if data.draw(st.booleans()) else (cols, rows)
    w = np.random.default_rng(seed).normal(size=shape)
    for i in steps:
        for j in steps:
            if i < 0 < j:
                continue
            once = act(w, i + j, 0, shape, dilation)
            twice = act(act(w, j, 0, shape, dilation), i, j, shape, dilation)
            assert twice.shape == once.shape == tower_shape(shape, i + j, dilation)
            scale = max(1.0, float(np.max(np.abs(once))))
            np.testing.assert_allclose(twice, once, rtol=0, atol=1e-12 * scale,
                                       err_msg=f"i={i}, j={j}")


def test_identity_is_phi_zero():
    w = np.random.default_rng(0).normal(size=(7, 12))
    assert np.array_equal(act(w, 0, 0, w.shape, 2), w)


@pytest.mark.parametrize("dilation, steps, low, high", CASES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_mixed_block_defect_is_bounded_by_the_oscillation(dilation, steps, low, high, data):
    rows, cols, seed = data.draw(_signal(dilation, low, high))
    w = np.random.default_rng(seed).normal(size=(rows, cols))
    shape = w.shape
    for i in [s for s in steps if s < 0]:
        for j in [s for s in steps if s > 0]:
            once = act(w, i + j, 0, shape, dilation)
            twice = act(act(w, j, 0, shape, dilation), i, j, shape, dilation)
            defect = float(np.max(np.abs(twice - once)))
            if i + j >= 0:
                # S_{l^-i} T_{l^-i} applied to Y = T_{l^(i+j)} W: within Y's oscillation
                y = fractal_transform(w, dilation ** (i + j))
                bound = float(np.max(box_oscillation(y, dilation ** (-i))))
            else:
                # S_{l^-(i+j)} (S_{l^j} T_{l^j} W - W): S divides by the full box size
                bound = (float(np.max(box_oscillation(w, dilation**j)))
                         / dilation ** (-(i + j) * w.ndim))
            assert defect <= bound + 1e-12 * max(1.0, bound), (i, j, defect, bound)
            assert defect <= 2 * float(np.max(np.abs(once))) + 1e-12


def test_mixed_block_defect_vanishes_on_box_constant_signals():
    coarse = np.random.default_rng(1).normal(size=(3, 5))
    w = upsample(coarse, 4, (12, 20), reduce="mean")     # constant on boxes of side 4
    for i, j in [(-1, 1), (-2, 2), (-1, 2), (-2, 1)]:
        once = act(w, i + j, 0, w.shape, 2)
        twice = act(act(w, j, 0, w.shape, 2), i, j, w.shape, 2)
        np.testing.assert_allclose(twice, once, rtol=0, atol=1e-12)
