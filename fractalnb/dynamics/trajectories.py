r"""SGD trajectories of a small network on CIFAR-10, their PH₀ dimension and generalisation.

The experiment of Birdal et al. (2021) at the scale of a laptop: a small MLP on
downsampled CIFAR-10 images is trained with plain SGD for each learning rate and batch
size of a grid; the last ``record`` iterates (flattened parameter vectors) form a point
cloud whose PH₀ dimension (:func:`~fractalnb.dynamics.ph_dimension`) is set beside the
generalisation gap (train minus test accuracy) and beside the :math:`\ell^2` norm of the
final parameters, the confound Tan et al. (2024) point to. ``init="adversarial"``
pre-trains on random labels first (Liu et al. 2020, the poor initialisation of Tan et al.).

Our choices (not the papers'): block-averaged :math:`8 \times 8` colour images, a
one-hidden-layer MLP, a fixed training subset, training until a target training accuracy
or a step budget and *then* ``record`` further recorded steps, and a percentile bootstrap
of Spearman's :math:`\rho` over the runs (:func:`rank_correlation`).

Examples
--------
>>> from fractalnb.dynamics import rank_correlation
>>> round(rank_correlation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], n_boot=200).rho, 6)
0.8
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _validate
from .._progress import progress_bar
from .persistent_homology import ph_dimension

__all__ = ["ImageFeatures", "image_features", "TrajectoryRun", "train_trajectory",
           "trajectory_grid", "Correlation", "rank_correlation"]


MAX_STEPS = 10**6
"""Most SGD steps one run accepts."""


@dataclass(frozen=True)
class ImageFeatures:
    """Downsampled, standardised images as float32 tensors (rows are images)."""

    x_train: object = field(repr=False)
    y_train: object = field(repr=False)
    x_test: object = field(repr=False)
    y_test: object = field(repr=False)
    side: int
    variant: str


def image_features(arrays: object, n_train: int = 1000, n_test: int = 1000,
                   side: int = 8) -> ImageFeatures:
    """Return the first ``n_train``/``n_test`` images, block-averaged to ``side`` x ``side``.

    Parameters
    ----------
    arrays
        A :class:`fractalnb.training.data.CIFAR10Arrays` (from
        :func:`fractalnb.training.load_cifar10`).
    n_train, n_test
        Images kept, from the start of each split (its order is fixed).
    side
        Output side; must divide 32. Features are RGB block means, standardised with the
        kept training images' mean and standard deviation.

    Examples
    --------
    >>> from fractalnb.training import load_cifar10
    >>> data = image_features(load_cifar10("sample"), 100, 50)   # doctest: +SKIP
    >>> tuple(data.x_train.shape)                                 # doctest: +SKIP
    (100, 192)
    """
    import torch

    for attr in ("x_train", "y_train", "x_test", "y_test"):
        if not hasattr(arrays, attr):
            raise TypeError(f"arrays must be CIFAR10Arrays (from load_cifar10), got "
                            f"{_validate.describe(arrays)}")
    s = _validate.integer(side, "side", minimum=1, maximum=32)
    if 32 % s:
        raise ValueError(f"side must divide 32, got {s}")
    kept = []
    for x, y, n, name in ((arrays.x_train, arrays.y_train, n_train, "n_train"),
                          (arrays.x_test, arrays.y_test, n_test, "n_test")):
        count = _validate.integer(n, name, minimum=10, maximum=len(y))
        blocks = np.asarray(x[:count], np.float32).reshape(count, s, 32 // s, s, 32 // s, 3)
        kept.append((blocks.mean(axis=(2, 4)).reshape(count, -1) / 255.0,
                     np.asarray(y[:count], np.int64)))
    mean, std = kept[0][0].mean(axis=0), kept[0][0].std(axis=0) + 1e-6
    (xtr, ytr), (xte, yte) = [((x - mean) / std, y) for x, y in kept]
    return ImageFeatures(torch.from_numpy(xtr), torch.from_numpy(ytr),
                         torch.from_numpy(xte), torch.from_numpy(yte), s,
                         str(getattr(arrays, "variant", "unknown")))


@dataclass(frozen=True)
class TrajectoryRun:
    """One training run: its recorded iterates and its end point's measures."""

    learning_rate: float
    batch_size: int
    init: str
    seed: int
    steps: int
    iterates: np.ndarray = field(repr=False)
    train_accuracy: float
    test_accuracy: float
    train_loss: float
    test_loss: float
    weight_norm: float

    @property
    def gap(self) -> float:
        """The generalisation gap, training minus test accuracy (fractions)."""
        return self.train_accuracy - self.test_accuracy


def _mlp(inputs: int, hidden: int, seed: int):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def _evaluate(model, x, y) -> tuple[float, float]:
    import torch

    with torch.no_grad():
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out, y).item()
        return float((out.argmax(1) == y).float().mean()), float(loss)


