"""Bad input to every public function of fractalnb.training is refused clearly (see harness.py).

Everything is tiny: a 16 x 16 linear layer, two blank CIFAR-sized images, an 8-sample
synthetic loader; the CIFAR-10 sample is read (``FRACTALNB_CIFAR10_SAMPLE``, or
../shared/data/ beside the repository) but never trained on: ``trained_model``'s valid call
trains its 2-channel CNN for one step on 8 random images (see ``_no_cifar_training``).
"""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fractalnb.training
from fractalnb import training
from fractalnb.geometry import against_null, null_spread

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid

torch.manual_seed(0)
_LINEAR = nn.Linear(16, 16)
_TABLE = training.analyze(_LINEAR)
_TABLES = {"a": _TABLE}
_VERDICTS = {"a": against_null(_TABLE, null_spread(_LINEAR, n=2, seed=0))}

_IMAGES = np.zeros((2, 32, 32, 3), np.uint8)
_LABELS = np.array([0, 9])

_DATA = TensorDataset(torch.randn(8, 3, 4, 4), torch.randint(0, 4, (8,)))
_LOADERS = (DataLoader(_DATA, batch_size=4), DataLoader(_DATA, batch_size=8))


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 4))


_CIFAR_SIZED = TensorDataset(torch.randn(8, 3, 32, 32), torch.arange(8))


@pytest.fixture(autouse=True)
def _no_cifar_training(monkeypatch):
    """trained_model trains on 8 random images here, not on CIFAR-10 (its arguments are
    checked before it trains; tests/test_train.py trains on the sample)."""
    from fractalnb.training import cache

    real = cache.train_model

    def tiny(model, *, variant, batch_size, **kwargs):
        loaders = (DataLoader(_CIFAR_SIZED, batch_size=batch_size), DataLoader(_CIFAR_SIZED))
        return real(model, batch_size=batch_size, loaders=loaders, **kwargs)

    monkeypatch.setattr(cache, "train_model", tiny)


_DEVICE = ["meta", "gpu0", 3, 0.5]
_PATH = [3, 1.5, b"/tmp", True, ""]
_WIDTH = [0, -3, 1.5, 2.0, True, "2", None, 10**5]  # 10**5: ~10^13 parameters
_OPTIONAL_POSITIVE_INT = [0, -1, 1.5, 2.0, True, "1"]
_MOMENTUM = [1.0, -0.1, math.nan, "0.9", None, True]
_WEIGHT_DECAY = [-1.0, math.nan, math.inf, "0", None, True]
_WARMUP = [-0.5, 1.0, math.nan, "0", None, True]  # 1.0: not below epochs=1
_SEED = [*BAD["seed"], 2**64]
_FIT_RANGE = ["most", (8, 2), (0, 4), (2.0, 8), 4, (1, 2, 3), [None, 4]]
_THRESHOLD = [("median", 2), "abc", math.nan, -1.0, ("quantile", 1.5), True]
_IMAGES_BAD = [*BAD["array"], _IMAGES.astype(np.float32), _IMAGES.transpose(0, 3, 1, 2),
               _IMAGES[0], np.zeros((0, 32, 32, 3), np.uint8)]
_LABELS_BAD = [np.array([0, 11]), np.array([-1, 0]), np.array([0.0, 1.0]), np.array([0]),
               np.zeros((2, 1), int), np.array([0, 1j]), "ab", None]
_TABLE_MAPPING = [3, None, {}, {"b": _TABLE}, {"a": 3},
                  {"a": _TABLE.drop(columns=["dimension"])}]

_ESD_WEIGHT = np.random.default_rng(0).standard_normal((120, 60))

_TINY_RUN = {"name": "custom_cnn", "seed": 0, "variant": "sample", "profile": "quick",
             "progress": False, "width": 2, "epochs": 1, "steps_per_epoch": 1, "batch_size": 8}

