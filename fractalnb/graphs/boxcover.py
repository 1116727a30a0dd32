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

A fractal graph has :math:`N_B(\ell_B) \propto \ell_B^{-d_B}`; :func:`fit_box_dimension`
fits :math:`d_B` over stated scales, and :func:`fit_exponential_decay` fits the
:math:`N_B \propto e^{-\ell_B/\ell_0}` law of small-world graphs, which have no finite
:math:`d_B`.

The same greedy colouring covers a finite metric space (the channels of a feature
network, with their pair distances), where a box of size :math:`\theta` is a set of points
with pairwise distances :math:`\le \theta` (:func:`metric_box_counts`).

Test graphs with known answers: :func:`uv_flower` (:math:`d_B = \ln(u+v)/\ln u`,
:cite:p:`rozenfeld2007fractal`), :func:`lattice_graph` (:math:`d_B = 2`), :func:`path_graph`
(:math:`d_B = 1`) and :func:`small_world_graph` (Watts–Strogatz, no finite :math:`d_B`).

Examples
--------
>>> from fractalnb import graph_boxcover as gb
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

from ._colouring import greedy_colour_graph, greedy_colour_metric
from .generators import _check_distance_matrix, as_adjacency

__all__ = [
    "METHODS",
    "UNREACHABLE",
    "hop_distances",
    "BoxCovering",
    "box_cover",
    "graph_box_counts",
    "greedy_box_cover_networkx",
    "metric_box_cover",
    "metric_box_counts",
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
        Rows to compute; all nodes by default (then at most 20,000 nodes).

    Returns
    -------
    numpy.ndarray
        ``uint16`` matrix ``(len(sources), n)``; :data:`UNREACHABLE` between components.

    Examples
    --------
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
                f"the full distance matrix of {n} nodes is too large; pass sources= in chunks "
                f"(at most {_MAX_DENSE_NODES} nodes at once)"
            )
        sources = np.arange(n)
    sources = np.asarray(sources, dtype=np.int64)
    if sources.ndim != 1 or (sources.size and (sources.min() < 0 or sources.max() >= n)):
        raise ValueError(f"sources must be node indices in [0, {n}), got {sources!r}")
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


def _check_box_sizes(box_sizes, *, integer: bool) -> np.ndarray:
    sizes = np.asarray(box_sizes)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"box_sizes must be a non-empty 1-D sequence, got {box_sizes!r}")
    if integer:
        if not np.issubdtype(sizes.dtype, np.integer):
            if not np.all(np.isfinite(sizes)) or np.any(sizes != np.round(sizes)):
                raise ValueError(
                    f"graph box sizes must be integers (hop counts), got {box_sizes!r}")
            sizes = sizes.astype(np.int64)
        if np.any(sizes < 1):
            raise ValueError(f"graph box sizes must be >= 1, got {box_sizes!r}")
    else:
        sizes = sizes.astype(np.float64)
        if not np.all(np.isfinite(sizes)) or np.any(sizes < 0):
            raise ValueError(f"box sizes must be finite and >= 0, got {box_sizes!r}")
    return sizes


def _processing_order(n: int, order, seed) -> np.ndarray:
    if order is None:
        return np.random.default_rng(seed).permutation(n)
    order = np.asarray(order, dtype=np.int64)
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"order must be a permutation of range({n})")
    return order


