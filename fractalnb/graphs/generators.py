"""Graphs with known box dimension, and graphs from adjacency data.

Flowers, lattices, small worlds, thresholds.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .. import _validate

__all__ = [
    "as_adjacency",
    "uv_flower",
    "flower_box_dimension",
    "flower_diameter",
    "subflower_cover",
    "subflower_bound",
    "path_graph",
    "lattice_graph",
    "small_world_graph",
    "threshold_graph",
    "connectivity_threshold",
]


_MAX_NODES = 1 << 26
"""The most nodes (and edges) a graph generator builds or a box covering reads (about 6.7e7)."""

_MAX_NETWORKX_NODES = 10**6  # networkx builds small worlds in Python: a million nodes at most


def _distance_matrix(distances: object, name: str = "distances") -> np.ndarray:
    """Check a matrix of pair distances: square, finite, non-negative, symmetric.

    Returns the matrix as NumPy, float32 and float64 kept (the box sizes are compared in
    its dtype), any other real dtype as float64.
    """
    _validate.real_array(distances, name, ndim=2)
    matrix = _validate.to_numpy(distances)
    if matrix.dtype.type not in (np.float32, np.float64):
        matrix = matrix.astype(np.float64)
    elif not matrix.dtype.isnative:
        matrix = matrix.astype(matrix.dtype.newbyteorder("="))
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {matrix.shape}")
    if np.any(matrix < 0):
        raise ValueError(f"{name} must be non-negative, got the minimum {matrix.min()}")
    if not np.allclose(matrix, matrix.T):
        raise ValueError(f"{name} must be symmetric")
    return matrix


def _zero_one(values: np.ndarray, name: str) -> None:
    """Refuse adjacency entries other than 0 and 1 (NaN, -1, 0.5, 2 ...)."""
    if values.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got complex dtype {values.dtype}")
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold 0/1 entries, got dtype {values.dtype}")
    bad = (values != 0) & (values != 1)
    if bad.any():
        raise ValueError(
            f"{name} must be a 0/1 adjacency matrix, got the entry {values[bad][0]!r} "
            f"({int(bad.sum())} entries other than 0 and 1)"
        )


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
        If the matrix is not square or not symmetric, holds entries other than 0 and 1
        (NaN, -1, 0.5 ... are refused, not read as edges), has self-loops, has no nodes or
        more than 2^26 (about 6.7e7).
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
        _validate.budget(graph.number_of_nodes(), "graph", _MAX_NODES, "nodes")
        matrix = nx.to_scipy_sparse_array(graph, format="csr", dtype=np.int8, weight=None)
    elif sp.issparse(graph):
        if graph.ndim != 2:
            raise ValueError(f"graph adjacency must be a square matrix, got shape {graph.shape}")
        _validate.budget(max(graph.shape), "graph", _MAX_NODES, "nodes")
        matrix = sp.csr_matrix(graph)
        _zero_one(matrix.data, "graph")
    elif isinstance(graph, np.ndarray):
        _validate.real_array(graph, "graph", ndim=2, allow_bool=True, allow_sequences=False,
                             allow_empty=True)
        _zero_one(graph, "graph")
        matrix = sp.csr_matrix(graph)
    else:
        raise TypeError(
            f"graph must be a scipy.sparse matrix, a numpy array or a networkx.Graph, "
            f"got {_validate.describe(graph)}"
        )
    if matrix.shape[0] != matrix.shape[1]:
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


def _flower(u: object, v: object, generation: object) -> tuple[int, int, int]:
    """Check the parameters of a ``(u, v)``-flower, its size within 2^26 (about 6.7e7)."""
    u = _validate.integer(u, "u", minimum=1)
    v = _validate.integer(v, "v", minimum=1)
    generation = _validate.integer(generation, "generation", minimum=0)
    if u > v:
        raise ValueError(f"the flower needs 1 <= u <= v, got u={u}, v={v}")
    if v < 2:
        raise ValueError(f"the flower needs v >= 2 (u = v = 1 gives parallel edges), got v={v}")
    w = u + v
    # M_n = w^n edges and about as many nodes; compared in logarithms first (no huge powers)
    if generation * math.log(w) > math.log(_MAX_NODES) + 1 or w**generation > _MAX_NODES:
        raise ValueError(
            f"generation={generation} of the ({u}, {v})-flower has {w}^{generation} edges, "
            f"more than the limit of {_MAX_NODES}"
        )
    return u, v, generation


def uv_flower(u: int, v: int, generation: int) -> sp.csr_matrix:
    r"""Build the ``(u, v)``-flower of :cite:p:`rozenfeld2007fractal`.

    Generation 0 is a single edge between the two hubs (nodes 0 and 1). Each generation
    replaces every edge by two parallel paths, of ``u`` and of ``v`` edges. For ``u > 1``
    the flower is fractal with :math:`d_B = \ln(u+v)/\ln u`; for ``u = 1`` it is a
    small world. With :math:`w = u + v` it has :math:`M_n = w^n` edges and
    :math:`N_n = \frac{w-2}{w-1} w^n + \frac{w}{w-1}` nodes.

    Parameters
    ----------
    u, v
        Path lengths, integers with ``1 <= u <= v`` and ``v >= 2``.
    generation
        Number of replacement steps, an integer ``>= 0``; :math:`w^n` may not exceed
        2^26 (about 6.7e7).

    Returns
    -------
    scipy.sparse.csr_matrix
        Adjacency matrix (``int8``) with :math:`N_n` nodes.

    Raises
    ------
    TypeError
        If ``u``, ``v`` or ``generation`` is not an integer.
    ValueError
        If they are out of range or the flower is too large.

    Examples
    --------
    >>> uv_flower(2, 2, 1).toarray().sum(axis=1)   # a 4-cycle
    array([2, 2, 2, 2])
    >>> uv_flower(2, 2, 7).shape   # N_7 = (2/3) 4^7 + 4/3
    (10924, 10924)
    """
    u, v, generation = _flower(u, v, generation)
    edges, n_nodes, _ = _flower_edges(u, v, generation)
    return _edges_to_adjacency(edges, n_nodes)


def _flower_edges(u: int, v: int, generation: int, track_from: int | None = None
                  ) -> tuple[np.ndarray, int, np.ndarray]:
    """Return the flower's edges, node count and, per node, its edge of ``track_from``.

    The nodes are numbered as :func:`uv_flower` numbers them. With ``track_from = m``,
    every edge of generation ``m`` starts a label; every later edge and node inherits the
    label of the generation-``m`` edge it replaces (a hub of generation ``m`` takes the
    smallest label of its edges): the classes are the ``w^(n-m)`` generation-``(n-m)``
    sub-flowers. Without it the labels are empty.
    """
    edges = np.array([[0, 1]], dtype=np.int64)
    owner = np.zeros(1, dtype=np.int64)
    node_label = np.empty(0, dtype=np.int64)
    n_nodes = 2
    for step in range(generation + 1):
        if step == track_from:
            owner = np.arange(len(edges), dtype=np.int64)
            node_label = np.full(n_nodes, len(edges), dtype=np.int64)
            np.minimum.at(node_label, edges[:, 0], owner)
            np.minimum.at(node_label, edges[:, 1], owner)
        if step == generation:
            break
        ends_a, ends_b = edges[:, :1], edges[:, 1:]
        new_edges, new_owner, new_labels = [], [], []
        for length in (u, v):
            inner = length - 1
            ids = n_nodes + np.arange(len(edges) * inner, dtype=np.int64).reshape(len(edges), inner)
            n_nodes += ids.size
            chain = np.concatenate([ends_a, ids, ends_b], axis=1)
            new_edges.append(np.stack([chain[:, :-1].ravel(), chain[:, 1:].ravel()], axis=1))
            new_owner.append(np.repeat(owner, length))
            new_labels.append(np.repeat(owner, inner))
        edges = np.concatenate(new_edges)
        if track_from is not None and step >= track_from:
            node_label = np.concatenate([node_label, *new_labels])
        owner = np.concatenate(new_owner)
    return edges, n_nodes, node_label


def subflower_cover(u: int, v: int, generation: int, k: int) -> np.ndarray:
    r"""Cover the ``(u, v)``-flower of generation ``n`` by its generation-``k`` sub-flowers.

    A generation-``n`` flower is the generation-``(n-k)`` flower with every edge replaced by
    a generation-``k`` flower; these :math:`(u+v)^{n-k}` sub-flowers meet only at their
    hubs. A sub-flower is joined to the rest of the graph at its two hubs only, and its
    hubs are no closer outside it, so its diameter in the whole flower is its own,
    :func:`flower_diameter` ``(u, v, k)``. Each sub-flower is therefore a valid box of size
    :math:`\ell_B = D_k + 1`, and

    .. math:: N_B(D_k + 1) \le (u+v)^{n-k}

    for the optimal covering (and for every larger box size).

    Parameters
    ----------
    u, v, generation
        The flower, as in :func:`uv_flower`.
    k
        The generation of the sub-flowers, ``1 <= k <= generation`` (``k = generation``:
        one box).

    Returns
    -------
    numpy.ndarray
        ``int64`` box label of every node of ``uv_flower(u, v, generation)`` (its node
        numbering), in ``0 .. (u+v)^(n-k) - 1``; a hub shared by several sub-flowers is in
        the one of smallest label.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        For a flower :func:`uv_flower` refuses, or ``k`` outside ``[1, generation]``.

    Examples
    --------
    >>> labels = subflower_cover(2, 3, 3, 1)   # 25 five-cycles
    >>> len(set(labels.tolist())), labels.shape
    (25, (95,))
    """
    u, v, generation = _flower(u, v, generation)
    k = _validate.integer(k, "k", minimum=1, maximum=generation)
    _, _, labels = _flower_edges(u, v, generation, track_from=generation - k)
    return labels


def subflower_bound(u: int, v: int, generation: int, box_sizes: object) -> np.ndarray:
    r"""Return the sub-flower upper bound on the optimal box count :math:`N_B(\ell_B)`.

    At box size :math:`\ell_B`, the generation-``k`` sub-flowers of :func:`subflower_cover`
    are boxes for every ``k`` with :math:`D_k + 1 \le \ell_B` (:math:`D_k` =
    :func:`flower_diameter` ``(u, v, k)``), so the fewest boxes are at most
    :math:`(u+v)^{n-k}` for the largest such ``k``; below :math:`D_1 + 1` the bound is the
    number of nodes (one box each).

    Parameters
    ----------
    u, v, generation
        The flower, as in :func:`uv_flower` (the diameters of its sub-flowers are searched
        as in :func:`flower_diameter`).
    box_sizes
        Strictly increasing integer box sizes :math:`\ell_B \ge 1`.

    Returns
    -------
    numpy.ndarray
        ``int64`` bound at each box size.

    Raises
    ------
    TypeError, ValueError
        As :func:`uv_flower` and for box sizes that are not strictly increasing integers
        ``>= 1``.

    Examples
    --------
    >>> subflower_bound(2, 3, 5, [2, 3, 7, 14, 20, 28]).tolist()
    [2345, 625, 125, 25, 25, 5]
    """
    u, v, generation = _flower(u, v, generation)
    sizes = _validate.sizes(box_sizes, "box_sizes")
    w = u + v
    n_nodes = ((w - 2) * w**generation + w) // (w - 1)
    bound = np.full(len(sizes), n_nodes, dtype=np.int64)
    for k in range(1, generation + 1):
        if sizes[-1] < u**k + 1:  # D_k >= u^k, the hub distance: no search needed
            break
        fits = sizes >= flower_diameter(u, v, k) + 1
        if not fits.any():
            break
        bound[fits] = w ** (generation - k)
    return bound


_MAX_DIAMETER_WORK = 4 * 10**9
"""The most node-edge steps (nodes times edges) :func:`flower_diameter` runs."""


def flower_diameter(u: int, v: int, generation: int) -> int:
    r"""Return the diameter of the ``(u, v)``-flower, by breadth-first search from every node.

    For ``u = v`` it is the hub distance :math:`u^n`; for ``u < v`` it is larger (the
    farthest nodes sit in the middle of ``v``-paths). For the (2,3)-flower,
    :math:`D_1 = 2` and :math:`D_{k+1} = 2D_k + 1` from :math:`D_2 = 6` on (tested), so the
    box sizes :math:`D_k + 1` double from generation to generation.

    Parameters
    ----------
    u, v, generation
        The flower, as in :func:`uv_flower`; at most :math:`4 	imes 10^9` node-edge steps
        (the (2,3)-flower of generation 6, 11,720 nodes, takes about 1.7e8).

    Returns
    -------
    int
        The largest hop distance between two nodes.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        For a flower :func:`uv_flower` refuses, or one too large to search from every node.

    Examples
    --------
    >>> [flower_diameter(2, 3, k) for k in range(1, 5)]
    [2, 6, 13, 27]
    """
    u, v, generation = _flower(u, v, generation)
    w = u + v
    n_nodes = ((w - 2) * w**generation + w) // (w - 1)
    _validate.budget(n_nodes * w**generation, "generation", _MAX_DIAMETER_WORK,
                     "node-edge steps")
    adjacency = uv_flower(u, v, generation)
    diameter = 0
    for start in range(0, n_nodes, 1024):
        rows = csgraph.shortest_path(adjacency, directed=False, unweighted=True,
                                     indices=np.arange(start, min(start + 1024, n_nodes)))
        diameter = max(diameter, int(rows.max()))
    return diameter


def flower_box_dimension(u: int, v: int) -> float:
    r"""Return the box dimension :math:`\ln(u+v)/\ln u` of the ``(u, v)``-flower (``u > 1``).

    Examples
    --------
    >>> round(flower_box_dimension(2, 2), 6)
    2.0
    """
    u, v, _ = _flower(u, v, 0)
    if u < 2:
        raise ValueError(f"the (u, v)-flower has a finite box dimension only for u > 1, got u={u}")
    return float(np.log(u + v) / np.log(u))


def path_graph(n: int) -> sp.csr_matrix:
    """Return the path on ``n >= 2`` nodes (box dimension 1), at most 2^26 (about 6.7e7).

    Examples
    --------
    >>> path_graph(3).nnz
    4
    """
    n = _validate.integer(n, "n", minimum=2, maximum=_MAX_NODES)
    nodes = np.arange(n - 1)
    return _edges_to_adjacency(np.stack([nodes, nodes + 1], axis=1), n)


def lattice_graph(rows: int, cols: int | None = None, *, periodic: bool = False) -> sp.csr_matrix:
    """Return the square lattice of ``rows x cols`` nodes (box dimension 2).

    Node ``(i, j)`` has index ``i * cols + j``; ``periodic=True`` closes it into a torus.
    ``rows`` and ``cols`` are integers ``>= 2`` (``>= 3`` when periodic), ``cols = rows`` by
    default, with at most 2^26 (about 6.7e7) nodes.

    Examples
    --------
    >>> lattice_graph(3).shape
    (9, 9)
    """
    rows = _validate.integer(rows, "rows", minimum=2)
    cols = rows if cols is None else _validate.integer(cols, "cols", minimum=2)
    periodic = _validate.boolean(periodic, "periodic")
    _validate.budget(rows * cols, "rows x cols", _MAX_NODES, "nodes")
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

    A ring of ``n`` nodes (``3 <= n <= 10**6``), each joined to its ``k`` nearest neighbours
    (``k`` even, ``2 <= k < n``), with every edge rewired with probability ``p`` in [0, 1]
    (networkx's ``connected_watts_strogatz_graph``, seeded by the integer ``seed >= 0``).

    Examples
    --------
    >>> small_world_graph(50, 4, 0.1, seed=0).shape
    (50, 50)
    """
    n = _validate.integer(n, "n", minimum=3, maximum=_MAX_NETWORKX_NODES)
    k = _validate.integer(k, "k")
    if not 2 <= k < n or k % 2:
        raise ValueError(f"k must be an even integer with 2 <= k < n, got k={k}, n={n}")
    p = _validate.real(p, "p", 0.0, 1.0)
    seed = _validate.seed(seed)
    graph = nx.connected_watts_strogatz_graph(n, k, p, tries=1000, seed=seed)
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
    distances = _distance_matrix(distances)
    _validate.real(epsilon, "epsilon", minimum=0)  # compared as given, in its own dtype
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
    distances = _distance_matrix(distances)
    if len(distances) < 2:
        raise ValueError(
            f"distances must hold at least 2 points for a connectivity threshold, got "
            f"shape {distances.shape}"
        )
    weights = distances.astype(np.float64, copy=True)
    # csgraph reads zeros as missing edges: coincident points are joined by a tiny weight.
    off_diagonal = ~np.eye(len(weights), dtype=bool)
    weights[(weights == 0) & off_diagonal] = np.finfo(np.float64).tiny
    tree = csgraph.minimum_spanning_tree(weights)
    longest = float(tree.data.max()) if tree.nnz else 0.0
    return 0.0 if longest <= np.finfo(np.float64).tiny else longest
