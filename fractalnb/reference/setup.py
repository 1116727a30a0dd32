"""How a reference run is set up for :func:`fractalnb.training.train_model`.

The model and its initialisation, the probe batch of Part V, the SS_rate metric and the
constraint: the part of the reference runs' code that decides what they train, and so one of
the sources whose hash every manifest records (:data:`fractalnb.reference.store.TRAINING_SOURCES`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .runs import RunSpec

__all__ = ["build_reference_model", "state_sha256", "training_kwargs"]


def build_reference_model(spec: RunSpec):
    """Build a run's model with its initialisation: ``torch.manual_seed(seed)``, then the builder.

    The global torch random state is restored afterwards.

    Examples
    --------
    >>> from fractalnb.reference import run_spec
    >>> type(build_reference_model(run_spec("mixer-baseline-seed0"))).__name__
    'MlpMixer'
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        if spec.part == "III":
            from ..training import build_model

            return build_model(spec.model, **spec.architecture)
        from ..graphs import build_token_model

        return build_token_model(spec.model, **spec.architecture)


def state_sha256(state: Mapping[str, Any]) -> str:
    """SHA-256 of a state dict's names, dtypes, shapes and values (float32 as trained).

    Examples
    --------
    >>> import torch
    >>> len(state_sha256(torch.nn.Linear(2, 1).state_dict()))
    64
    """
    digest = hashlib.sha256()
    for name, tensor in state.items():
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{name}:{array.dtype}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _probe(size: int):
    import torch

    from ..training import cifar10_datasets

    _, test = cifar10_datasets("sample")
    return torch.stack([test[i][0] for i in range(size)])


def training_kwargs(spec: RunSpec, target: float | None, model) -> tuple[dict, Any]:
    """Return the arguments of ``train_model`` for a run, and its constraint (to remove after)."""
    kwargs: dict[str, Any] = {k: v for k, v in spec.recipe.items()}
    kwargs.update(seed=spec.seed, variant="sample", device="cpu", progress=False)
    constraint = None
    if spec.part == "V":
        from ..graphs import SelfSimilarityConstraint, ss_rate_metric

        options = spec.constraint
        kwargs["metrics"] = {"ss": ss_rate_metric(_probe(spec.probe_size),
                                                  n_thetas=options["n_thetas"],
                                                  formula=options["formula"])}
        if spec.condition == "constrained":
            constraint = SelfSimilarityConstraint(model, target=target,
                                                  weight=options["weight"], seed=spec.seed,
                                                  n_thetas=options["n_thetas"],
                                                  formula=options["formula"])
            kwargs["extra_loss"] = constraint
    return kwargs, constraint
