"""Feature networks and their self-similarity: Part V of the book (chapters 11 and 12).

Holds graphs with known box dimension, box covering (compiled greedy colouring, CBB, MEMB),
feature networks of a layer, the self-similarity rate SS_rate, the self-similarity constraint
in training, and the token models (ViT, Mixer).

Every public name of the subpackage is importable from it directly (``from fractalnb.graphs
import ...``); its modules are imported on first use (lazy imports, as scikit-image does), so
importing the subpackage itself is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=[
        "boxcover",
        "constraint",
        "features",
        "generators",
        "self_similarity",
        "token_models",
    ],
    submod_attrs={
        "boxcover": [
            "BoxCovering",
            "METHODS",
            "UNREACHABLE",
            "box_cover",
            "graph_box_counts",
            "greedy_box_cover_networkx",
            "hop_distances",
            "metric_box_cover",
        ],
        "constraint": ["SelfSimilarityConstraint", "compare_constraint", "self_similarity_penalty"],
        "features": [
            "LAYOUTS",
            "LayerRecorder",
            "channel_features",
            "classical_mds",
            "default_layers",
            "distance_matrix",
            "feature_graph",
            "layer_features",
            "pair_distances",
        ],
        "generators": [
            "as_adjacency",
            "connectivity_threshold",
            "flower_box_dimension",
            "flower_diameter",
            "lattice_graph",
            "path_graph",
            "small_world_graph",
            "subflower_bound",
            "subflower_cover",
            "threshold_graph",
            "uv_flower",
        ],
        "self_similarity": [
            "FORMULAS",
            "SelfSimilarityCurve",
            "feature_graph_box_counts",
            "layer_self_similarity",
            "metric_self_similarity_curve",
            "pair_fraction",
            "pseudo_box_count",
            "self_similarity_curve",
            "ss_rate",
            "ss_rate_metric",
            "ss_rate_of_curve",
            "theta_grid",
        ],
        "token_models": ["TOKEN_MODELS", "build_token_model"],
    },
)
