"""The reference runs: what the book's evidence for Parts III and V is trained from.

Three profiles size the book (:mod:`fractalnb.profiles`): ``quick`` is the live demonstration,
``full`` the papers' scale for a GPU, and ``reference`` the largest runs that fit a fixed
budget on the machines that build the book — two CPU cores, the CIFAR-10 sample — trained once
by ``make reference`` and stored with their provenance in ``results/reference``
(:mod:`fractalnb.reference.store`). This module only *specifies* them: every run is a
:class:`RunSpec`, and :func:`reference_runs` lists them in the order they are trained.

Part III
    The three CIFAR-10 networks of :cite:t:`moharil2025recursive` at the widest first-stage
    width that fits the budget, standard augmentation, SGD with a cosine schedule to zero,
    three seeds each.
Part V
    A ViT and an MLP-Mixer (:func:`fractalnb.graphs.build_token_model`), three paired seeds
    of a baseline and of the self-similarity constraint of :cite:t:`ding2025selfsimilarity`
    at γ = 0.25 and at γ = the baselines' own final SS_rate, which is read from the stored
    baseline runs (so those runs come first).

Examples
--------
>>> from fractalnb.reference import reference_runs
>>> runs = reference_runs()
>>> len(runs), runs[0].run_id
(27, 'vit-baseline-seed0')
>>> sorted({run.part for run in runs})
['III', 'V']
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import _validate

__all__ = [
    "GAMMA",
    "RunSpec",
    "reference_runs",
    "run_spec",
]

SEEDS = (0, 1, 2)
"""The seeds of every reference experiment."""

GAMMA = 0.25
"""The paper's γ on the authors' code scale (inside its 0.2–0.3)."""

OWN_LEVEL = "baseline level"
"""The ``target`` of a constrained run whose γ is the baselines' own final mean SS_rate."""

_CIFAR = {
    # model: (width, epochs); widths as wide as the 2-core budget allows
    "custom_cnn": (32, 40),
    "vgg16": (16, 40),
    "resnet18": (16, 30),
}
_CIFAR_RECIPE = dict(batch_size=128, lr=0.05, momentum=0.9, weight_decay=5e-4,
                     optimizer="sgd", warmup_epochs=1.0, steps_per_epoch=None)
_TOKEN = {"vit": dict(width=64, depth=4, patch_size=4),
          "mixer": dict(width=64, depth=4, patch_size=4)}
_TOKEN_RECIPE = dict(epochs=30, batch_size=128, lr=2e-3, momentum=0.9, weight_decay=0.05,
                     optimizer="adamw", warmup_epochs=2.0, steps_per_epoch=None)
_CONSTRAINT = dict(weight=1.0, n_thetas=128, formula="code")
_PROBE_SIZE = 256  # first test images, on which SS_rate is logged every epoch


