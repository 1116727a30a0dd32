"""The geometry of training itself: Part VI of the book (chapters 13 and 14).

Holds the trainability map of a small network over a grid of learning rates and the
box-counting dimension of its boundary (chapter 13), and the persistent-homology (PH₀,
minimum-spanning-tree) dimension of point sets and of SGD trajectories beside the
generalisation gap (chapter 14).

Every public name of the subpackage is importable from it directly (``from
fractalnb.dynamics import ...``); its modules are imported on first use (lazy imports),
so importing the subpackage itself is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=[
        # chapter 13 (trainability) modules: add below this line
        "trainability",
        "trainability_zoom",
        # chapter 14 (PH dimension, trajectories) modules: add below this line
        "persistent_homology",
        "point_sets",
        "trajectories",
    ],
    submod_attrs={
        # chapter 13 (trainability) names: add below this line
        "trainability": [
            "BLOWUP",
            "CRITERIA",
            "NONLINEARITIES",
            "TrainabilityMap",
            "TrainabilitySetup",
            "classify",
            "output_layer_threshold",
            "paper_setup",
            "train_grid",
            "trainability_map",
        ],
        "trainability_zoom": [
            "boundary_dimension",
            "rank_colours",
            "zoom_sequence",
            "zoom_window",
            "zoom_table",
        ],
        # chapter 14 (PH dimension, trajectories) names: add below this line
        "persistent_homology": ["PHDimension", "mst_length", "ph_dimension"],
        "point_sets": ["uniform_cube", "fractal_points", "brownian_path", "stable_path"],
        "trajectories": ["ImageFeatures", "image_features", "TrajectoryRun",
                         "train_trajectory", "trajectory_grid", "Correlation",
                         "rank_correlation"],
    },
)