def _greedy_colour(kernel: Callable[..., np.ndarray], data: tuple, order: np.ndarray,
                   within: np.ndarray) -> np.ndarray:
    """Greedy colouring of Song et al. for all box sizes in one sweep over the nodes.

    ``within[s]`` is the largest distance two nodes of one box may have at size ``s`` (any
    order); ``kernel(*data, order, within_ascending)`` is one of the compiled kernels of
    :mod:`fractalnb._greedy_colouring`. Returns labels ``(n_sizes, n)`` in node order,
    sizes in the order given.
    """
    rank = np.argsort(within, kind="stable")  # sizes from smallest to largest
    colours = kernel(*data, np.ascontiguousarray(order, dtype=np.int64),
                     np.ascontiguousarray(within[rank]))
    labels = np.empty_like(colours)
    labels[rank] = colours
    return labels


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
    seed: int | None = 0,
    order: Sequence[int] | np.ndarray | None = None,
) -> BoxCovering:
    r"""Cover a graph with boxes of size :math:`\ell_B` (pairwise hop distances :math:`< \ell_B`).

    Parameters
    ----------
    graph
        Undirected simple graph (see :func:`as_adjacency`); it may be disconnected (nodes in
        different components never share a box).
    box_sizes
        Integer box sizes :math:`\ell_B \ge 1`. For ``method="memb"`` they must be odd,
        :math:`\ell_B = 2 r_B + 1`.
    method
        ``"greedy"`` (greedy colouring), ``"cbb"`` (compact-box-burning) or ``"memb"``
        (maximum-excluded-mass-burning), all from :cite:p:`song2007howto`.
    seed
        Seeds the random node order (greedy), the random draws (cbb) and the tie-breaks (memb).
    order
        For ``"greedy"``: an explicit node order (a permutation), instead of a random one.

    Returns
    -------
    BoxCovering
        Labels and box counts at every size. Every box is checked to have diameter
        :math:`< \ell_B`.

    Examples
    --------
    >>> cover = box_cover(path_graph(10), [1, 2, 5], method="greedy", order=range(10))
    >>> cover.n_boxes.tolist()
    [10, 5, 2]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    adjacency = as_adjacency(graph)
    n = adjacency.shape[0]
    sizes = _check_box_sizes(box_sizes, integer=True)
    if order is not None and method != "greedy":
        raise ValueError(f"order= applies to method='greedy' only, not {method!r}")
    if method == "greedy":
        node_order = _processing_order(n, order, seed)
        # Nodes farther apart than the largest box are never in one box: each node's
        # breadth-first search stops there.
        csr = (adjacency.indptr.astype(np.int64), adjacency.indices.astype(np.int64))
        labels = _greedy_colour(greedy_colour_graph, csr, node_order,
                                (sizes - 1).astype(np.int64))
    else:
        distances = _hop_rows(adjacency)
        rng = np.random.default_rng(seed)
        if method == "cbb":
            labels = np.stack([_compact_box_burning(distances, s, rng, strict=True)
                               for s in sizes])
        else:
            if np.any(sizes % 2 == 0):
                raise ValueError(
                    f"method='memb' covers with boxes of radius r_B, size 2 r_B + 1: box_sizes "
                    f"must be odd, got {sizes.tolist()}"
                )
            labels = np.stack([_maximum_excluded_mass_burning(distances, (s - 1) // 2, rng)
                               for s in sizes])
    n_boxes = np.array([len(np.unique(row)) for row in labels], dtype=np.int64)
    return BoxCovering(box_sizes=sizes, labels=labels, n_boxes=n_boxes, method=method)


def graph_box_counts(
    graph: sp.spmatrix | sp.sparray | nx.Graph | np.ndarray,
    box_sizes: Sequence[int] | np.ndarray,
    *,
    method: str = "greedy",
    seed: int | None = 0,
    order: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    r"""Return :math:`N_B(\ell_B)` for each box size: ``box_cover(...).n_boxes``.

    Examples
    --------
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
        Integer box sizes :math:`\ell_B \ge 1`.
    order
        The node order, a permutation of ``range(n)``.

    Returns
    -------
    numpy.ndarray
        Labels ``(len(box_sizes), n)``, identical to ``box_cover(graph, box_sizes,
        order=order).labels``.

    Examples
    --------
    >>> greedy_box_cover_networkx(path_graph(5), [2], order=range(5)).tolist()
    [[0, 0, 1, 1, 2]]
    """
    adjacency = as_adjacency(graph)
    sizes = _check_box_sizes(box_sizes, integer=True)
    n = adjacency.shape[0]
    node_order = _processing_order(n, order, None)
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
    seed: int | None = 0,
    order: Sequence[int] | np.ndarray | None = None,
) -> BoxCovering:
    r"""Greedy-colouring box covering of a finite metric space.

    A box of size :math:`\theta` is a set of points with pairwise distances
    :math:`\le \theta` (a clique of the θ-threshold graph). This is the real box count
    that the pseudo box count of :mod:`fractalnb.graphs` approximates.

    Parameters
    ----------
    distances
        Symmetric ``(n, n)`` matrix of pair distances.
    box_sizes
        Box sizes :math:`\theta \ge 0`.
    seed, order
        Node order: random (seeded) or explicit.

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
    distances = _check_distance_matrix(distances)
    sizes = _check_box_sizes(box_sizes, integer=False)
    node_order = _processing_order(len(distances), order, seed)
    labels = _greedy_colour(greedy_colour_metric, (np.ascontiguousarray(distances),),
                            node_order, sizes.astype(distances.dtype, copy=False))
    n_boxes = np.array([len(np.unique(row)) for row in labels], dtype=np.int64)
    return BoxCovering(box_sizes=sizes, labels=labels, n_boxes=n_boxes, method="greedy")


def metric_box_counts(
    distances: np.ndarray,
    box_sizes: Sequence[float] | np.ndarray,
    *,
    seed: int | None = 0,
    order: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Return ``metric_box_cover(...).n_boxes``: real box counts of a finite metric space.

    Examples
    --------
    >>> metric_box_counts(np.zeros((3, 3)), [0.0]).tolist()
    [1]
    """
    return metric_box_cover(distances, box_sizes, seed=seed, order=order).n_boxes
