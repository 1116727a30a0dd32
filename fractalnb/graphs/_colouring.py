"""Compiled kernels of the greedy-colouring box covering (Song et al. 2007).

:mod:`fractalnb.graphs.boxcover` calls these; they are not part of the public API.

Nodes are visited in a given processing order. At each box size ``s``, node ``i`` takes
the smallest colour ``c`` such that every earlier node of colour ``c`` lies within
distance ``within[s]`` of ``i``; colour classes are the boxes. All sizes are coloured in
one sweep over the nodes: the near earlier nodes of ``i`` are listed once, sorted by
distance, so that the near sets of all sizes (``within`` ascending) are prefixes of one
list. Colour ``c`` is free for ``i`` exactly when the number of near earlier nodes
coloured ``c`` equals the size of class ``c``; classes are never empty, so only colours
met among the near nodes need checking. The work per node is proportional to the number
of its near earlier nodes, and nothing of size ``n x n`` is ever stored for graphs.

The kernels are compiled by numba on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "greedy_colour_graph",
    "greedy_colour_metric",
]


@numba.njit(cache=True, nogil=True)
def _colouring_state(n_sizes, n):
    """Colours (-1: not yet), class sizes, colours used per size, and two scratch arrays."""
    colours = np.full((n_sizes, n), -1, dtype=np.int64)
    class_size = np.zeros((n_sizes, n + 1), dtype=np.int64)
    n_colours = np.zeros(n_sizes, dtype=np.int64)
    counts = np.zeros(n + 1, dtype=np.int64)
    touched = np.empty(n + 1, dtype=np.int64)
    return colours, class_size, n_colours, counts, touched


@numba.njit(cache=True, nogil=True)
def _colour_node(node, near, near_distance, n_near, within, colours, class_size, n_colours,
                 counts, touched):
    """Colour ``node`` at every size from its near earlier nodes (sorted by distance)."""
    end = 0
    for s in range(within.shape[0]):
        while end < n_near and near_distance[end] <= within[s]:
            end += 1
        n_touched = 0
        for t in range(end):
            colour = colours[s, near[t]]
            if counts[colour] == 0:
                touched[n_touched] = colour
                n_touched += 1
            counts[colour] += 1
        best = n_colours[s]  # a new colour unless an existing class lies wholly near
        for t in range(n_touched):
            colour = touched[t]
            if colour < best and counts[colour] == class_size[s, colour]:
                best = colour
            counts[colour] = 0
        colours[s, node] = best
        class_size[s, best] += 1
        if best == n_colours[s]:
            n_colours[s] += 1


@numba.njit(cache=True, nogil=True)
def greedy_colour_graph(indptr, indices, order, within):
    """Greedy colouring of a graph (CSR ``indptr``, ``indices``) with hop distances.

    ``within`` (ascending, int64) holds the largest hop distance within one box at each
    size. A breadth-first search from each node, stopped at ``within[-1]`` hops, lists its
    near earlier nodes already in order of distance. Returns colours ``(sizes, n)``,
    indexed by node.
    """
    n = order.shape[0]
    n_sizes = within.shape[0]
    radius = within[n_sizes - 1]
    colours, class_size, n_colours, counts, touched = _colouring_state(n_sizes, n)
    hops = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    near = np.empty(n, dtype=np.int64)
    near_distance = np.empty(n, dtype=np.int64)
    for node in order:
        hops[node] = 0
        queue[0] = node
        head = 0
        tail = 1
        n_near = 0
        while head < tail:
            u = queue[head]
            head += 1
            distance = hops[u]
            if colours[0, u] >= 0:  # coloured already: an earlier node
                near[n_near] = u
                near_distance[n_near] = distance
                n_near += 1
            if distance == radius:
                continue
            for e in range(indptr[u], indptr[u + 1]):
                w = indices[e]
                if hops[w] < 0:
                    hops[w] = distance + 1
                    queue[tail] = w
                    tail += 1
        for t in range(tail):
            hops[queue[t]] = -1
        _colour_node(node, near, near_distance, n_near, within, colours, class_size,
                     n_colours, counts, touched)
    return colours


@numba.njit(cache=True, nogil=True)
def greedy_colour_metric(distances, order, within):
    """Greedy colouring of a finite metric space given by its distance matrix.

    ``within`` (ascending, the dtype of ``distances``) holds the box sizes: two points share
    a box only if their distance is ``<= within[s]``. Returns colours ``(sizes, n)``,
    indexed by node.
    """
    n = order.shape[0]
    n_sizes = within.shape[0]
    widest = within[n_sizes - 1]
    colours, class_size, n_colours, counts, touched = _colouring_state(n_sizes, n)
    near = np.empty(n, dtype=np.int64)
    near_distance = np.empty(n, dtype=distances.dtype)
    for position in range(n):
        node = order[position]
        n_near = 0
        for t in range(position):
            other = order[t]
            distance = distances[node, other]
            if distance <= widest:
                near[n_near] = other
                near_distance[n_near] = distance
                n_near += 1
        rank = np.argsort(near_distance[:n_near])
        _colour_node(node, near[:n_near][rank], near_distance[:n_near][rank], n_near, within,
                     colours, class_size, n_colours, counts, touched)
    return colours
