"""Tests of fractalnb.graphs.boxcover: test graphs, box covering, scaling fits."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import geometry, graphs

SETTINGS = settings(max_examples=30, deadline=None)


# --- an independent verifier (networkx distances, no code shared with the module) ----------


def networkx_distances(adjacency) -> dict[int, dict[int, int]]:
    graph = nx.from_scipy_sparse_array(adjacency)
    return dict(nx.all_pairs_shortest_path_length(graph))


def assert_valid_graph_covering(adjacency, labels: np.ndarray, box_size: int) -> None:
    """Every node in exactly one box; every box has hop diameter < box_size."""
    n = adjacency.shape[0]
    labels = np.asarray(labels)
    assert labels.shape == (n,)  # one label per node: each node in exactly one box
    dist = networkx_distances(adjacency)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label).tolist()
        assert members
        for i in members:
            for j in members:
                assert j in dist[i], "a box spans two components"
                assert dist[i][j] < box_size


def assert_valid_metric_covering(distances: np.ndarray, labels: np.ndarray, size: float) -> None:
    assert labels.shape == (len(distances),)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        assert distances[np.ix_(members, members)].max() <= size


connected_graphs = st.builds(
    lambda n, p, seed: nx.connected_watts_strogatz_graph(n, 4, p, tries=200, seed=seed),
    st.integers(8, 40), st.floats(0.0, 1.0), st.integers(0, 10_000),
)
any_graphs = st.builds(
    lambda n, p, seed: nx.gnp_random_graph(n, p, seed=seed),
    st.integers(2, 30), st.floats(0.05, 0.5), st.integers(0, 10_000),
)


# --- test graphs ----------------------------------------------------------------------------


@pytest.mark.parametrize("u,v,gen", [(2, 2, 3), (2, 3, 3), (1, 2, 4), (3, 4, 2)])
def test_flower_size_and_degrees(u, v, gen):
    adjacency = graphs.uv_flower(u, v, gen)
    w = u + v  # M_n = w^n edges, N_n = (w - 2) / (w - 1) w^n + w / (w - 1) nodes
    edges = w**gen
    nodes = ((w - 2) * w**gen + w) // (w - 1)
    assert adjacency.shape == (nodes, nodes)
    assert adjacency.nnz == 2 * edges
    graph = nx.from_scipy_sparse_array(adjacency)
    assert nx.is_connected(graph)
    # the two hubs have degree 2**gen; hub-to-hub distance is u**gen
    assert graph.degree[0] == graph.degree[1] == 2**gen
    assert nx.shortest_path_length(graph, 0, 1) == u**gen


def test_flower_generation_one_is_a_cycle():
    graph = nx.from_scipy_sparse_array(graphs.uv_flower(2, 3, 1))
    assert nx.is_isomorphic(graph, nx.cycle_graph(5))


def test_lattice_and_path_structure():
    assert nx.is_isomorphic(nx.from_scipy_sparse_array(graphs.lattice_graph(4, 5)),
                            nx.grid_2d_graph(4, 5))
    assert nx.is_isomorphic(nx.from_scipy_sparse_array(graphs.lattice_graph(4, periodic=True)),
                            nx.grid_2d_graph(4, 4, periodic=True))
    assert nx.is_isomorphic(nx.from_scipy_sparse_array(graphs.path_graph(7)), nx.path_graph(7))


def test_hop_distances_match_networkx():
    adjacency = graphs.small_world_graph(60, 4, 0.2, seed=3)
    ours = graphs.hop_distances(adjacency)
    reference = networkx_distances(adjacency)
    for i in range(60):
        for j in range(60):
            assert ours[i, j] == reference[i][j]


def test_hop_distances_between_components_are_unreachable():
    adjacency = graphs.as_adjacency(nx.disjoint_union(nx.path_graph(2), nx.path_graph(2)))
    assert graphs.hop_distances(adjacency)[0, 2] == graphs.UNREACHABLE


# --- valid coverings ------------------------------------------------------------------------


@SETTINGS
@given(graph=any_graphs, seed=st.integers(0, 100), size=st.integers(1, 6))
def test_greedy_and_cbb_give_valid_coverings(graph, seed, size):
    adjacency = graphs.as_adjacency(graph) if graph.number_of_edges() else None
    if adjacency is None:
        return
    for method in ("greedy", "cbb"):
        cover = graphs.box_cover(adjacency, [size], method=method, seed=seed)
        assert_valid_graph_covering(adjacency, cover.labels[0], size)
        assert cover.n_boxes[0] == len(np.unique(cover.labels[0]))


@SETTINGS
@given(graph=connected_graphs, seed=st.integers(0, 100), radius=st.integers(0, 3))
def test_memb_gives_valid_coverings(graph, seed, radius):
    adjacency = graphs.as_adjacency(graph)
    size = 2 * radius + 1
    cover = graphs.box_cover(adjacency, [size], method="memb", seed=seed)
    # MEMB boxes have radius r_B around their centre, so their diameter is <= 2 r_B < l_B
    assert_valid_graph_covering(adjacency, cover.labels[0], size)


@SETTINGS
@given(graph=connected_graphs, seed=st.integers(0, 1000))
def test_compiled_greedy_equals_networkx_reference(graph, seed):
    adjacency = graphs.as_adjacency(graph)
    order = np.random.default_rng(seed).permutation(adjacency.shape[0])
    sizes = [1, 2, 3, 5, 8]
    ours = graphs.box_cover(adjacency, sizes, order=order)
    reference = graphs.greedy_box_cover_networkx(adjacency, sizes, order=order)
    np.testing.assert_array_equal(ours.labels, reference)


@SETTINGS
@given(graph=any_graphs, seed=st.integers(0, 1000),
       sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6, unique=True).map(sorted))
def test_compiled_greedy_equals_reference_on_disconnected_graphs_any_sizes(graph, seed, sizes):
    # Sizes beyond the diameter too; components never share a box.
    adjacency = graphs.as_adjacency(graph)
    order = np.random.default_rng(seed).permutation(adjacency.shape[0])
    ours = graphs.box_cover(adjacency, sizes, order=order)
    reference = graphs.greedy_box_cover_networkx(adjacency, sizes, order=order)
    np.testing.assert_array_equal(ours.labels, reference)
    np.testing.assert_array_equal(ours.box_sizes, sizes)


def plain_metric_greedy(distances: np.ndarray, sizes, order) -> np.ndarray:
    """Textbook greedy colouring of a metric space, one size at a time (no shared code)."""
    labels = np.empty((len(sizes), len(distances)), dtype=np.int64)
    for s, size in enumerate(sizes):
        boxes: list[list[int]] = []
        for node in order:
            for colour, box in enumerate(boxes):
                if all(distances[node, other] <= size for other in box):
                    box.append(int(node))
                    labels[s, node] = colour
                    break
            else:
                labels[s, node] = len(boxes)
                boxes.append([int(node)])
    return labels


@SETTINGS
@given(n=st.integers(1, 30), dim=st.integers(1, 3), seed=st.integers(0, 1000),
       quantiles=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5),
       dtype=st.sampled_from([np.float64, np.float32]), rounded=st.booleans())
def test_compiled_metric_greedy_equals_plain_reference(n, dim, seed, quantiles, dtype, rounded):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, dim))
    if rounded:  # many tied distances, and sizes equal to some of them
        points = np.round(points)
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1).astype(dtype)
    sizes = np.unique(np.quantile(distances, quantiles).astype(dtype))
    order = rng.permutation(n)
    ours = graphs.metric_box_cover(distances, sizes, order=order)
    np.testing.assert_array_equal(ours.labels, plain_metric_greedy(distances, sizes, order))


def test_box_size_one_gives_one_box_per_node_and_large_size_one_box():
    adjacency = graphs.uv_flower(2, 2, 3)
    n = adjacency.shape[0]
    diameter = int(graphs.hop_distances(adjacency).max())
    for method, sizes in (("greedy", [1, diameter + 1]), ("cbb", [1, diameter + 1]),
                          ("memb", [1, 2 * diameter + 1])):
        counts = graphs.graph_box_counts(adjacency, sizes, method=method, seed=0)
        assert counts[0] == n
        assert counts[1] == 1


def test_greedy_on_ordered_path_is_optimal():
    # In path order, greedy colouring fills boxes of l_B consecutive nodes: ceil(n / l_B).
    n = 101
    sizes = np.array([1, 2, 3, 7, 10, 50])
    counts = graphs.graph_box_counts(graphs.path_graph(n), sizes, order=range(n))
    np.testing.assert_array_equal(counts, np.ceil(n / sizes).astype(int))


def test_counts_are_non_increasing_in_box_size():
    adjacency = graphs.small_world_graph(200, 4, 0.1, seed=1)
    counts = graphs.graph_box_counts(adjacency, np.arange(1, 12), seed=2)
    assert np.all(np.diff(counts) <= 0)


@SETTINGS
@given(n=st.integers(3, 25), dim=st.integers(1, 4), seed=st.integers(0, 1000),
       quantile=st.floats(0.0, 1.0))
def test_metric_box_cover_is_valid_and_matches_threshold_cliques(n, dim, seed, quantile):
    points = np.random.default_rng(seed).normal(size=(n, dim))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    size = float(np.quantile(distances, quantile))
    cover = graphs.metric_box_cover(distances, [size], seed=seed)
    assert_valid_metric_covering(distances, cover.labels[0], size)
    # every box is a clique of the size-threshold graph
    graph = nx.from_scipy_sparse_array(graphs.threshold_graph(distances, size))
    for label in np.unique(cover.labels[0]):
        members = np.flatnonzero(cover.labels[0] == label).tolist()
        sub = graph.subgraph(members)
        assert sub.number_of_edges() == len(members) * (len(members) - 1) // 2


# --- known box dimensions ---------------------------------------------------------------------


def test_22_flower_greedy_box_dimension_is_two():
    # (2,2)-flower: d_B = ln 4 / ln 2 = 2, fitted at l_B = 2^k away from the system size
    adjacency = graphs.uv_flower(2, 2, 6)
    sizes = 2 ** np.arange(1, 5)
    counts = graphs.graph_box_counts(adjacency, sizes, method="greedy", seed=0)
    fit = geometry.fit_box_dimension(sizes, counts)
    assert abs(fit.dimension - graphs.flower_box_dimension(2, 2)) < 0.05


def test_33_flower_memb_box_dimension():
    # (3,3)-flower: d_B = ln 6 / ln 3 = 1.631, MEMB at l_B = 3^k (odd: radius (3^k - 1)/2)
    adjacency = graphs.uv_flower(3, 3, 4)
    sizes = 3 ** np.arange(1, 3)
    counts = graphs.graph_box_counts(adjacency, sizes, method="memb", seed=0)
    fit = geometry.fit_box_dimension(sizes, counts)
    assert abs(fit.dimension - graphs.flower_box_dimension(3, 3)) < 0.05


def test_23_flower_diameters_double_plus_one():
    # D_1 = 2, D_2 = 6 and D_{k+1} = 2 D_k + 1: the box sizes D_k + 1 double from k = 2 on
    diameters = [graphs.flower_diameter(2, 3, k) for k in range(1, 6)]
    assert diameters == [2, 6, 13, 27, 55]
    for gen in range(0, 5):  # the breadth-first search agrees with networkx
        graph = nx.from_scipy_sparse_array(graphs.uv_flower(2, 3, gen))
        assert graphs.flower_diameter(2, 3, gen) == nx.diameter(graph)
    # symmetric flowers: the diameter is the hub distance u^n
    assert [graphs.flower_diameter(2, 2, k) for k in range(1, 5)] == [2, 4, 8, 16]


@pytest.mark.parametrize(("u", "v", "gen", "k"), [(2, 3, 4, 1), (2, 3, 4, 2), (2, 3, 4, 3),
                                                  (2, 2, 4, 2), (3, 3, 3, 1), (2, 3, 3, 3)])
def test_subflower_cover_is_a_valid_covering_with_w_to_the_n_minus_k_boxes(u, v, gen, k):
    adjacency = graphs.uv_flower(u, v, gen)
    labels = graphs.subflower_cover(u, v, gen, k)
    assert labels.shape == (adjacency.shape[0],)
    assert sorted(np.unique(labels).tolist()) == list(range((u + v) ** (gen - k)))
    distances = graphs.hop_distances(adjacency).astype(int)
    diameter = graphs.flower_diameter(u, v, k)
    widest = max(int(distances[np.ix_(labels == b, labels == b)].max())
                 for b in np.unique(labels))
    assert widest == diameter  # every box: a sub-flower with its own diameter D_k
    # so it is a box of size D_k + 1, and the optimal N_B(D_k + 1) <= (u + v)^(n - k)
    assert graphs.subflower_bound(u, v, gen, [diameter + 1]).tolist() == [(u + v) ** (gen - k)]


def test_subflower_bound_has_the_exact_slope_at_commensurate_sizes():
    gen = 6
    sizes = np.array([graphs.flower_diameter(2, 3, k) + 1 for k in range(2, gen)])
    assert sizes.tolist() == [7, 14, 28, 56]  # l_k = D_k + 1 doubles
    bound = graphs.subflower_bound(2, 3, gen, sizes)
    assert bound.tolist() == [5 ** (gen - k) for k in range(2, gen)]
    np.testing.assert_allclose(geometry.local_slopes(sizes, bound),
                               graphs.flower_box_dimension(2, 3), rtol=1e-12)
    # between commensurate sizes the bound holds its value; below D_1 + 1 it is N_n
    assert graphs.subflower_bound(2, 3, 3, [1, 2, 3, 6, 7]).tolist() == [95, 95, 25, 25, 5]


def test_23_flower_heuristics_overcount_the_subflower_bound_at_larger_sizes():
    # Chapter 11's reading: the slow rise of the (2,3)-flower's local slopes is the
    # heuristics' overcount. At l_k = D_k + 1 a covering with slope ln 5 / ln 2 exists
    # (the sub-flowers), and greedy colouring, CBB and MEMB all use more boxes there at the
    # larger sizes (at l_2 = 7 MEMB's balls of radius 3 beat the sub-flowers).
    gen = 5
    sizes = np.array([14, 28])  # D_k + 1, k = 3, 4
    bound = graphs.subflower_bound(2, 3, gen, sizes)
    adjacency = graphs.uv_flower(2, 3, gen)
    for method in ("greedy", "cbb", "memb"):
        boxes = sizes + (sizes % 2 == 0) if method == "memb" else sizes  # MEMB: odd
        counts = graphs.graph_box_counts(adjacency, boxes, method=method, seed=0)
        assert np.all(counts > bound), (method, counts, bound)
    # and at the dyadic sizes 2^k the greedy slopes stay below the theory
    dyadic = 2 ** np.arange(1, 5)
    counts = graphs.graph_box_counts(adjacency, dyadic, method="greedy", seed=0)
    assert np.all(geometry.local_slopes(dyadic, counts) < graphs.flower_box_dimension(2, 3))


def test_subflower_functions_refuse_bad_input():
    with pytest.raises(ValueError, match="k"):
        graphs.subflower_cover(2, 3, 3, 0)
    with pytest.raises(ValueError, match="k"):
        graphs.subflower_cover(2, 3, 3, 4)
    with pytest.raises(TypeError, match="k"):
        graphs.subflower_cover(2, 3, 3, 1.0)
    with pytest.raises(ValueError, match="box_sizes"):
        graphs.subflower_bound(2, 3, 3, [3, 2])
    with pytest.raises(ValueError, match="generation"):
        graphs.flower_diameter(2, 3, 9)  # too large to search from every node


def test_flower_dimension_formula():
    assert graphs.flower_box_dimension(2, 2) == pytest.approx(2.0)
    assert graphs.flower_box_dimension(2, 3) == pytest.approx(np.log(5) / np.log(2))
    with pytest.raises(ValueError, match="u > 1"):
        graphs.flower_box_dimension(1, 2)


def test_path_box_dimension_is_one():
    sizes = 2 ** np.arange(2, 7)
    counts = graphs.graph_box_counts(graphs.path_graph(512), sizes, method="greedy", seed=0)
    assert abs(geometry.fit_box_dimension(sizes, counts).dimension - 1.0) < 0.1


def test_lattice_box_dimension_is_near_two():
    # Small boxes on a lattice hold ~l_B^2 / 2 + l_B nodes, not l_B^2 / 2: the fitted slope
    # approaches 2 from below as the boxes grow (the bias is shown in chapter 11).
    sizes = np.array([4, 6, 8, 12, 16])
    lattice = graphs.lattice_graph(48, periodic=True)
    counts = graphs.graph_box_counts(lattice, sizes, method="cbb", seed=0)
    dimension = geometry.fit_box_dimension(sizes, counts).dimension
    assert 1.6 < dimension < 2.15
    small = geometry.fit_box_dimension(sizes[:3], counts[:3]).dimension
    large = geometry.fit_box_dimension(sizes[2:], counts[2:]).dimension
    assert small < large + 0.1


@pytest.mark.parametrize("method", ["greedy", "memb"])
def test_small_world_has_no_power_law(method):
    adjacency = graphs.small_world_graph(1000, 4, 0.3, seed=0)
    diameter = int(graphs.hop_distances(adjacency).max())
    sizes = np.arange(1, diameter + 2)
    if method == "memb":
        sizes = sizes[sizes % 2 == 1]
    counts = graphs.graph_box_counts(adjacency, sizes, method=method, seed=0)
    keep = counts > 1
    power = geometry.fit_box_dimension(sizes[keep], counts[keep])
    exponential = geometry.fit_exponential_decay(sizes[keep], counts[keep])
    assert exponential.r2 > power.r2


def test_fits_recover_exact_laws():
    sizes = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    assert geometry.fit_box_dimension(sizes, 1e4 * sizes**-1.7).dimension == pytest.approx(1.7)
    fit = geometry.fit_exponential_decay(sizes, 1e4 * np.exp(-sizes / 3.0))
    assert fit.length == pytest.approx(3.0)
    assert fit.r2 == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no box dimension"):
        _ = fit.dimension
    fit = geometry.fit_box_dimension(sizes, 1e4 * sizes**-1.7, fit_min=2, fit_max=8)
    np.testing.assert_array_equal(fit.box_sizes, [2.0, 4.0, 8.0])


def test_connectivity_threshold_is_mst_longest_edge():
    points = np.array([0.0, 1.0, 1.5, 4.0])
    distances = np.abs(points[:, None] - points[None])
    eps = graphs.connectivity_threshold(distances)
    assert eps == pytest.approx(2.5)
    assert nx.is_connected(nx.from_scipy_sparse_array(graphs.threshold_graph(distances, eps)))
    assert not nx.is_connected(
        nx.from_scipy_sparse_array(graphs.threshold_graph(distances, eps - 1e-9)))


# --- bad input --------------------------------------------------------------------------------


def test_bad_inputs_raise_named_errors():
    path = graphs.path_graph(5)
    with pytest.raises(ValueError, match="method"):
        graphs.box_cover(path, [2], method="best")
    with pytest.raises(ValueError, match="box_sizes must hold values >= 1"):
        graphs.box_cover(path, [0])
    with pytest.raises(TypeError, match="box_sizes must hold integers"):
        graphs.box_cover(path, [1.5])
    with pytest.raises(TypeError, match="box_sizes must hold integers"):
        graphs.box_cover(path, [2.0])
    with pytest.raises(ValueError, match="box_sizes"):
        graphs.box_cover(path, [])
    with pytest.raises(ValueError, match="odd"):
        graphs.box_cover(path, [2], method="memb")
    with pytest.raises(ValueError, match="order"):
        graphs.box_cover(path, [2], order=[0, 1, 2])
    with pytest.raises(ValueError, match="order"):
        graphs.box_cover(path, [2], method="cbb", order=range(5))
    with pytest.raises(ValueError, match="symmetric"):
        graphs.as_adjacency(np.array([[0, 1], [0, 0]]))
    with pytest.raises(ValueError, match="self-loops"):
        graphs.as_adjacency(np.eye(3))
    with pytest.raises(ValueError, match="square"):
        graphs.as_adjacency(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="graph"):
        graphs.as_adjacency([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="u <= v"):
        graphs.uv_flower(3, 2, 1)
    with pytest.raises(TypeError, match="generation"):
        graphs.uv_flower(2, 2, 1.0)
    with pytest.raises(ValueError, match="generation=40"):
        graphs.uv_flower(2, 2, 40)  # 4^40 edges: refused up front
    with pytest.raises(ValueError, match="k must be"):
        graphs.small_world_graph(10, 3)
    with pytest.raises(ValueError, match="NaN"):
        graphs.metric_box_cover(np.array([[0.0, np.nan], [np.nan, 0.0]]), [1.0])
    with pytest.raises(ValueError, match="symmetric"):
        graphs.threshold_graph(np.array([[0.0, 1.0], [2.0, 0.0]]), 1.0)
    with pytest.raises(ValueError, match="at least 2 box sizes"):
        geometry.fit_box_dimension([1, 2, 3], [9, 4, 1], fit_min=3)
    with pytest.raises(ValueError, match=">= 1"):
        geometry.fit_box_dimension([1, 2], [1, 0])


@pytest.mark.parametrize("sizes", [[2, 2], [4, 2], [1, 3, 2]])
@pytest.mark.parametrize("cover", [graphs.box_cover, graphs.graph_box_counts])
def test_duplicate_or_unsorted_box_sizes_are_refused(cover, sizes):
    with pytest.raises(ValueError, match="box_sizes must be strictly increasing"):
        cover(graphs.path_graph(6), sizes)
    distances = graphs.hop_distances(graphs.path_graph(6)).astype(float)
    with pytest.raises(ValueError, match="box_sizes must be strictly increasing"):
        graphs.metric_box_cover(distances, sizes)


@pytest.mark.parametrize("value", [np.nan, -1.0, 0.5, 2.0, np.inf])
def test_adjacency_entries_other_than_zero_and_one_are_refused(value):
    dense = graphs.path_graph(4).toarray().astype(float)
    dense[0, 1] = dense[1, 0] = value
    for graph in (dense, graphs.path_graph(4).astype(float).tolil()):
        if not isinstance(graph, np.ndarray):
            graph[0, 1] = graph[1, 0] = value
        for call in (graphs.as_adjacency, lambda g: graphs.box_cover(g, [2]),
                     lambda g: graphs.graph_box_counts(g, [2])):
            with pytest.raises(ValueError, match="graph"):
                call(graph)


def test_boolean_and_integer_adjacency_give_the_same_covering():
    path = graphs.path_graph(7)
    expected = graphs.graph_box_counts(path, [1, 2, 3], order=range(7))
    for graph in (path.toarray().astype(bool), path.toarray().astype(np.uint8),
                  path.astype(np.float32), nx.path_graph(7)):
        np.testing.assert_array_equal(
            graphs.graph_box_counts(graph, [1, 2, 3], order=range(7)), expected)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.uint8, ">f8", ">f4"])
def test_metric_covering_of_odd_dtypes_runs_without_numba_errors(dtype):
    points = np.array([0.0, 1.0, 2.0, 10.0])
    distances = np.abs(points[:, None] - points[None, :])
    def counts(d):
        return graphs.metric_box_cover(d, [0.5, 1.0, 10.0], order=range(4)).n_boxes

    odd = distances.astype(dtype)
    np.testing.assert_array_equal(counts(odd), counts(distances))
    np.testing.assert_array_equal(counts(odd[::-1, ::-1]), counts(distances[::-1, ::-1]))
    with pytest.raises(ValueError, match="distances must hold real numbers"):
        graphs.metric_box_cover(distances.astype(object), [1.0])
    with pytest.raises(ValueError, match="distances must be real"):
        graphs.metric_box_cover(distances.astype(complex), [1.0])
