r"""The PH₀ (minimum-spanning-tree) dimension of a finite point set, with an interval.

For a set :math:`X` of :math:`n` points, the weighted lifetime sum of its 0-dimensional
persistent homology (Vietoris–Rips filtration) is the :math:`\alpha`-weighted length of
its Euclidean minimum spanning tree,

.. math:: E^0_\alpha(X) = \sum_{e \in \mathrm{MST}(X)} |e|^\alpha .

For :math:`n` points drawn from a set of (upper box) dimension :math:`d > \alpha`,
:math:`E^0_\alpha \asymp n^{(d - \alpha)/d}` (Steele 1988; Schweinhart 2020), so the
slope :math:`m` of :math:`\log E^0_\alpha` against :math:`\log n` gives the PH₀
dimension :math:`d = \alpha / (1 - m)`. This is the estimator of Birdal et al. (2021,
``calculate_ph_dim`` in their code): random subsamples of increasing size of the given
points, one least-squares line through the logarithms.

Ours (not in Birdal et al.): several subsample draws per size (their code takes one),
geometrically spaced default sizes, the log of the *mean* length per size on the line,
and an interval — a percentile bootstrap over the draws of each size (the subsampling
variability) or, on request, the least-squares slope interval (Student t) mapped through
:math:`\alpha / (1 - m)`. The tree is :func:`scipy.sparse.csgraph.minimum_spanning_tree`
of the complete graph on the points, weighted by the distances of
:func:`scipy.spatial.distance.pdist` (every pair, held as a sparse matrix of the upper
triangle: the same tree as from the dense distance matrix, in half the time).

Examples
--------
>>> import numpy as np
>>> from fractalnb.dynamics import ph_dimension
>>> square = np.random.default_rng(0).random((1000, 2))
>>> bool(abs(ph_dimension(square, seed=0).dimension - 2) < 0.1)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import _validate

__all__ = ["PHDimension", "mst_length", "ph_dimension"]


MAX_SUBSAMPLE = 10_000
"""Largest subsample size (its distance matrix holds 10^8 entries)."""

MAX_DISTANCE_TERMS = 10**11
"""Largest total work, draws x sum of n^2 x ambient dimension, accepted up front."""

_FULL_MATRIX = 3000  # at most this many points: one distance matrix, subsampled by index


@dataclass(frozen=True)
class PHDimension:
    r"""A PH₀ dimension estimate and how it was obtained.

    Attributes
    ----------
    dimension : float
        :math:`\alpha / (1 - m)`; ``inf`` when the slope :math:`m \ge 1`.
    interval : tuple of float
        The ``confidence`` interval of the dimension (``method`` says which).
    slope, intercept : float
        The least-squares line of :math:`\log \bar E` against :math:`\log n`.
    sizes : numpy.ndarray
        The subsample sizes :math:`n`.
    lengths : numpy.ndarray
        :math:`E^0_\alpha` of every draw, shape ``(len(sizes), n_draws)``.
    alpha : float
        The edge-length exponent.
    confidence : float
        Coverage of ``interval``.
    method : str
        ``"bootstrap"`` or ``"regression"``.
    """

    dimension: float
    interval: tuple[float, float]
    slope: float
    intercept: float
    sizes: np.ndarray = field(repr=False)
    lengths: np.ndarray = field(repr=False)
    alpha: float
    confidence: float
    method: str

    def __str__(self) -> str:
        low, high = self.interval
        return (f"PH0 dimension {self.dimension:.3f} [{low:.3f}, {high:.3f}] "
                f"({self.confidence:.0%} {self.method}, alpha={self.alpha:g}, "
                f"n={self.sizes[0]}..{self.sizes[-1]})")


def _tree_length(pairs: np.ndarray, n: int, alpha: float) -> float:
    """E_alpha of the MST of ``n`` points from their condensed pairwise distances."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    rows, cols = _upper(n)
    # coincident points: a positive length far below any real one, so that csgraph keeps
    # the edge (it may drop zeros) and joins them at (numerically) zero cost
    weights = np.where(pairs > 0, pairs, np.finfo(np.float64).tiny)
    tree = minimum_spanning_tree(csr_matrix((weights, (rows, cols)), shape=(n, n)))
    return float(np.sum(tree.data ** alpha))


