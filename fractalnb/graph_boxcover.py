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
>>> counts = gb.box_counts(graph, [2, 4, 8, 17], method="greedy", seed=0)
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

from ._greedy_colouring import greedy_colour_graph, greedy_colour_metric

__all__ = [
    "METHODS",
    "UNREACHABLE",
    "BoxCovering",
    "ScalingFit",
    "as_adjacency",
    "box_counts",
    "box_cover",
    "connectivity_threshold",
    "fit_box_dimension",
    "fit_exponential_decay",
    "flower_box_dimension",
    "greedy_box_cover_networkx",
    "hop_distances",
    "lattice_graph",
    "metric_box_counts",
    "metric_box_cover",
    "path_graph",
    "small_world_graph",
    "threshold_graph",
    "uv_flower",
    "uv_flower_size",
]

METHODS = ("greedy", "cbb", "memb")
"""The box-covering heuristics of :func:`box_cover`."""

UNREACHABLE = np.iinfo(np.uint16).max
"""Hop distance reported by :func:`hop_distances` between nodes of different components."""

_MAX_DENSE_NODES = 20_000  # full hop-distance matrices beyond this would not fit comfortably


# --- graphs -------------------------------------------------------------------------------


def as_adjacency(graph: sp.spmatrix | sp.sparray | nx.Graph | np.ndarray) -> sp.csr_matrix:
    """Return the symmetric 0/1 adjacency matrix (CSR) of an undirected simple graph.

    Parameters
    ----------
    graph
        A SciPy sparse matrix, a dense NumPy adjacency matrix, or a :class:`networkx.Graph`
        (nodes are then numbered in ``graph.nodes`` order).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``int8`` adjacency with ones on the edges.

    Raises
    ------
    ValueError
        If the matrix is not square or not symmetric, has self-loops, or has no nodes.
    TypeError
        If ``graph`` is none of the accepted types.

    Examples
    --------
    >>> as_adjacency(nx.path_graph(3)).toarray()
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]], dtype=int8)
    """
    if isinstance(graph, nx.Graph):
        if graph.is_directed():
            raise ValueError("graph must be undirected, got a directed networkx graph")
        matrix = nx.to_scipy_sparse_array(graph, format="csr", dtype=np.int8, weight=None)
    elif sp.issparse(graph):
        matrix = sp.csr_matrix(graph)
    elif isinstance(graph, np.ndarray):
        matrix = sp.csr_matrix(graph)
    else:
        raise TypeError(
            f"graph must be a scipy.sparse matrix, a numpy array or a networkx.Graph, "
            f"got {type(graph).__name__}"
        )
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"graph adjacency must be square, got shape {matrix.shape}")
    if matrix.shape[0] == 0:
        raise ValueError("graph has no nodes")
    matrix = sp.csr_matrix((matrix != 0).astype(np.int8))
    if matrix.diagonal().any():
        raise ValueError("graph has self-loops; box covering is defined for simple graphs")
    if (matrix != matrix.T).nnz:
        raise ValueError("graph adjacency must be symmetric (an undirected graph)")
    matrix.sort_indices()
    return matrix


def _edges_to_adjacency(edges: np.ndarray, n_nodes: int) -> sp.csr_matrix:
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    data = np.ones(len(rows), dtype=np.int8)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n_nodes, n_nodes))
    matrix.data[:] = 1  # parallel edges collapse to one
    matrix.sort_indices()
    return matrix


def uv_flower_size(u: int, v: int, generation: int) -> tuple[int, int]:
    r"""Return the numbers of nodes and edges of the ``(u, v)``-flower of a generation.

    With :math:`w = u + v`: :math:`M_n = w^n` edges and
    :math:`N_n = \frac{w-2}{w-1} w^n + \frac{w}{w-1}` nodes :cite:p:`rozenfeld2007fractal`.

    Examples
    --------
    >>> uv_flower_size(2, 2, 7)
    (10924, 16384)
    """
    _check_flower(u, v, generation)
    w = u + v
    edges = w**generation
    nodes = ((w - 2) * w**generation + w) // (w - 1)
    return nodes, edges


