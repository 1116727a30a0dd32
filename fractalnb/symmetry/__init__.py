"""The symmetries of weight space: chapters 06 and 07, and the symmetry checks of chapter 09.

Holds permutations and positive rescalings of weight tensors, the coupling of a model's layers,
function-preserving symmetries of a whole model and the checks that they preserve it,
box-respecting permutations, and reports of how box counts respond.

Every public name of the subpackage is importable from it directly (``from fractalnb.symmetry
import ...``); its modules are imported on first use (lazy imports, as scikit-image does), so
importing the subpackage itself is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=[
        "box_permutations",
        "coupling",
        "equivariance",
        "model_checks",
        "neurons",
        "rescaling_reports",
        "tensors",
    ],
    submod_attrs={
        "box_permutations": [
            "block_permutation",
            "hierarchical_permutation",
            "respected_scales",
            "respects_scale",
            "within_block_permutation",
        ],
        "coupling": ["permutable_layers"],
        "equivariance": ["equivariance_table", "global_quantities", "permutation_spread"],
        "model_checks": ["function_distance", "symmetry_checks"],
        "neurons": [
            "function_preservation",
            "permute_neurons",
            "rescale_before_batchnorm",
            "rescale_neurons",
        ],
        "rescaling_reports": [
            "RescalingDefect",
            "rescaling_commutation_defect",
            "rescaling_count_report",
            "rescaling_defect_table",
        ],
        "tensors": [
            "box_constant_scales",
            "permute_columns",
            "permute_rows",
            "random_permutation",
            "random_scales",
        ],
    },
)
