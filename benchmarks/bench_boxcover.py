"""Benchmark: vectorised greedy-colouring box covering vs a plain networkx implementation.

Both run the same algorithm (greedy colouring of Song et al. 2007) with the same node order
on a (2, 2)-flower of generation 7 (10,924 nodes, 16,384 edges) at box sizes
``l_B = 2, 4, 8, 16, 32``; the box counts (indeed every label) must be identical. The
script prints the wall times and their ratio, measured in the same run.

Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_boxcover.py [--generation 7]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from fractalnb import graph_boxcover as gb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generation", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    graph = gb.uv_flower(2, 2, args.generation)
    n = graph.shape[0]
    order = np.random.default_rng(args.seed).permutation(n)
    print(f"(2,2)-flower, generation {args.generation}: {n} nodes, {graph.nnz // 2} edges; "
          f"box sizes {args.sizes}; {platform.processor() or platform.machine()}")

    start = time.perf_counter()
    fast = gb.box_cover(graph, args.sizes, order=order)
    fast_s = time.perf_counter() - start
    print(f"fractalnb.graph_boxcover.box_cover : {fast_s:8.2f} s  N_B = {fast.n_boxes.tolist()}")

    start = time.perf_counter()
    reference = gb.greedy_box_cover_networkx(graph, args.sizes, order=order)
    reference_s = time.perf_counter() - start
    ref_counts = [len(np.unique(row)) for row in reference]
    print(f"networkx reference                 : {reference_s:8.2f} s  N_B = {ref_counts}")

    identical = bool(np.array_equal(fast.labels, reference))
    print(f"identical labels: {identical}")
    print(f"speed-up (reference / vectorised): {reference_s / fast_s:.1f}x")
    if not identical:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
