"""fractalnb: the fractal and self-similar geometry of deep neural networks.

The package behind the book *Fractal Geometry of Deep Networks*, one concept per module
(see the book's API reference for each):

- :mod:`fractalnb.profiles` — the quick/full run switch;
- :mod:`fractalnb.data` — CIFAR-10, full and sample;
- :mod:`fractalnb.environment` — what a run ran on;
- :mod:`fractalnb.fractals` — analytic test sets with known dimension;
- :mod:`fractalnb.transform` — the fractal transformation T_r and its upsampling;
- :mod:`fractalnb.boxcount` — occupancy rules, box counts, the box-counting dimension;
- :mod:`fractalnb.dsi` — discrete scale invariance tests;
- :mod:`fractalnb.null_models` — shuffled and Gaussian null models of a layer;
- :mod:`fractalnb.symmetry` — neuron permutations and intertwiner rescalings;
- :mod:`fractalnb.models`, :mod:`fractalnb.train`, :mod:`fractalnb.analysis` — CIFAR-10
  models, the training loop and cache, and :func:`~fractalnb.analysis.analyze` (also
  ``fractalnb.analyze``) for any module;
- :mod:`fractalnb.random_networks`, :mod:`fractalnb.sphere` — random networks on the sphere;
- :mod:`fractalnb.feature_networks`, :mod:`fractalnb.graph_boxcover`,
  :mod:`fractalnb.token_models` — feature networks, SS_rate and box covering of graphs;
- :mod:`fractalnb.plotting` — the book's figure helpers.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import data, environment, paths, plotting, profiles

__all__ = ["__version__", "data", "environment", "paths", "plotting", "profiles"]

# --- engine (fractal transformation, box counting, dimension, symmetries) ---------------
from . import boxcount, dsi, fractals, transform  # noqa: E402
from .boxcount import (  # noqa: E402
    box_counts,
    box_dimension,
    differential_box_counts,
    dilation_scales,
    occupancy,
)
from .dsi import dsi_test  # noqa: E402
from .transform import fractal_transform, unfold_conv, upsample  # noqa: E402

__all__ += [
    "boxcount", "dsi", "fractals", "transform", "box_counts", "box_dimension",
    "differential_box_counts", "dilation_scales", "dsi_test", "fractal_transform", "occupancy",
    "unfold_conv", "upsample",
]  # fmt: skip
from . import null_models, symmetry  # noqa: E402  (null models: 04; symmetries: 06, 07)

__all__ += ["null_models", "symmetry"]

# --- CIFAR-10 models, training, analysis ------------------------------------------------
from . import analysis, models, train  # noqa: E402
from .analysis import analyze  # noqa: E402  (the function; the module is fractalnb.analysis)

__all__ += ["analysis", "models", "train", "analyze"]

# --- random networks --------------------------------------------------------------------
from . import random_networks, sphere  # noqa: E402

__all__ += ["random_networks", "sphere"]

# --- feature networks -------------------------------------------------------------------
from . import feature_networks, graph_boxcover, token_models  # noqa: E402

__all__ += ["feature_networks", "graph_boxcover", "token_models"]
