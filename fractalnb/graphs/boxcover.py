r"""Real box covering of graphs and of finite metric spaces, and the test graphs to validate it.

A *box of size* :math:`\ell_B` in a graph is a set of nodes whose pairwise shortest-path
(hop) distances are all smaller than :math:`\ell_B`; :math:`N_B(\ell_B)` is the smallest
number of boxes that cover the graph. Finding it is NP-hard, so three standard heuristics
of :cite:p:`song2007howto` approximate it:

``greedy`` (greedy colouring)
    Nodes are visited in a fixed (random) order; each receives the smallest colour that no
    earlier node at distance :math:`\ge \ell_B` carries. Each colour class is a box. All box
    sizes are coloured in one sweep over the nodes, by numba-compiled kernels: a
    breadth-first search per node, stopped at the largest box, and the colouring itself
    (compiled on first use, then cached on disk). :func:`greedy_box_cover_networkx` is the
    plain reference it is tested and benchmarked against.
``cbb`` (compact-box-burning)
    A box is grown by drawing random nodes from a candidate set and discarding every
    candidate at distance :math:`\ge \ell_B` from the node drawn, until no candidate is left.
``memb`` (maximum-excluded-mass-burning)
    Boxes of radius :math:`r_B` (size :math:`\ell_B = 2 r_B + 1`, odd) are centred, one after
    the other, on the node that covers most still-uncovered nodes.

A fractal graph has :math:`N_B(\ell_B) \propto \ell_B^{-d_B}`;
:func:`~fractalnb.geometry.fit_box_dimension`
fits :math:`d_B` over stated scales, and :func:`~fractalnb.geometry.fit_exponential_decay` fits the
:math:`N_B \propto e^{-\ell_B/\ell_0}` law of small-world graphs, which have no finite
:math:`d_B`.

The same greedy colouring covers a finite metric space (the channels of a feature
network, with their pair distances), where a box of size :math:`\theta` is a set of points
with pairwise distances :math:`\le \theta` (:func:`metric_box_cover`).

Test graphs with known answers: :func:`uv_flower` (:math:`d_B = \ln(u+v)/\ln u`,
:cite:p:`rozenfeld2007fractal`), :func:`lattice_graph` (:math:`d_B = 2`), :func:`path_graph`
(:math:`d_B = 1`) and :func:`small_world_graph` (Watts–Strogatz, no finite :math:`d_B`).

Examples
--------
>>> from fractalnb import graphs as gb
>>> graph = gb.uv_flower(2, 2, 4)
>>> graph.shape
(172, 172)
>>> counts = gb.graph_box_counts(graph, [2, 4, 8, 17], method="greedy", seed=0)
>>> int(counts[-1])   # the diameter is 2**4 = 16 hops
1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .. import _validate
from ._colouring import greedy_colour_graph, greedy_colour_metric
from .generators import _distance_matrix, as_adjacency

__all__ = [
    "METHODS",
    "UNREACHABLE",
    "hop_distances",
    "BoxCovering",
    "box_cover",
    "graph_box_counts",
    "greedy_box_cover_networkx",
    "metric_box_cover",
]


METHODS = ("greedy", "cbb", "memb")
"""The box-covering heuristics of :func:`box_cover`."""


UNREACHABLE = np.iinfo(np.uint16).max
"""Hop distance reported by :func:`hop_distances` between nodes of different components."""


_MAX_DENSE_NODES = 20_000  # full hop-distance matrices beyond this would not fit comfortably


def hop_distances(
    graph: sp.spmatrix | sp.sparray | nx.Graph | np.ndarray,
    sources: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Shortest-path (hop) distances by breadth-first search (``scipy.sparse.csgraph``).

    Parameters
    ----------
    graph
        Undirected simple graph (see :func:`as_adjacency`).
    sources
        Rows to compute: a 1-D integer array of node indices (at most 4e8 distances in all);
        all nodes by default (then at most 20,000 nodes).

    Returns
    -------
    numpy.ndarray
        ``uint16`` matrix ``(len(sources), n)``; :data:`UNREACHABLE` between components.

    Examples
    --------
    >>> from fractalnb.graphs import path_graph
    >>> hop_distances(path_graph(4))[0]
    array([0, 1, 2, 3], dtype=uint16)
    """
    adjacency = as_adjacency(graph)
    return _hop_rows(adjacency, sources)