SPECS = [
    # analysis
    Spec(training.analyze, {"model": _LINEAR},
         {"model": "module", "threshold": _THRESHOLD, "mode": "choice", "conv": "choice",
          "dilation": [1, 0, -2, 2.0, 2.5, True, "2", None], "fit_range": _FIT_RANGE,
          "confidence": [*BAD["probability"], 0.0, 1.0, math.inf], "device": _DEVICE,
          "progress": "bool", "spectral": "bool"}),
    Spec(training.compare, {"models": {"a": _LINEAR}},
         {"models": [{}, [_LINEAR], 3, None, {"a": 3}], "key": [3, None, "", "name", "dimension"],
          "mode": "choice", "dilation": [1, 2.0, True], "fit_range": _FIT_RANGE[:3],
          "progress": "bool"}),
    Spec(training.weight_layers, {"table": _TABLE},
         {"table": [3, None, "abc", np.zeros(3), _TABLE.drop(columns=["kind"])]}),
    Spec(training.architecture_summary, {"trained": _TABLES, "init": _TABLES,
                                         "verdicts": _VERDICTS},
         {"trained": _TABLE_MAPPING, "init": _TABLE_MAPPING,
          "verdicts": [3, None, {}, {"b": _VERDICTS["a"]}, {"a": 3},
                       {"a": _VERDICTS["a"].drop(columns=["separated"])}],
          "checks": [3, "checks", {"zz": _TABLE}, {"a": 3}, {"a": _TABLE}]}),
    # spectral view (the ESD tail exponent)
    Spec(training.empirical_spectral_density, {"weight": _ESD_WEIGHT},
         {"weight": [*BAD["array"], np.ones(4), np.ones((1,) * 6), np.zeros((4, 4)),
                     torch.ones(3), torch.full((3, 3), math.nan)],
          "conv": "choice"}),
    Spec(training.layer_spectra, {"model": _LINEAR},
         {"model": "module", "conv": "choice", "min_evals": [*BAD["positive_int"], 9]}),
    Spec(training.esd_alpha, {"weight": _ESD_WEIGHT},
         {"weight": [*BAD["array"], np.ones(4), np.zeros((4, 4)), np.ones((8, 4))],
          "conv": "choice", "min_evals": [*BAD["positive_int"], 9, 10_000]}),
    # cache and config
    Spec(training.trained_model, _TINY_RUN,
         {"name": [*BAD["choice"], "resnet50"], "seed": _SEED,
          "profile": ["no-such-option", 3, "medium"], "variant": ["mini", 3, True],
          "width": [w for w in _WIDTH if w is not None], "device": _DEVICE, "progress": "bool",
          "epochs": "positive_int", "batch_size": "positive_int", "lr": "positive_real",
          "momentum": _MOMENTUM, "weight_decay": _WEIGHT_DECAY, "optimizer": "choice",
          "warmup_epochs": _WARMUP, "steps_per_epoch": _OPTIONAL_POSITIVE_INT,
          "allow_training": "bool"}),
    Spec(training.TrainConfig, {"epochs": 1},
         {"width": [w for w in _WIDTH if w is not None][:-1], "epochs": "positive_int",
          "batch_size": "positive_int", "lr": "positive_real", "momentum": _MOMENTUM,
          "weight_decay": _WEIGHT_DECAY, "optimizer": "choice", "warmup_epochs": _WARMUP,
          "steps_per_epoch": _OPTIONAL_POSITIVE_INT}),
    Spec(training.recipe_table, {"profile": "quick"}, {"profile": ["medium", 3, True]}),
    # data and loaders
    Spec(training.load_cifar10, {"variant": "sample"},
         {"variant": [*BAD["choice"], "Sample"], "root": _PATH, "sample_file": _PATH,
          "download": "bool"}),
    Spec(training.variant_from_env, {}, {}),
    Spec(training.to_display, {"images": torch.zeros(1, 3, 2, 2)},
         {"images": [*BAD["array"], torch.zeros(1, 4, 2, 2), torch.zeros(3, 2, 2),
                     torch.zeros(1, 3, 2, 2, dtype=torch.uint8), np.zeros((1, 3, 2, 2), int)]}),
    Spec(training.CIFAR10Tensors, {"images": _IMAGES, "labels": _LABELS},
         {"images": _IMAGES_BAD, "labels": _LABELS_BAD, "normalize": "bool"}),
    Spec(training.cifar10_datasets, {"variant": "sample"},
         {"variant": "choice", "normalize": "bool"}),
    Spec(training.cifar10_loaders, {"variant": "sample", "batch_size": 16},
         {"variant": "choice", "batch_size": "positive_int", "augment": "bool", "seed": _SEED,
          "test_batch_size": _OPTIONAL_POSITIVE_INT}),
    # models
    Spec(training.build_model, {"name": "custom_cnn", "width": 2},
         {"name": [*BAD["choice"], "resnet50"], "width": [w for w in _WIDTH if w is not None],
          "num_classes": [*BAD["positive_int"], 10**12]}),
    Spec(training.parameter_count, {"model": _LINEAR},
         {"model": "module", "trainable_only": "bool"}),
    Spec(training.parameter_table, {"models": {"a": _LINEAR}},
         {"models": [{}, 3, None, [_LINEAR], {"a": 3}]}),
    # the training loop
    Spec(training.train_model,
         {"model": _mlp(), "epochs": 1, "loaders": _LOADERS, "progress": False, "device": "cpu"},
         {"model": "module", "epochs": "positive_int", "batch_size": "positive_int",
          "lr": "positive_real", "momentum": _MOMENTUM, "weight_decay": _WEIGHT_DECAY,
          "seed": _SEED, "variant": ["sample", "mini", 3], "device": _DEVICE,
          "optimizer": "choice", "warmup_epochs": _WARMUP,
          "steps_per_epoch": _OPTIONAL_POSITIVE_INT, "extra_loss": [3, "relu?"],
          "metrics": [3, "m", {"m": 3}, {1: len}, [len]], "checkpoint_dir": _PATH,
          "loaders": [3, "ab", (1, 2), (_LOADERS[0],), ([], []), (_LOADERS[0], "ab")],
          "progress": "bool", "state_file": _PATH, "stop_after": [0, -1, 1.5, "1", True, 2]}),
]

EXEMPT = {
    "TrainedModel": "a result record, built only by trained_model (its load_epoch checks "
                    "epoch: tests/test_train.py)",
    "CIFAR10Arrays": "a frozen result record, built only by load_cifar10",
    "CIFAR10ChecksumError": "an exception class, raised by load_cifar10",
    "SpectralFit": "a frozen result record, built only by esd_alpha",
    "DistributedContext": "fuzzed with this harness in tests/test_distributed.py (needs a "
                          "process group)",
    "train_distributed": "fuzzed with this harness in tests/test_distributed.py (needs a "
                         "process group)",
}


def test_every_public_function_has_a_spec():
    check_coverage(fractalnb.training, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)
