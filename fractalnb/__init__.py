"""fractalnb: the fractal and self-similar geometry of deep neural networks.

The package behind the book *Fractal Geometry of Deep Networks*, one concept per module
(see the book's API reference for each):

- :mod:`fractalnb.profiles` — the quick/full run switch;
- :mod:`fractalnb.data` — CIFAR-10, full and sample;
- :mod:`fractalnb.environment` — what a run ran on;
- :mod:`fractalnb.plotting` — the book's figure helpers.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import data, environment, paths, plotting, profiles

__all__ = ["__version__", "data", "environment", "paths", "plotting", "profiles"]

# --- engine (fractal transformation, box counting, dimension, symmetries) ---------------

# --- CIFAR-10 models, training, analysis ------------------------------------------------

# --- random networks --------------------------------------------------------------------

# --- feature networks -------------------------------------------------------------------