def _hop_rows(adjacency: sp.csr_matrix, sources=None) -> np.ndarray:
    """Hop-distance rows; nodes in other components read as :data:`UNREACHABLE`."""
    n = adjacency.shape[0]
    if sources is None:
        if n > _MAX_DENSE_NODES:
            raise ValueError(
                f"graph has {n} nodes: its full distance matrix is too large; pass sources= "
                f"in chunks (at most {_MAX_DENSE_NODES} nodes at once)"
            )
        sources = np.arange(n)
    else:
        sources = _validate.integer_array(sources, "sources", ndim=1)
        if sources.min() < 0 or sources.max() >= n:
            raise ValueError(f"sources must be node indices in [0, {n}), got {sources!r}")
        _validate.budget(len(sources) * n, "sources", _MAX_DENSE_NODES**2, "distances")
    dist = csgraph.dijkstra(adjacency, directed=False, unweighted=True, indices=sources)
    dist = np.atleast_2d(dist)
    finite = np.isfinite(dist)
    if finite.any() and dist[finite].max() >= UNREACHABLE:
        raise ValueError(f"graph diameter exceeds {UNREACHABLE - 1} hops")
    out = np.full(dist.shape, UNREACHABLE, dtype=np.uint16)
    out[finite] = dist[finite].astype(np.uint16)
    return out


@dataclass(frozen=True)
class BoxCovering:
    r"""A box covering at several box sizes.

    Attributes
    ----------
    box_sizes : numpy.ndarray
        The box sizes :math:`\ell_B` (hop counts for graphs; distances for metric spaces).
    labels : numpy.ndarray
        ``(len(box_sizes), n)`` integer box label of every node at every size.
    n_boxes : numpy.ndarray
        Number of boxes at every size.
    method : str
        ``"greedy"``, ``"cbb"`` or ``"memb"``.
    """

    box_sizes: np.ndarray
    labels: np.ndarray
    n_boxes: np.ndarray
    method: str


def _processing_order(n: int, order, rng: np.random.Generator | None = None) -> np.ndarray:
    """Return the node order: ``order`` checked as a permutation, or one drawn by ``rng``."""
    if order is None and rng is not None:
        return rng.permutation(n)
    order = _validate.integer_array(order, "order", ndim=1)
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"order must be a permutation of range({n}), got {order!r}")
    return order


def _labels_budget(n_sizes: int, n: int) -> None:
    _validate.budget(n_sizes * n, "box_sizes", _validate.MAX_ELEMENTS,
                     "labels (box sizes x nodes)")


def _greedy_colour(kernel: Callable[..., np.ndarray], data: tuple, order: np.ndarray,
                   within: np.ndarray) -> np.ndarray:
    """Greedy colouring of Song et al. for all box sizes in one sweep over the nodes.

    ``within[s]`` (ascending) is the largest distance two nodes of one box may have at size
    ``s``; ``kernel(*data, order, within)`` is one of the compiled kernels of
    :mod:`fractalnb.graphs._colouring`, called with contiguous arrays of the dtypes it was
    written for. Returns labels ``(n_sizes, n)`` in node order.
    """
    return kernel(*data, np.ascontiguousarray(order, dtype=np.int64),
                  np.ascontiguousarray(within))


def _compact_box_burning(distances: np.ndarray, size: float, rng, strict: bool) -> np.ndarray:
    n = len(distances)
    labels = np.full(n, -1, dtype=np.int64)
    uncovered = np.ones(n, dtype=bool)
    box = 0
    while uncovered.any():
        candidates = uncovered.copy()
        while candidates.any():
            node = rng.choice(np.flatnonzero(candidates))
            labels[node] = box
            candidates[node] = False
            close = distances[node] < size if strict else distances[node] <= size
            candidates &= close
        uncovered &= labels != box
        box += 1
    return labels


def _maximum_excluded_mass_burning(distances: np.ndarray, radius: int, rng) -> np.ndarray:
    n = len(distances)
    ball = distances <= radius
    covered = np.zeros(n, dtype=bool)
    is_centre = np.zeros(n, dtype=bool)
    mass = ball.sum(axis=1).astype(np.int64)
    centres = []
    while not covered.all():
        score = np.where(is_centre, -1, mass)
        best = np.flatnonzero(score == score.max())
        centre = int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])
        is_centre[centre] = True
        centres.append(centre)
        newly = ball[centre] & ~covered
        covered |= newly
        mass -= ball[newly].sum(axis=0)  # the ball relation is symmetric
    centres = np.asarray(centres)
    # Every node joins its nearest centre (ties: the centre chosen first).
    return np.argmin(distances[:, centres], axis=1)


