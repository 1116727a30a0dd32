"""Claims of chapter 02 (box counting) that its prose states in words, checked here."""

from __future__ import annotations

import numpy as np
import pytest

from fractalnb import geometry
from fractalnb.geometry import box_counts, box_dimension, fit_dimension


@pytest.mark.parametrize("fractal", [geometry.sierpinski_triangle(8),
                                     geometry.filled_square(256)],
                         ids=["triangle", "square"])
def test_dyadic_scales_are_exact_for_sets_of_ratio_2(fractal):
    fit = box_dimension(fractal.mask, dilation=2)
    assert fit.dimension == pytest.approx(fractal.dimension, abs=1e-12)


def test_a_misaligned_triangle_measures_below_its_dimension():
    # "Only the offsets aligned with the boxes at every fitted scale reproduce the exact
    # value; at every other offset the estimate lies ... always below the truth"
    triangle = geometry.sierpinski_triangle(6)
    side, largest = triangle.mask.shape[0], 16
    for offset in range(0, 2 * largest + 1):
        grid = np.zeros((side + 2 * largest,) * 2, dtype=bool)
        grid[offset:offset + side, offset:offset + side] = triangle.mask
        fit = box_dimension(grid, scales=triangle.matched_scales(),
                            fit_range=(1, side // 4))
        if offset % largest == 0:
            assert fit.dimension == pytest.approx(triangle.dimension, abs=1e-12)
        else:
            assert fit.dimension < triangle.dimension


def test_the_fewest_boxes_over_offsets_recover_the_aligned_counts():
    triangle = geometry.sierpinski_triangle(6)
    side = triangle.mask.shape[0]
    grid = np.zeros((side + 16,) * 2, dtype=bool)
    grid[5:5 + side, 5:5 + side] = triangle.mask
    scales = [1, 2, 4, 8, 16]
    fewest = [min(int(box_counts(np.pad(grid, ((a, 0), (b, 0))), [r])[0])
                  for a in range(r) for b in range(r)) for r in scales]
    assert fewest == [int(v) for v in box_counts(triangle.mask, scales)]
    best = fit_dimension(scales, fewest, fit_range="all").dimension
    assert best == pytest.approx(triangle.dimension, abs=1e-12)
