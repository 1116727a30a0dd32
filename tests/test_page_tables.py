"""Tables and figure sizes for the page: plotting.show_table, format_number, figure_size."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fractalnb import plotting  # noqa: E402
from fractalnb.plotting import format_number, show_table  # noqa: E402


@pytest.mark.parametrize(("value", "text"), [
    (16.0, "16"), (13383.0, "13,383"), (np.int64(7), "7"), (-0.0, "0"), (0.0, "0"),
    (0.024437, "0.0244"), (4.82731, "4.83"), (-1.29215, "-1.29"), (1234.56, "1,235"),
    (2.5e-5, "2.50e-05"), (-3.0e-7, "-3.00e-07"),
    (float("nan"), "—"), (None, "—"), (pd.NA, "—"), (float("inf"), "∞"), (-np.inf, "−∞"),
    (True, "yes"), (np.bool_(False), "no"), ("agrees", "agrees"),
])
def test_numbers_are_shown_by_what_they_mean(value, text):
    assert format_number(value) == text


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
       st.integers(1, 6))
def test_a_formatted_number_reads_back_to_its_significant_digits(value, digits):
    text = format_number(value, digits)
    assert text not in {"-0", "-0.0", "nan", "inf"} and not text.startswith("-0.0" + "0" * 8)
    back = float(text.replace(",", ""))
    if value == 0 or float(value).is_integer():
        assert back == round(value)
    elif abs(value) >= 10 ** digits:
        assert abs(back - value) <= 0.5
    else:  # `digits` significant digits: the relative error is at most half a unit there
        assert abs(back - value) <= 0.5 * 10 ** (math.floor(math.log10(abs(value))) - digits + 1) \
            * (1 + 1e-9)


def test_show_table_orders_formats_and_pads():
    table = pd.DataFrame({"D": [1.58496, np.nan], "boxes": [16.0, 81.0],
                          "verdict": ["agrees", "differs"], "count": [3, 4]},
                         index=["gasket", "carpet"])
    styled = show_table(table, first=["verdict"], columns=["D", "boxes"])
    assert list(styled.data.columns) == ["verdict", "D", "boxes"]
    html = styled.to_html()
    assert "1.58" in html and "—" in html and ">16<" in html.replace(" ", "")
    assert "16.0" not in html and "nan" not in html.lower() and "padding" in html
    assert table.loc["gasket", "D"] == 1.58496  # the values themselves are not changed
    hidden = show_table(table, index=False, digits={"D": 5}, caption="Two fractals").to_html()
    assert "gasket" not in hidden and "1.585" in hidden and "Two fractals" in hidden


def test_show_table_refuses_what_it_cannot_show():
    table = pd.DataFrame({"a": [1.0]})
    with pytest.raises(TypeError, match="DataFrame"):
        show_table(table["a"])
    with pytest.raises(ValueError, match=r"first names \['b'\], not columns of the table"):
        show_table(table, first=["b"])
    with pytest.raises(TypeError, match="columns must be a list of column names"):
        show_table(table, columns="a")
    with pytest.raises(ValueError, match="digits names"):
        show_table(table, digits={"b": 2})
    with pytest.raises(ValueError, match="digits"):
        show_table(table, digits=0)
    with pytest.raises(TypeError, match="caption"):
        show_table(table, caption=3)


def test_figures_fit_the_column():
    assert plotting.figure_size() == (plotting.FIGURE_WIDTH, round(plotting.FIGURE_WIDTH * 0.55,
                                                                   3))
    assert plotting.figure_size(aspect=1.0, width=0.5) == (3.4, 3.4)
    for bad in ({"aspect": 0}, {"width": 1.2}, {"width": 0}, {"aspect": float("nan")}):
        with pytest.raises(ValueError):
            plotting.figure_size(**bad)
    plotting.set_style()
    fig = plt.figure()
    try:  # the style's default figure is the column's width at 100 dpi: 680 px, shown 1:1
        assert fig.get_size_inches()[0] * fig.dpi == pytest.approx(680)
        assert fig.get_layout_engine() is not None  # constrained: no clipped labels
    finally:
        plt.close(fig)


def test_the_package_figures_fit_the_column():
    histories = {"net": pd.DataFrame({"epoch": [1, 2], "train_loss": [2.0, 1.5],
                                      "test_loss": [2.1, 1.7], "train_acc": [0.2, 0.4],
                                      "test_acc": [0.2, 0.35]})}
    rng = np.random.default_rng(0)
    figures = [plotting.plot_history(histories),
               plotting.image_grid(rng.integers(0, 256, (16, 8, 8, 3), dtype=np.uint8),
                                   rng.integers(0, 2, 16), ["a", "b"])]
    try:
        for fig in figures:
            assert fig.get_size_inches()[0] <= plotting.FIGURE_WIDTH + 1e-9
    finally:
        for fig in figures:
            plt.close(fig)
