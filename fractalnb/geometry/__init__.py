"""The geometry of weight tensors: Parts I and II of the book (chapters 01-07).

Holds analytic fractals and rough surfaces with known dimension, the fractal transformation
T_r, occupancy rules, box counts, power-law fits (the box-counting dimension, local slopes,
self-similarity), discrete scale invariance, and null models.

Every public name of the subpackage is importable from it directly (``from fractalnb.geometry
import ...``); its modules are imported on first use (lazy imports, as scikit-image does), so
importing the subpackage itself is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=[
        "boxcount",
        "dsi",
        "fit",
        "fit_range",
        "fractals",
        "null_models",
        "occupancy_rules",
        "roughness",
        "surfaces",
        "transform",
    ],
    submod_attrs={
        "boxcount": [
            "DEFAULT_DILATION",
            "box_counts",
            "box_dimension",
            "default_scales",
            "differential_box_counts",
            "dilation_scales",
        ],
        "dsi": [
            "DEFAULT_DSI_TOLERANCE",
            "DSIResult",
            "MIN_CONCORDANCE",
            "MIN_PERIODIC_AMPLITUDE",
            "dsi_test",
            "estimate_dilation",
            "log_periodic_concordance",
            "ratio_residual",
        ],
        "fit": [
            "BoxDimension",
            "DEFAULT_CONFIDENCE",
            "ScalingFit",
            "fit_box_dimension",
            "fit_dimension",
            "fit_exponential_decay",
            "local_slopes",
            "self_similarity",
        ],
        "fit_range": ["default_fit_range"],
        "fractals": [
            "Fractal",
            "cantor_dust",
            "cantor_set",
            "filled_square",
            "fractal_percolation",
            "line",
            "menger_sponge",
            "sierpinski_carpet",
            "sierpinski_triangle",
            "vicsek_fractal",
        ],
        "null_models": [
            "against_null",
            "compare_to_null",
            "expected_counts_shuffled",
            "gaussian_like",
            "null_dimensions",
            "null_spread",
            "shuffle_entries",
            "shuffled_copy",
        ],
        "occupancy_rules": [
            "Absolute",
            "DEFAULT_RULE",
            "MeanStd",
            "OccupancyRule",
            "Quantile",
            "occupancy",
            "occupancy_rule",
        ],
        "roughness": [
            "RECOMMENDED",
            "RoughnessDimension",
            "madogram_dimension",
            "power_variation",
            "variation_dimension",
            "variogram_dimension",
        ],
        "surfaces": ["Surface", "fractional_brownian_motion", "fractional_brownian_surface"],
        "transform": [
            "box_oscillation",
            "box_sizes",
            "coarse_shape",
            "fractal_transform",
            "unfold_conv",
            "upsample",
        ],
    },
)