def _sgd(model, x, y, lr, batch, steps, generator, record=0, target=None, every=50):
    """Plain SGD; return (steps taken, recorded flat parameter vectors)."""
    import torch
    from torch.nn.utils import parameters_to_vector

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    order, cursor, kept, taken = torch.randperm(len(y), generator=generator), 0, [], 0
    while taken < steps:
        if cursor + batch > len(y):
            order, cursor = torch.randperm(len(y), generator=generator), 0
        idx = order[cursor:cursor + batch]
        cursor += batch
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
        taken += 1
        if record and taken > steps - record:
            kept.append(parameters_to_vector(model.parameters()).detach().numpy().copy())
        if target is not None and taken % every == 0 and _evaluate(model, x, y)[0] >= target:
            break
    if not torch.isfinite(parameters_to_vector(model.parameters())).all():
        raise FloatingPointError(f"SGD diverged at learning rate {lr} (non-finite weights)")
    return taken, np.array(kept, dtype=np.float64)


def train_trajectory(
    data: ImageFeatures,
    learning_rate: float,
    batch_size: int,
    *,
    hidden: int = 32,
    max_steps: int = 3000,
    target_accuracy: float = 1.0,
    record: int = 400,
    init: str = "standard",
    adversarial_steps: int = 2000,
    seed: int = 0,
) -> TrajectoryRun:
    """Train the MLP with SGD and record its last ``record`` iterates.

    Training runs until the training accuracy (checked every 50 steps) reaches
    ``target_accuracy`` or ``max_steps`` steps are taken; then ``record`` more steps are
    taken and their iterates kept. ``init="adversarial"`` first trains ``adversarial_steps``
    steps on randomly permuted labels (same learning rate and batch size). Torch runs on
    one intra-op thread while it trains (restored afterwards): a network this small is
    fastest so, and does not compete with other processes for the cores.

    Parameters
    ----------
    data
        From :func:`image_features`.
    learning_rate, batch_size
        Plain SGD (no momentum, no weight decay).
    hidden
        Hidden units of the one-hidden-layer ReLU MLP.
    max_steps, target_accuracy, record
        The stopping rule and the number of recorded iterates (>= 10).
    init
        ``"standard"`` (PyTorch's default initialisation) or ``"adversarial"``.
    adversarial_steps
        Steps on random labels for ``init="adversarial"``.
    seed
        Seeds the initialisation, the batches and the random labels.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.randn(40, 6), torch.arange(40) % 10
    >>> data = ImageFeatures(x[:30], y[:30], x[30:], y[30:], side=1, variant="toy")
    >>> run = train_trajectory(data, 0.05, 8, hidden=4, max_steps=100, record=20)
    >>> run.iterates.shape
    (20, 78)
    """
    import torch

    if not isinstance(data, ImageFeatures):
        raise TypeError(f"data must be ImageFeatures, got {_validate.describe(data)}")
    lr = _validate.real(learning_rate, "learning_rate", minimum=0, open_min=True)
    batch = _validate.integer(batch_size, "batch_size", minimum=1, maximum=len(data.y_train))
    width = _validate.integer(hidden, "hidden", minimum=1, maximum=4096)
    steps = _validate.integer(max_steps, "max_steps", minimum=0, maximum=MAX_STEPS)
    target = _validate.real(target_accuracy, "target_accuracy", minimum=0, maximum=1)
    kept = _validate.integer(record, "record", minimum=10, maximum=20_000)
    how = _validate.choice(init, "init", ("standard", "adversarial"))
    adv = _validate.integer(adversarial_steps, "adversarial_steps", minimum=0, maximum=MAX_STEPS)
    s = _validate.seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a network this small trains fastest on one thread
    try:
        return _train(data, lr, batch, width, steps, target, kept, how, adv, s)
    finally:
        torch.set_num_threads(threads)


def _train(data, lr, batch, width, steps, target, kept, how, adv, s) -> TrajectoryRun:
    import torch

    model = _mlp(data.x_train.shape[1], width, s)
    generator = torch.Generator().manual_seed(s)
    taken = 0
    if how == "adversarial":
        shuffled = data.y_train[torch.randperm(len(data.y_train), generator=generator)]
        taken += _sgd(model, data.x_train, shuffled, lr, batch, adv, generator)[0]
    taken += _sgd(model, data.x_train, data.y_train, lr, batch, steps, generator,
                  target=target)[0]
    iterates = _sgd(model, data.x_train, data.y_train, lr, batch, kept, generator, kept)[1]
    taken += kept
    train_acc, train_loss = _evaluate(model, data.x_train, data.y_train)
    test_acc, test_loss = _evaluate(model, data.x_test, data.y_test)
    return TrajectoryRun(lr, batch, how, s, taken, iterates, train_acc, test_acc,
                         train_loss, test_loss, float(np.linalg.norm(iterates[-1])))