@dataclass(frozen=True)
class RunSpec:
    """One reference run: model, recipe, seed and (Part V) the constraint.

    Attributes
    ----------
    run_id : str
        Folder name under the results folder, e.g. ``"resnet18-seed1"`` or
        ``"mixer-gamma0.25-seed2"``.
    part : str
        ``"III"`` (CIFAR-10 networks) or ``"V"`` (token models, SS_rate).
    model : str
        ``"custom_cnn"``, ``"vgg16"``, ``"resnet18"``, ``"vit"`` or ``"mixer"``.
    architecture : dict
        Keyword arguments of the model builder (``width``, and ``depth``, ``patch_size``).
    recipe : dict
        The :class:`fractalnb.training.TrainConfig` fields but ``width``.
    seed : int
        Seeds initialisation, batches and augmentation (and the constraint's layer draws).
    condition : str
        ``"trained"`` (Part III), ``"baseline"`` or ``"constrained"`` (Part V).
    target : float, str or None
        γ of a constrained run: a number, or ``"baseline level"`` (resolved from the stored
        baselines of the same model, see :func:`fractalnb.reference.resolve_target`).
    constraint : dict
        α (``weight``), ``n_thetas`` and ``formula`` of the constraint and of the logged
        SS_rate (Part V).
    probe_size : int
        Test images on which SS_rate is logged every epoch (Part V; 0 in Part III).
    checkpoints : tuple of int
        Epochs whose weights are stored (float16); the initialisation (epoch 0) is rebuilt
        from the seed and checked against the SHA-256 in the manifest instead.
    requires : tuple of str
        Runs that must be stored before this one can start.
    """

    run_id: str
    part: str
    model: str
    architecture: dict
    recipe: dict
    seed: int
    condition: str
    target: float | str | None = None
    constraint: dict = field(default_factory=dict)
    probe_size: int = 0
    checkpoints: tuple[int, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def epochs(self) -> int:
        """Epochs of the recipe."""
        return int(self.recipe["epochs"])

    def config(self, target: float | None = None) -> dict[str, Any]:
        """Return the run's full configuration (JSON-serialisable), with γ resolved to ``target``.

        Parameters
        ----------
        target
            The number that ``"baseline level"`` stands for; ignored for other runs.

        Examples
        --------
        >>> run_spec("custom_cnn-seed0").config()["architecture"]
        {'width': 32}
        """
        body = dataclasses.asdict(self)
        del body["requires"]
        body["checkpoints"] = list(self.checkpoints)
        if self.target == OWN_LEVEL:
            if target is None:
                raise ValueError(f"{self.run_id}: γ is the baselines' level; resolve it "
                                 "first (fractalnb.reference.resolve_target)")
            body["target"] = float(_validate.real(target, "target"))
            body["target_rule"] = OWN_LEVEL
        body["profile"] = "reference"
        body["variant"] = "sample"
        body["threads"] = 1
        return body

    @classmethod
    def from_config(cls, config: Mapping[str, Any], requires: tuple[str, ...] = ()
                    ) -> RunSpec:
        """Rebuild a run from the configuration its manifest records (γ as resolved then).

        Examples
        --------
        >>> spec = run_spec("vit-gamma0.25-seed1")
        >>> RunSpec.from_config(spec.config()) == spec
        True
        """
        names = {f.name for f in dataclasses.fields(cls)} - {"requires"}
        body = {k: v for k, v in config.items() if k in names}
        body["checkpoints"] = tuple(body.get("checkpoints", ()))
        if config.get("target_rule") == OWN_LEVEL:
            body["target"] = OWN_LEVEL
        return cls(**body, requires=tuple(requires))

    def estimated_cost(self) -> float:
        """Rough single-thread seconds, for ordering and for the progress bar's ETA."""
        per_epoch = {"custom_cnn": 9.0, "vgg16": 11.5, "resnet18": 23.0, "vit": 9.5,
                     "mixer": 7.5}.get(self.model, 10.0)
        if self.recipe.get("steps_per_epoch"):
            per_epoch *= min(1.0, self.recipe["steps_per_epoch"] / 40)
        return per_epoch * self.epochs * (1.15 if self.condition == "constrained" else 1.0)


def config_sha256(config: Mapping[str, Any]) -> str:
    """SHA-256 of a configuration's canonical JSON.

    Examples
    --------
    >>> config_sha256({"b": 1, "a": 2}) == config_sha256({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _checkpoints(epochs: int) -> tuple[int, ...]:
    return tuple(sorted({epochs // 4, epochs // 2, epochs}))


def reference_runs() -> list[RunSpec]:
    """Every reference run, in training order (Part V baselines first, the longest next).

    Returns
    -------
    list of RunSpec
        27 runs: 3 CIFAR-10 networks × 3 seeds, and ViT and Mixer × 3 seeds × {baseline,
        γ = 0.25, γ = baseline level}.

    Examples
    --------
    >>> [run.run_id for run in reference_runs() if run.model == "mixer"][:3]
    ['mixer-baseline-seed0', 'mixer-baseline-seed1', 'mixer-baseline-seed2']
    """
    baselines, cifar, constrained = [], [], []
    for model, architecture in _TOKEN.items():
        common = dict(part="V", model=model, architecture=dict(architecture),
                      recipe=dict(_TOKEN_RECIPE), constraint=dict(_CONSTRAINT),
                      probe_size=_PROBE_SIZE, checkpoints=(_TOKEN_RECIPE["epochs"],))
        for seed in SEEDS:
            baselines.append(RunSpec(run_id=f"{model}-baseline-seed{seed}", seed=seed,
                                     condition="baseline", **common))
        own = tuple(f"{model}-baseline-seed{seed}" for seed in SEEDS)
        for target, tag, requires in ((GAMMA, f"gamma{GAMMA:g}", ()),
                                      (OWN_LEVEL, "gamma-baseline", own)):
            for seed in SEEDS:
                constrained.append(RunSpec(run_id=f"{model}-{tag}-seed{seed}", seed=seed,
                                           condition="constrained", target=target,
                                           requires=requires, **common))
    for model, (width, epochs) in _CIFAR.items():
        for seed in SEEDS:
            cifar.append(RunSpec(run_id=f"{model}-seed{seed}", part="III", model=model,
                                 architecture={"width": width},
                                 recipe={"epochs": epochs, **_CIFAR_RECIPE}, seed=seed,
                                 condition="trained", checkpoints=_checkpoints(epochs)))
    cifar.sort(key=lambda run: -run.estimated_cost())
    return baselines + cifar + constrained


def run_spec(run_id: str) -> RunSpec:
    """Return the reference run called ``run_id``.

    Raises
    ------
    ValueError
        For a name that is not a reference run (the message lists them).

    Examples
    --------
    >>> run_spec("vgg16-seed2").architecture
    {'width': 16}
    """
    if not isinstance(run_id, str):
        raise TypeError(f"run_id must be a string, got {_validate.describe(run_id)}")
    runs = {run.run_id: run for run in reference_runs()}
    if run_id not in runs:
        raise ValueError(f"run_id {run_id!r} is not a reference run; they are {sorted(runs)}")
    return runs[run_id]
