"""Graphs with known box dimension, and graphs from adjacency data.

Flowers, lattices, small worlds, thresholds.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = [
    "as_adjacency",
    "uv_flower_size",
    "uv_flower",
    "flower_box_dimension",
    "path_graph",
    "lattice_graph",
    "small_world_graph",
    "threshold_graph",
    "connectivity_threshold",
]


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