@lru_cache(maxsize=16)
def _upper(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the pairs i < j, in the order of ``pdist``."""
    rows, cols = np.triu_indices(n, 1)
    return rows.astype(np.int32), cols.astype(np.int32)


def _pairs(points: np.ndarray) -> np.ndarray:
    from scipy.spatial.distance import pdist

    return pdist(points)


def _points(points: object) -> np.ndarray:
    x = _validate.real_array(points, "points", ndim=2)
    if x.shape[0] < 3:
        raise ValueError(f"points needs at least 3 points (rows), got {x.shape[0]}")
    if np.all(x == x[0]):
        raise ValueError("points are all the same point: their PH0 dimension is 0")
    return x


def mst_length(points: object, alpha: float = 1.0) -> float:
    r"""Return :math:`E^0_\alpha`, the sum of the MST edge lengths to the power ``alpha``.

    Parameters
    ----------
    points
        Array of shape ``(n, D)``: ``n >= 3`` points in :math:`\mathbb{R}^D`.
    alpha
        Edge-length exponent, ``> 0``.

    Returns
    -------
    float
        The α-weighted length of the Euclidean minimum spanning tree (the lifetime sum of
        the finite bars of the PH₀ barcode, raised to ``alpha``).

    Examples
    --------
    >>> mst_length([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    3.0
    """
    x = _points(points)
    a = _validate.real(alpha, "alpha", minimum=0, open_min=True)
    _validate.budget(x.shape[0], "points", MAX_SUBSAMPLE, "points")
    return _tree_length(_pairs(x), x.shape[0], a)


def _default_sizes(n_points: int) -> np.ndarray:
    low = max(10, n_points // 8)
    return np.unique(np.geomspace(low, n_points, 10).astype(np.int64))


def _fit(log_n: np.ndarray, log_e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slopes and intercepts of each row of ``log_e`` against ``log_n``."""
    xc = log_n - log_n.mean()
    slope = (log_e - log_e.mean(axis=-1, keepdims=True)) @ xc / np.sum(xc**2)
    return slope, log_e.mean(axis=-1) - slope * log_n.mean()


def _dimension(slope: np.ndarray | float, alpha: float) -> np.ndarray:
    m = np.asarray(slope, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(m < 1, alpha / np.where(m < 1, 1 - m, 1.0), np.inf)


def _interval(log_n, log_lengths, alpha, method, confidence, n_boot, rng):
    tail = (1 - confidence) / 2
    n_sizes, n_draws = log_lengths.shape
    if method == "bootstrap":
        pick = rng.integers(0, n_draws, size=(n_boot, n_sizes, n_draws))
        resampled = np.take_along_axis(log_lengths[None], pick, axis=2)
        means = np.log(np.mean(np.exp(resampled), axis=2))
        dims = _dimension(_fit(log_n, means)[0], alpha)
        low, high = np.quantile(dims, [tail, 1 - tail])
        return float(low), float(high)
    from scipy import stats

    x = np.repeat(log_n, n_draws)
    y = log_lengths.ravel()
    slope, intercept = _fit(x, y)
    residual = y - (slope * x + intercept)
    dof = x.size - 2
    se = np.sqrt(np.sum(residual**2) / dof / np.sum((x - x.mean()) ** 2))
    half = stats.t.ppf(1 - tail, dof) * se
    low, high = _dimension(np.array([slope - half, slope + half]), alpha)
    return float(low), float(high)


def ph_dimension(
    points: object,
    sizes: object = None,
    *,
    alpha: float = 1.0,
    n_draws: int = 5,
    method: str = "bootstrap",
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
) -> PHDimension:
    r"""Estimate the PH₀ dimension of a point set, with an interval.

    Parameters
    ----------
    points
        Array of shape ``(N, D)`` (rows are points; a NumPy array or a torch tensor), for
        a training trajectory the ``N`` flattened parameter vectors.
    sizes
        Strictly increasing subsample sizes ``n`` (at least 3, each ``<= N``, the
        smallest ``>= 3``). Default: 10 sizes spaced geometrically from ``max(10, N//8)``
        to ``N`` (Birdal et al. use 200, 250, ..., 950 of 1,000 iterates).
    alpha
        Edge-length exponent :math:`\alpha > 0`; the estimate is meaningful for
        :math:`\alpha <` the dimension (Birdal et al.: 1).
    n_draws
        Random subsamples (without replacement) per size; at size ``N`` every draw is the
        whole set.
    method
        The interval: ``"bootstrap"`` (percentile bootstrap, draws resampled within each
        size; needs ``n_draws >= 2``) or ``"regression"`` (t interval of the slope of all
        draws' :math:`\log E` against :math:`\log n`).
    confidence
        Coverage of the interval, in ``(0, 1)``.
    n_boot
        Bootstrap replicates (``"bootstrap"`` only).
    seed
        Seed (or a :class:`numpy.random.Generator`) of the subsampling and the bootstrap.

    Returns
    -------
    fractalnb.dynamics.persistent_homology.PHDimension
        The estimate, its interval, the fitted line and every draw's length.

    Raises
    ------
    ValueError
        For sizes above ``N`` or ``MAX_SUBSAMPLE`` (10,000 points), work above
        ``MAX_DISTANCE_TERMS`` (:math:`10^{11}` = ``n_draws`` x sum of :math:`n^2` x
        ``D``), or points that are all equal.

    Examples
    --------
    >>> import numpy as np
    >>> cube = np.random.default_rng(1).random((800, 3))
    >>> est = ph_dimension(cube, [100, 200, 400, 800], n_draws=3, seed=0)
    >>> 2.6 < est.dimension < 3.4, est.interval[0] < est.dimension < est.interval[1]
    (True, True)
    """
    x = _points(points)
    n_points, ambient = x.shape
    a = _validate.real(alpha, "alpha", minimum=0, open_min=True)
    draws = _validate.integer(n_draws, "n_draws", minimum=1)
    how = _validate.choice(method, "method", ("bootstrap", "regression"))
    level = _validate.real(confidence, "confidence", minimum=0, maximum=1,
                           open_min=True, open_max=True)
    boots = _validate.integer(n_boot, "n_boot", minimum=1)
    _validate.budget(boots, "n_boot", 10**6, "bootstrap replicates")
    if how == "bootstrap" and draws < 2:
        raise ValueError("n_draws must be >= 2 for method='bootstrap' (it resamples the "
                         f"draws), got {draws}; use method='regression'")
    generator = _validate.rng(seed, "seed")
    n = (_default_sizes(n_points) if sizes is None
         else _validate.sizes(sizes, "sizes", minimum=3, min_count=3))
    if n.size < 3:
        raise ValueError(f"sizes needs at least 3 values, got {n.size}")
    if n[-1] > n_points:
        raise ValueError(f"sizes must be <= the number of points {n_points}, got {n[-1]}")
    _validate.budget(int(n[-1]), "sizes", MAX_SUBSAMPLE, "points per subsample")
    _validate.budget(draws * int(np.sum(n.astype(np.float64) ** 2)) * ambient, "sizes",
                     MAX_DISTANCE_TERMS, "distance terms (n_draws x sum n^2 x D)")
    from scipy.spatial.distance import squareform

    full = squareform(_pairs(x)) if n_points <= _FULL_MATRIX else None
    lengths = np.empty((n.size, draws))
    for i, size in enumerate(n):
        size = int(size)
        for j in range(draws):
            if size == n_points and j > 0:  # every draw of the whole set is the same set
                lengths[i, j] = lengths[i, 0]
                continue
            pick = np.sort(generator.choice(n_points, size=size, replace=False))
            if full is None:
                pairs = _pairs(x[pick])
            else:
                rows, cols = _upper(size)
                pairs = full[pick[rows], pick[cols]]
            lengths[i, j] = _tree_length(pairs, size, a)
    log_n = np.log(n.astype(np.float64))
    log_lengths = np.log(lengths)
    slope, intercept = _fit(log_n, np.log(lengths.mean(axis=1)))
    interval = _interval(log_n, log_lengths, a, how, level, boots, generator)
    return PHDimension(
        dimension=float(_dimension(slope, a)),
        interval=interval,
        slope=float(slope),
        intercept=float(intercept),
        sizes=n,
        lengths=lengths,
        alpha=a,
        confidence=level,
        method=how,
    )