def box_cover(
    graph: sp.spmatrix | sp.sparray | nx.Graph | np.ndarray,
    box_sizes: Sequence[int] | np.ndarray,
    *,
    method: str = "greedy",
    seed: int = 0,
    order: Sequence[int] | np.ndarray | None = None,
) -> BoxCovering:
    r"""Cover a graph with boxes of size :math:`\ell_B` (pairwise hop distances :math:`< \ell_B`).

    Parameters
    ----------
    graph
        Undirected simple graph (see :func:`as_adjacency`); it may be disconnected (nodes in
        different components never share a box).
    box_sizes
        Integer box sizes :math:`\ell_B \ge 1`, strictly increasing (duplicates and unsorted
        sizes are refused). For ``method="memb"`` they must be odd, :math:`\ell_B = 2 r_B + 1`.
    method
        ``"greedy"`` (greedy colouring), ``"cbb"`` (compact-box-burning) or ``"memb"``
        (maximum-excluded-mass-burning), all from :cite:p:`song2007howto`.
    seed
        Seeds the random node order (greedy), the random draws (cbb) and the tie-breaks (memb):
        an integer ``>= 0`` (or a :class:`numpy.random.Generator`).
    order
        For ``"greedy"``: an explicit node order (a permutation of ``range(n)``), instead of a
        random one.

    Returns
    -------
    BoxCovering
        Labels and box counts at every size: every box has diameter :math:`< \ell_B`.

    Raises
    ------
    TypeError
        For arguments of the wrong type (a graph that is no matrix or networkx graph,
        non-integer box sizes or order, a seed that is no integer).
    ValueError
        For a graph that is not a simple undirected 0/1 adjacency, box sizes that are not
        strictly increasing integers ``>= 1`` (or odd, for memb), an order that is no
        permutation, or more than 2^30 (about 1e9) labels.

    Examples
    --------
    >>> from fractalnb.graphs import path_graph
    >>> cover = box_cover(path_graph(10), [1, 2, 5], method="greedy", order=range(10))
    >>> cover.n_boxes.tolist()
    [10, 5, 2]
    """
    method = _validate.choice(method, "method", METHODS)
    adjacency = as_adjacency(graph)
    n = adjacency.shape[0]
    sizes = _validate.sizes(box_sizes, "box_sizes")
    rng = _validate.rng(seed)
    if order is not None and method != "greedy":
        raise ValueError(f"order= applies to method='greedy' only, not {method!r}")
    _labels_budget(len(sizes), n)
    if method == "greedy":
        node_order = _processing_order(n, order, rng)
        # Nodes farther apart than the largest box are never in one box: each node's
        # breadth-first search stops there.
        csr = (adjacency.indptr.astype(np.int64), adjacency.indices.astype(np.int64))
        labels = _greedy_colour(greedy_colour_graph, csr, node_order,
                                (sizes - 1).astype(np.int64))
    else:
        if method == "memb" and np.any(sizes % 2 == 0):
            raise ValueError(
                f"method='memb' covers with boxes of radius r_B, size 2 r_B + 1: box_sizes "
                f"must be odd, got {sizes.tolist()}"
            )
        distances = _hop_rows(adjacency)
        if method == "cbb":
            labels = np.stack([_compact_box_burning(distances, s, rng, strict=True)
                               for s in sizes])
        else:
            labels = np.stack([_maximum_excluded_mass_burning(distances, (s - 1) // 2, rng)
                               for s in sizes])
    n_boxes = np.array([len(np.unique(row)) for row in labels], dtype=np.int64)
    return BoxCovering(box_sizes=sizes, labels=labels, n_boxes=n_boxes, method=method)


def graph_box_counts(
    graph: sp.spmatrix | sp.sparray | nx.Graph | np.ndarray,
    box_sizes: Sequence[int] | np.ndarray,
    *,
    method: str = "greedy",
    seed: int = 0,
    order: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    r"""Return :math:`N_B(\ell_B)` for each box size: ``box_cover(...).n_boxes``.

    Examples
    --------
    >>> from fractalnb.graphs import path_graph
    >>> graph_box_counts(path_graph(9), [3], order=range(9)).tolist()
    [3]
    """
    return box_cover(graph, box_sizes, method=method, seed=seed, order=order).n_boxes


def greedy_box_cover_networkx(
    graph: sp.spmatrix | sp.sparray | nx.Graph | np.ndarray,
    box_sizes: Sequence[int] | np.ndarray,
    *,
    order: Sequence[int] | np.ndarray,
) -> np.ndarray:
    r"""Greedy-colouring box covering, written plainly with networkx: the reference.

    The textbook form of the algorithm of :cite:p:`song2007howto`, for testing and
    benchmarking :func:`box_cover`: for every box size separately, nodes are visited in
    ``order``; node ``i`` gets the smallest colour ``c`` such that every node already
    coloured ``c`` lies at hop distance ``< l_B`` from ``i`` (a breadth-first search
    per node by :func:`networkx.single_source_shortest_path_length`).

    Parameters
    ----------
    graph
        Undirected simple graph (see :func:`as_adjacency`).
    box_sizes
        Integer box sizes :math:`\ell_B \ge 1`, strictly increasing.
    order
        The node order, a permutation of ``range(n)``.

    Returns
    -------
    numpy.ndarray
        Labels ``(len(box_sizes), n)``, identical to ``box_cover(graph, box_sizes,
        order=order).labels``.

    Examples
    --------
    >>> from fractalnb.graphs import path_graph
    >>> greedy_box_cover_networkx(path_graph(5), [2], order=range(5)).tolist()
    [[0, 0, 1, 1, 2]]
    """
    adjacency = as_adjacency(graph)
    sizes = _validate.sizes(box_sizes, "box_sizes")
    n = adjacency.shape[0]
    node_order = _processing_order(n, order)
    _labels_budget(len(sizes), n)
    nx_graph = nx.from_scipy_sparse_array(adjacency)
    labels = np.empty((len(sizes), n), dtype=np.int64)
    for s, size in enumerate(sizes):
        members: list[list[int]] = []
        for node in node_order:
            near = nx.single_source_shortest_path_length(nx_graph, int(node),
                                                         cutoff=int(size) - 1)
            for colour, box in enumerate(members):
                if all(other in near for other in box):
                    box.append(int(node))
                    labels[s, node] = colour
                    break
            else:
                labels[s, node] = len(members)
                members.append([int(node)])
    return labels


def metric_box_cover(
    distances: np.ndarray,
    box_sizes: Sequence[float] | np.ndarray,
    *,
    seed: int = 0,
    order: Sequence[int] | np.ndarray | None = None,
) -> BoxCovering:
    r"""Greedy-colouring box covering of a finite metric space.

    A box of size :math:`\theta` is a set of points with pairwise distances
    :math:`\le \theta` (a clique of the θ-threshold graph). This is the real box count
    that the pseudo box count of :mod:`fractalnb.graphs` approximates.

    Parameters
    ----------
    distances
        Symmetric ``(n, n)`` matrix of pair distances, finite and non-negative (float32 and
        float64 are compared in their dtype, other real dtypes as float64).
    box_sizes
        Box sizes :math:`\theta \ge 0`, strictly increasing.
    seed, order
        Node order: random (an integer seed ``>= 0``) or explicit (a permutation).

    Returns
    -------
    BoxCovering
        With ``method="greedy"``.

    Examples
    --------
    >>> points = np.array([0.0, 1.0, 2.0, 10.0])
    >>> d = np.abs(points[:, None] - points[None, :])
    >>> metric_box_cover(d, [0.5, 1.0, 10.0], order=range(4)).n_boxes.tolist()
    [4, 3, 1]
    """
    distances = _distance_matrix(distances)
    sizes = _validate.sizes(box_sizes, "box_sizes", integral=False, minimum=0)
    node_order = _processing_order(len(distances), order, _validate.rng(seed))
    return _metric_cover(distances, sizes, node_order)


def _metric_cover(distances: np.ndarray, sizes: np.ndarray, order: np.ndarray) -> BoxCovering:
    """Cover a checked distance matrix (float32/64) greedily at ascending sizes."""
    _labels_budget(len(sizes), len(distances))
    labels = _greedy_colour(greedy_colour_metric, (np.ascontiguousarray(distances),),
                            order, sizes.astype(distances.dtype, copy=False))
    n_boxes = np.array([len(np.unique(row)) for row in labels], dtype=np.int64)
    return BoxCovering(box_sizes=sizes, labels=labels, n_boxes=n_boxes, method="greedy")