def trajectory_grid(
    data: ImageFeatures,
    learning_rates: object,
    batch_sizes: object,
    *,
    n_draws: int = 3,
    progress: bool = True,
    **train_options: object,
):
    """Train every (learning rate, batch size) pair; return a table of the measures.

    Each run's PH₀ dimension is :func:`~fractalnb.dynamics.ph_dimension` of its iterates
    (default sizes, ``n_draws`` draws, bootstrap interval, seed 0).

    Returns
    -------
    pandas.DataFrame
        One row per run: ``learning_rate``, ``batch_size``, ``init``, ``steps``,
        ``train_accuracy``, ``test_accuracy``, ``gap`` (their difference),
        ``train_loss``, ``test_loss``, ``loss_gap`` (test minus train cross-entropy),
        ``ph_dim``, ``ph_low``, ``ph_high``, ``weight_norm``.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.randn(40, 6), torch.arange(40) % 10
    >>> data = ImageFeatures(x[:30], y[:30], x[30:], y[30:], side=1, variant="toy")
    >>> table = trajectory_grid(data, [0.01, 0.1], [8], progress=False, hidden=4,
    ...                         max_steps=50, record=30)
    >>> table[["learning_rate", "batch_size"]].values.tolist()
    [[0.01, 8.0], [0.1, 8.0]]
    """
    import pandas as pd

    rates = _validate.sizes(learning_rates, "learning_rates", integral=False, minimum=1e-12)
    batches = _validate.sizes(batch_sizes, "batch_sizes", minimum=1)
    draws = _validate.integer(n_draws, "n_draws", minimum=2)
    enabled = _validate.boolean(progress, "progress")
    pairs = [(float(r), int(b)) for r in rates for b in batches]
    rows = []
    for lr, batch in progress_bar(pairs, enabled=enabled, desc="SGD runs"):
        run = train_trajectory(data, lr, batch, **train_options)
        est = ph_dimension(run.iterates, n_draws=draws, seed=0)
        rows.append({"learning_rate": lr, "batch_size": batch, "init": run.init,
                     "steps": run.steps, "train_accuracy": run.train_accuracy,
                     "test_accuracy": run.test_accuracy, "gap": run.gap,
                     "train_loss": run.train_loss, "test_loss": run.test_loss,
                     "loss_gap": run.test_loss - run.train_loss,
                     "ph_dim": est.dimension, "ph_low": est.interval[0],
                     "ph_high": est.interval[1], "weight_norm": run.weight_norm})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Correlation:
    """Spearman's rank correlation with a percentile-bootstrap interval."""

    rho: float
    interval: tuple[float, float]
    p_value: float
    n: int


def rank_correlation(x: object, y: object, *, n_boot: int = 2000, confidence: float = 0.95,
                     seed: int = 0) -> Correlation:
    r"""Return Spearman's :math:`\rho` of ``x`` and ``y`` with a bootstrap interval.

    The interval resamples the pairs (runs) with replacement ``n_boot`` times
    (Spearman's rho of each, from :func:`scipy.stats.rankdata`; resamples with a constant
    coordinate are skipped); ``p_value`` is scipy's for no association.

    Examples
    --------
    >>> c = rank_correlation([1, 2, 3, 4, 5, 6], [1, 3, 2, 5, 4, 6], n_boot=500)
    >>> round(c.rho, 3), c.interval[1] <= 1.0
    (0.886, True)
    """
    from scipy import stats

    x, y = (v.to_numpy() if hasattr(v, "to_numpy") else v for v in (x, y))  # pandas
    a = _validate.real_array(x, "x", ndim=1)
    b = _validate.real_array(y, "y", ndim=1)
    _validate.same_length(a, b, "x and y")
    if a.size < 4:
        raise ValueError(f"x needs at least 4 values, got {a.size}")
    if np.all(a == a[0]) or np.all(b == b[0]):
        raise ValueError("x and y must each hold at least two different values")
    boots = _validate.integer(n_boot, "n_boot", minimum=10, maximum=10**6)
    level = _validate.real(confidence, "confidence", minimum=0, maximum=1,
                           open_min=True, open_max=True)
    rng = _validate.rng(seed, "seed")
    rho, p = stats.spearmanr(a, b)
    pick = rng.integers(0, a.size, (boots, a.size))
    # Spearman's rho of each resample: Pearson's r of its (mid-)ranks, as spearmanr does
    ra = stats.rankdata(a[pick], axis=1)
    rb = stats.rankdata(b[pick], axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.sum(ra**2, axis=1) * np.sum(rb**2, axis=1))
    keep = norm > 0  # resamples with a constant coordinate have no rho
    draws = np.clip(np.sum(ra * rb, axis=1)[keep] / norm[keep], -1.0, 1.0)
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return Correlation(float(rho), (float(low), float(high)), float(p), int(a.size))
