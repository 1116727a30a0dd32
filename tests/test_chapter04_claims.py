"""Claims of chapter 04 (the dimension of a layer) that its prose states in words."""

from __future__ import annotations

import numpy as np
import pytest

from fractalnb.geometry import box_counts, box_dimension


def test_local_slopes_of_a_dense_set_stay_2_up_to_the_largest_box():
    # "once a box is large enough, it always holds an occupied entry, and the count is
    # just the number of boxes in the grid. This holds up to the largest box: beyond
    # r = rows one box spans all rows, and such a partial box is plotted at its mean
    # side, at which the count of a full grid still falls as r^-2"
    rng = np.random.default_rng(0)
    rows, cols = 16, 256
    mask = rng.random((rows, cols)) < 0.5
    fit = box_dimension(mask, fit_range="all")
    scales = [int(r) for r in fit.scales]
    assert scales[-1] == cols and any(r > rows for r in scales)
    full = [int(np.ceil(rows / r) * np.ceil(cols / r)) for r in scales]
    np.testing.assert_array_equal(fit.counts[scales.index(4):], full[scales.index(4):])
    for lo, slope in zip(scales[:-1], fit.local_slopes):
        if lo >= 4:
            assert slope == pytest.approx(2.0, abs=1e-9)


def test_a_sparse_random_set_bends_near_r_star():
    # "a box of r^2 entries is empty with probability about (1-p)^(r^2), so the
    # crossover sits near r* = p^(-1/2)": below r* the local slope is well under 2,
    # a few times r* above it the slope is 2
    rng = np.random.default_rng(1)
    p = 0.01
    mask = rng.random((256, 256)) < p
    scales = [1, 2, 4, 8, 16, 32, 64]
    counts = box_counts(mask, scales)
    slopes = -np.diff(np.log(counts)) / np.diff(np.log(scales))
    r_star = p**-0.5
    assert all(s < 1.0 for lo, s in zip(scales, slopes) if 2 * lo <= r_star / 2)
    assert all(s == pytest.approx(2.0, abs=0.02) for lo, s in zip(scales, slopes)
               if lo >= 3 * r_star)
