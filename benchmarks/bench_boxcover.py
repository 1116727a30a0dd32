"""Benchmark: compiled greedy-colouring box covering vs a plain networkx implementation.

Both run the same algorithm (greedy colouring of Song et al. 2007) with the same node order
on a (2, 2)-flower of generation 7 (10,924 nodes, 16,384 edges) at box sizes
``l_B = 2, 4, 8, 16, 32``; the box counts (indeed every label) must be identical.

``fractalnb`` runs numba-compiled kernels. To keep the comparison conservative, the script
points numba at an empty cache directory, so that its *first* call includes compiling the
kernels, as on a fresh install; it then times the same call again (compiled code only,
best of ``--repeat``). Both ratios against the networkx reference, measured in the same
run, are printed.

Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_boxcover.py [--generation 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generation", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-boxcover-numba-") as cache_dir:
        os.environ["NUMBA_CACHE_DIR"] = cache_dir  # read when numba is first imported
        run(args)


def run(args: argparse.Namespace) -> None:
    import numpy as np

    from fractalnb import graphs

    graph = graphs.uv_flower(2, 2, args.generation)
    n = graph.shape[0]
    order = np.random.default_rng(args.seed).permutation(n)
    print(f"(2,2)-flower, generation {args.generation}: {n} nodes, {graph.nnz // 2} edges; "
          f"box sizes {args.sizes}; {platform.processor() or platform.machine()}")

    start = time.perf_counter()
    fast = graphs.box_cover(graph, args.sizes, order=order)
    first_s = time.perf_counter() - start
    print(f"fractalnb box_cover, first call (compiles): {first_s:8.2f} s  "
          f"N_B = {fast.n_boxes.tolist()}")
    repeats = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        again = graphs.box_cover(graph, args.sizes, order=order)
        repeats.append(time.perf_counter() - start)
        if not np.array_equal(again.labels, fast.labels):
            raise SystemExit("box_cover is not deterministic for a fixed order")
    compiled_s = min(repeats)
    print(f"fractalnb box_cover, compiled (best of {args.repeat}): {compiled_s:8.2f} s")

    start = time.perf_counter()
    reference = graphs.greedy_box_cover_networkx(graph, args.sizes, order=order)
    reference_s = time.perf_counter() - start
    ref_counts = [len(np.unique(row)) for row in reference]
    print(f"networkx reference                        : {reference_s:8.2f} s  "
          f"N_B = {ref_counts}")

    identical = bool(np.array_equal(fast.labels, reference))
    print(f"identical labels: {identical}")
    print(f"speed-up, first call incl. compilation: {reference_s / first_s:.1f}x")
    print(f"speed-up, compiled                    : {reference_s / compiled_s:.1f}x")
    if not identical:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
