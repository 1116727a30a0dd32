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
    submodules=["analysis", "cache", "config", "data", "distributed", "loaders", "models",
                "spectral", "train"],
    submod_attrs={
        "analysis": ["analyze", "architecture_summary", "compare", "weight_layers"],
        "cache": ["TrainedModel", "trained_model"],
        "config": ["TrainConfig", "recipe_table"],
        "data": [
            "CIFAR10Arrays",
            "CIFAR10ChecksumError",
            "SAMPLE_CONTENT_SHA256",
            "load_cifar10",
            "to_display",
            "variant_from_env",
        ],
        "distributed": ["DistributedContext", "train_distributed"],
        "loaders": ["CIFAR10Tensors", "cifar10_datasets", "cifar10_loaders"],
        "models": ["build_model", "parameter_count", "parameter_table"],
        "spectral": ["ALPHA_RANGE", "DEFAULT_MIN_EVALS", "SpectralFit",
                     "empirical_spectral_density", "esd_alpha", "layer_spectra"],
        "train": ["train_model"],
    },
)