def _check_flower(u: int, v: int, generation: int) -> None:
    for name, value in (("u", u), ("v", v), ("generation", generation)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{name} must be an integer, got {value!r}")
    if not 1 <= u <= v:
        raise ValueError(f"the flower needs 1 <= u <= v, got u={u}, v={v}")
    if v < 2:
        raise ValueError(f"the flower needs v >= 2 (u = v = 1 gives parallel edges), got v={v}")
    if generation < 0:
        raise ValueError(f"generation must be >= 0, got {generation}")


def uv_flower(u: int, v: int, generation: int) -> sp.csr_matrix:
    r"""Build the ``(u, v)``-flower of :cite:p:`rozenfeld2007fractal`.

    Generation 0 is a single edge between the two hubs (nodes 0 and 1). Each generation
    replaces every edge by two parallel paths, of ``u`` and of ``v`` edges. For ``u > 1``
    the flower is fractal with :math:`d_B = \ln(u+v)/\ln u`; for ``u = 1`` it is a
    small world.

    Parameters
    ----------
    u, v
        Path lengths, ``1 <= u <= v`` and ``v >= 2``.
    generation
        Number of replacement steps.

    Returns
    -------
    scipy.sparse.csr_matrix
        Adjacency matrix (``int8``) with :func:`uv_flower_size` nodes.

    Examples
    --------
    >>> uv_flower(2, 2, 1).toarray().sum(axis=1)   # a 4-cycle
    array([2, 2, 2, 2])
    """
    _check_flower(u, v, generation)
    edges = np.array([[0, 1]], dtype=np.int64)
    n_nodes = 2
    for _ in range(generation):
        ends_a, ends_b = edges[:, :1], edges[:, 1:]
        new_edges = []
        for length in (u, v):
            inner = length - 1
            ids = n_nodes + np.arange(len(edges) * inner, dtype=np.int64).reshape(len(edges), inner)
            n_nodes += ids.size
            chain = np.concatenate([ends_a, ids, ends_b], axis=1)
            new_edges.append(np.stack([chain[:, :-1].ravel(), chain[:, 1:].ravel()], axis=1))
        edges = np.concatenate(new_edges)
    return _edges_to_adjacency(edges, n_nodes)


def flower_box_dimension(u: int, v: int) -> float:
    r"""Return the box dimension :math:`\ln(u+v)/\ln u` of the ``(u, v)``-flower (``u > 1``).

    Examples
    --------
    >>> round(flower_box_dimension(2, 2), 6)
    2.0
    """
    _check_flower(u, v, 0)
    if u < 2:
        raise ValueError(f"the (u, v)-flower has a finite box dimension only for u > 1, got u={u}")
    return float(np.log(u + v) / np.log(u))


def path_graph(n: int) -> sp.csr_matrix:
    """Return the path on ``n >= 2`` nodes (box dimension 1).

    Examples
    --------
    >>> path_graph(3).nnz
    4
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    nodes = np.arange(n - 1)
    return _edges_to_adjacency(np.stack([nodes, nodes + 1], axis=1), n)


def lattice_graph(rows: int, cols: int | None = None, *, periodic: bool = False) -> sp.csr_matrix:
    """Return the square lattice of ``rows x cols`` nodes (box dimension 2).

    Node ``(i, j)`` has index ``i * cols + j``; ``periodic=True`` closes it into a torus.

    Examples
    --------
    >>> lattice_graph(3).shape
    (9, 9)
    """
    cols = rows if cols is None else cols
    for name, value in (("rows", rows), ("cols", cols)):
        if not isinstance(value, (int, np.integer)) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    if periodic and min(rows, cols) < 3:
        raise ValueError(f"a periodic lattice needs rows, cols >= 3, got {rows} x {cols}")
    index = np.arange(rows * cols).reshape(rows, cols)
    right = np.roll(index, -1, axis=1) if periodic else index[:, 1:]
    down = np.roll(index, -1, axis=0) if periodic else index[1:, :]
    left = index if periodic else index[:, :-1]
    up = index if periodic else index[:-1, :]
    edges = np.concatenate([
        np.stack([left.ravel(), right.ravel()], axis=1),
        np.stack([up.ravel(), down.ravel()], axis=1),
    ])
    return _edges_to_adjacency(edges, rows * cols)


def small_world_graph(n: int, k: int = 4, p: float = 0.1, *, seed: int = 0) -> sp.csr_matrix:
    """Return a connected Watts–Strogatz small-world graph :cite:p:`watts1998collective`.

    A ring of ``n`` nodes, each joined to its ``k`` nearest neighbours, with every edge
    rewired with probability ``p`` (networkx's ``connected_watts_strogatz_graph``).

    Examples
    --------
    >>> small_world_graph(50, 4, 0.1, seed=0).shape
    (50, 50)
    """
    if not isinstance(n, (int, np.integer)) or n < 3:
        raise ValueError(f"n must be an integer >= 3, got {n!r}")
    if not isinstance(k, (int, np.integer)) or not 2 <= k < n or k % 2:
        raise ValueError(f"k must be an even integer with 2 <= k < n, got {k!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    graph = nx.connected_watts_strogatz_graph(int(n), int(k), float(p), tries=1000, seed=seed)
    return as_adjacency(graph)


def threshold_graph(distances: np.ndarray, epsilon: float) -> sp.csr_matrix:
    """Join every pair of points at distance ``<= epsilon``: the ε-threshold graph.

    Parameters
    ----------
    distances
        Symmetric matrix of pair distances ``(n, n)``, finite and non-negative.
    epsilon
        Threshold.

    Returns
    -------
    scipy.sparse.csr_matrix
        Adjacency matrix (no self-loops).

    Examples
    --------
    >>> d = np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0.]])
    >>> threshold_graph(d, 2.0).toarray()
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]], dtype=int8)
    """
    distances = _check_distance_matrix(distances)
    if not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be finite and >= 0, got {epsilon}")
    adjacency = distances <= epsilon
    np.fill_diagonal(adjacency, False)
    return sp.csr_matrix(adjacency.astype(np.int8))


def connectivity_threshold(distances: np.ndarray) -> float:
    """Return the smallest ε at which the ε-threshold graph is connected.

    It is the longest edge of a minimum spanning tree of the complete graph weighted
    by ``distances``.

    Examples
    --------
    >>> d = np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0.]])
    >>> connectivity_threshold(d)
    2.0
    """
    distances = _check_distance_matrix(distances)
    if len(distances) < 2:
        raise ValueError("need at least 2 points for a connectivity threshold")
    weights = distances.astype(np.float64, copy=True)
    # csgraph reads zeros as missing edges: coincident points are joined by a tiny weight.
    off_diagonal = ~np.eye(len(weights), dtype=bool)
    weights[(weights == 0) & off_diagonal] = np.finfo(np.float64).tiny
    tree = csgraph.minimum_spanning_tree(weights)
    longest = float(tree.data.max()) if tree.nnz else 0.0
    return 0.0 if longest <= np.finfo(np.float64).tiny else longest


def _check_distance_matrix(distances: np.ndarray) -> np.ndarray:
    distances = np.asarray(distances)
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1]:
        raise ValueError(f"distances must be a square matrix, got shape {distances.shape}")
    if distances.shape[0] == 0:
        raise ValueError("distances is empty")
    if not np.all(np.isfinite(distances)):
        raise ValueError("distances holds NaN or infinite values")
    if np.any(distances < 0):
        raise ValueError("distances must be non-negative")
    if not np.allclose(distances, distances.T):
        raise ValueError("distances must be symmetric")
    return distances


# --- hop distances --------------------------------------------------------------------------


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


# --- covering -------------------------------------------------------------------------------


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


def box_counts(
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
    >>> box_counts(path_graph(9), [3], order=range(9)).tolist()
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
    that the pseudo box count of :mod:`fractalnb.feature_networks` approximates.

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


# --- scaling fits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScalingFit:
    r"""A straight-line fit of :math:`\ln N_B` against :math:`\ln \ell_B` or :math:`\ell_B`.

    Attributes
    ----------
    law : str
        ``"power"`` (:math:`N_B \propto \ell_B^{-d_B}`) or ``"exponential"``
        (:math:`N_B \propto e^{-\ell_B / \ell_0}`).
    exponent : float
        :math:`d_B` for the power law, :math:`1/\ell_0` for the exponential law.
    intercept : float
        Intercept of the line.
    r2 : float
        Coefficient of determination of the line on the fitted points.
    box_sizes : numpy.ndarray
        The box sizes used in the fit.
    """

    law: str
    exponent: float
    intercept: float
    r2: float
    box_sizes: np.ndarray

    @property
    def dimension(self) -> float:
        """The box dimension :math:`d_B` (power law only)."""
        if self.law != "power":
            raise ValueError("an exponential fit has no box dimension")
        return self.exponent

    @property
    def length(self) -> float:
        r"""The characteristic length :math:`\ell_0` (exponential law only)."""
        if self.law != "exponential":
            raise ValueError("a power-law fit has no characteristic length")
        return 1.0 / self.exponent if self.exponent != 0 else np.inf


def _fit_line(box_sizes, n_boxes, fit_min, fit_max, law: str) -> ScalingFit:
    sizes = np.asarray(box_sizes, dtype=np.float64)
    counts = np.asarray(n_boxes, dtype=np.float64)
    if sizes.shape != counts.shape or sizes.ndim != 1:
        raise ValueError(
            f"box_sizes and n_boxes must be 1-D of equal length, got {sizes.shape}, {counts.shape}"
        )
    if not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError("box sizes must be finite and > 0")
    if not np.all(np.isfinite(counts)) or np.any(counts < 1):
        raise ValueError("box counts must be finite and >= 1")
    keep = np.ones(len(sizes), dtype=bool)
    if fit_min is not None:
        keep &= sizes >= fit_min
    if fit_max is not None:
        keep &= sizes <= fit_max
    if keep.sum() < 2:
        raise ValueError(
            f"need at least 2 box sizes in the fit range [{fit_min}, {fit_max}], "
            f"got {int(keep.sum())}"
        )
    x = np.log(sizes[keep]) if law == "power" else sizes[keep]
    y = np.log(counts[keep])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
    return ScalingFit(law=law, exponent=float(-slope), intercept=float(intercept),
                      r2=float(r2), box_sizes=sizes[keep])


def fit_box_dimension(
    box_sizes: Sequence[float] | np.ndarray,
    n_boxes: Sequence[float] | np.ndarray,
    *,
    fit_min: float | None = None,
    fit_max: float | None = None,
) -> ScalingFit:
    r"""Fit :math:`N_B \propto \ell_B^{-d_B}` by least squares in log–log over stated scales.

    Parameters
    ----------
    box_sizes, n_boxes
        The curve :math:`N_B(\ell_B)`.
    fit_min, fit_max
        Only box sizes in ``[fit_min, fit_max]`` enter the fit (inclusive); all by default.

    Returns
    -------
    ScalingFit
        ``law="power"``; ``.dimension`` is :math:`d_B`.

    Examples
    --------
    >>> sizes = np.array([1, 2, 4, 8])
    >>> round(fit_box_dimension(sizes, 1000 * sizes ** -1.5).dimension, 6)
    1.5
    """
    return _fit_line(box_sizes, n_boxes, fit_min, fit_max, "power")


def fit_exponential_decay(
    box_sizes: Sequence[float] | np.ndarray,
    n_boxes: Sequence[float] | np.ndarray,
    *,
    fit_min: float | None = None,
    fit_max: float | None = None,
) -> ScalingFit:
    r"""Fit :math:`N_B \propto e^{-\ell_B/\ell_0}` by least squares in semi-log axes.

    Examples
    --------
    >>> sizes = np.arange(1, 6)
    >>> round(fit_exponential_decay(sizes, 500 * np.exp(-sizes / 2.0)).length, 6)
    2.0
    """
    return _fit_line(box_sizes, n_boxes, fit_min, fit_max, "exponential")
