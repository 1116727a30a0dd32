"""The figure helpers of chapters 01-03: segmentation by scale, box covers, log-log plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fractalnb import box_counts, box_dimension, fractal_transform, geometry, plotting  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(2, 40), density=st.floats(0.01, 0.5),
       seed=st.integers(0, 2**32 - 1), dilation=st.sampled_from([2, 3]))
def test_finest_covering_scale_encodes_every_cover(rows, cols, density, seed, dilation):
    mask = np.random.default_rng(seed).random((rows, cols)) < density
    scales = [1]
    while scales[-1] * dilation <= max(rows, cols):
        scales.append(scales[-1] * dilation)
    levels = plotting.finest_covering_scale(mask, scales)
    for r in scales:
        covered = (levels > 0) & (levels <= r)
        # the points coloured r or finer are exactly the boxes of side r that meet A ...
        coarse = fractal_transform(mask, r, reduce="any")
        assert np.array_equal(fractal_transform(covered, r, reduce="any"), coarse)
        assert np.array_equal(fractal_transform(covered, r, reduce="min"), coarse)
        # ... so their number of boxes is N(r)
        assert int(coarse.sum()) == int(box_counts(mask, [r])[0])
    assert np.array_equal(levels == 1, mask)


def test_finest_covering_scale_example_and_torch_input():
    a = np.zeros((4, 4), dtype=bool)
    a[0, 0] = True
    expected = plotting.finest_covering_scale(a, [1, 2, 4])
    assert np.array_equal(plotting.finest_covering_scale(torch.from_numpy(a), [1, 2, 4]), expected)
    assert expected[0, 0] == 1 and expected[1, 1] == 2 and expected[3, 3] == 4
    # a point that no listed box puts in contact with A gets 0
    assert plotting.finest_covering_scale(a, [1, 2])[3, 3] == 0


@pytest.mark.parametrize("mask, scales, message", [
    (np.zeros((4, 4)), [1, 2], "boolean"),
    (np.zeros((4, 4), dtype=bool), [2, 1], "strictly increasing"),
    (np.zeros((4, 4), dtype=bool), [0, 2], "scales must hold values >= 1"),
    (np.zeros((4, 4), dtype=bool), [2, 2], "strictly increasing"),
    (np.zeros((4, 4), dtype=bool), [1, 8], "scales must be <= 4"),
    (np.zeros((0, 4), dtype=bool), [1], "empty"),
])
def test_finest_covering_scale_rejects_bad_input(mask, scales, message):
    with pytest.raises(ValueError, match=message):
        plotting.finest_covering_scale(mask, scales)


def test_plot_helpers_draw_and_validate():
    carpet = geometry.sierpinski_carpet(3).mask
    ax = plotting.plot_segmentation(carpet, [1, 3, 9, 27])
    assert ax.get_xlabel() and ax.get_ylabel()
    ax = plotting.plot_box_cover(carpet, 3)
    assert ax.get_xlabel() and ax.get_ylabel()
    ax = plotting.plot_weights(np.random.default_rng(0).standard_t(2, size=(8, 12)), robust=True)
    assert ax.get_xlabel() and ax.get_ylabel()
    fit = box_dimension(carpet, scales=[1, 3, 9, 27], fit_range="all")
    ax = plotting.plot_loglog({"carpet": fit}, truth={"carpet": np.log(8) / np.log(3)})
    assert "1.893" in ax.get_legend().get_texts()[0].get_text()
    ax = plotting.plot_local_slopes(fit, truth=1.89)
    assert np.allclose(ax.lines[0].get_ydata(), np.log(8) / np.log(3))
    plt.close("all")
    with pytest.raises(ValueError, match="w must have rank 2"):
        plotting.plot_weights(np.zeros(5))
    with pytest.raises(ValueError, match="kind"):
        plotting.plot_weights(np.zeros((2, 2)), kind="log")
    with pytest.raises(ValueError, match="non-finite|NaN"):
        plotting.plot_weights(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="mask must have rank 2"):
        plotting.plot_segmentation(np.zeros(4, dtype=bool), [1, 2])
    with pytest.raises(ValueError, match="BoxDimension"):
        plotting.plot_loglog({})
    with pytest.raises(TypeError, match="fits must be a BoxDimension"):
        plotting.plot_loglog(3)
    with pytest.raises(TypeError, match="scales must hold integers"):
        plotting.finest_covering_scale(np.zeros((4, 4), dtype=bool), [1.0, 2.0])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plotting.plot_weights(np.zeros((2, 2)), ax="left")
    plt.close("all")


def test_nan_is_drawn_as_a_gap_where_the_docstring_says_so():
    import dataclasses

    import pandas as pd

    carpet = geometry.sierpinski_carpet(2).mask
    fit = box_dimension(carpet, scales=[1, 3, 9], fit_range="all")
    failed = dataclasses.replace(fit, dimension=float("nan"),
                                 local_slopes=np.array([np.nan, 1.9]))
    ax = plotting.plot_loglog({"failed": failed, "carpet": fit})
    assert "nan" in ax.get_legend().get_texts()[0].get_text()
    ax = plotting.plot_local_slopes(failed)
    assert np.isnan(ax.lines[0].get_ydata()[0])
    null = pd.DataFrame({"rule": ["a", "a"], "model": ["shuffled"] * 2,
                         "dimension": [1.0, np.nan]})
    plotting.plot_null_comparison(null, {"a": 1.2})
    with pytest.raises(ValueError, match=r"observed\['a'\] must be a finite"):
        plotting.plot_null_comparison(null, {"a": np.nan})
    history = pd.DataFrame({"epoch": [0, 1], "train_loss": [np.nan, 1.0], "test_loss": [2.3, 1.2],
                            "train_acc": [np.nan, 0.5], "test_acc": [0.1, 0.45]})
    plotting.plot_history({"run": history})
    with pytest.raises(ValueError, match="images has non-finite entries"):
        plotting.image_grid(np.full((1, 2, 2, 3), np.nan), [0], ["a"])
    plt.close("all")
