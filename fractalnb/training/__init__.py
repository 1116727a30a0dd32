"""CIFAR-10 experiments: Part III of the book (chapters 08 and 09).

Holds the CIFAR-10 data (sample and full), datasets and loaders, the models, training
configurations, the training loop, the trained-model cache, and the per-layer analysis of any
module.

Every public name of the subpackage is importable from it directly (``from fractalnb.training
import ...``); its modules are imported on first use (lazy imports, as scikit-image does), so
importing the subpackage itself is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["analysis", "cache", "config", "data", "loaders", "models", "train"],
    submod_attrs={
        "analysis": [
            "COLUMNS",
            "CONV_VIEWS",
            "LAYER_KINDS",
            "analyze",
            "architecture_summary",
            "compare",
            "dsi_residual",
            "layer_kind",
            "weight_layers",
        ],
        "cache": ["TrainedModel", "file_lock", "trained_model"],
        "config": ["OPTIMIZERS", "RECIPES", "TrainConfig", "recipe", "recipe_table"],
        "data": [
            "CIFAR10Arrays",
            "CIFAR10ChecksumError",
            "CIFAR10_CLASSES",
            "CIFAR10_MEAN",
            "CIFAR10_STD",
            "SAMPLE_CONTENT_SHA256",
            "SAMPLE_ENV",
            "SAMPLE_FILENAME",
            "SAMPLE_FILE_SHA256",
            "VARIANTS",
            "VARIANT_ENV",
            "find_sample_file",
            "load_cifar10",
            "sample_from_full",
            "to_display",
            "variant_from_env",
        ],
        "loaders": ["CIFAR10Tensors", "augment_batch", "cifar10_datasets", "cifar10_loaders"],
        "models": [
            "MODEL_NAMES",
            "STANDARD_WIDTHS",
            "build_model",
            "parameter_count",
            "parameter_table",
            "register_model",
        ],
        "train": ["evaluate", "load_state_dict", "train_model"],
    },
)
