"""Speed of the box-counting engine, as ratios against baselines timed in the same run.

1. Box counts of one 1024 x 1024 boolean image (the excursion set {z > 0} of a fractional
   Brownian surface, a fractal boundary) at the scales 1, 2, 4, ..., 512 in boundary mode
   by three implementations, after checking that all three give identical counts:
     - fractalnb.box_counts (one pyramid pass in torch),
     - the straightforward per-scale NumPy implementation (reshape every scale from the
       full image),
     - porespy.metrics.boxcount (a Python loop over boxes; its count is "any - all",
       i.e. boundary mode).
2. The fractal analysis of every parameter tensor of a CIFAR ResNet-18 (11 M parameters):
   fractalnb.training.analyze(model), and the engine alone (box_dimension on every tensor,
   conv kernels unfolded), against the per-scale NumPy implementation on the same tensors.

Run:  .venv/bin/python benchmarks/bench_boxcount.py [--threads 2] [--device cpu|cuda]
(porespy is in the ``bench`` extra: ``pip install -e ".[bench]"``; ``make bench`` does it).
Timings are the best of ``--repeat`` runs (porespy: one run, it takes seconds).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from fractalnb import geometry
from fractalnb.geometry import DEFAULT_RULE, box_counts, box_dimension, dilation_scales, unfold_conv


def numpy_box_counts(mask: np.ndarray, scales, mode: str = "boundary") -> np.ndarray:
    """The straightforward per-scale implementation: pad and reshape the full grid per scale."""
    counts = []
    for r in scales:
        padded_shape = tuple(-(-n // r) * r for n in mask.shape)
        occupied = np.zeros(padded_shape, dtype=bool)
        occupied[tuple(slice(0, n) for n in mask.shape)] = mask
        full = np.ones(padded_shape, dtype=bool)  # padding is neutral for "all"
        full[tuple(slice(0, n) for n in mask.shape)] = mask
        split = []
        for n in padded_shape:
            split += [n // r, r]
        axes = tuple(range(1, 2 * mask.ndim, 2))
        anyv = occupied.reshape(split).any(axis=axes)
        if mode == "occupied":
            counts.append(int(anyv.sum()))
        else:
            allv = full.reshape(split).all(axis=axes)
            counts.append(int((anyv & ~allv).sum()))
    return np.asarray(counts, dtype=np.int64)


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_image(device: str, repeat: int, with_porespy: bool = True) -> None:
    surface = geometry.fractional_brownian_surface(1024, 0.5, seed=0).values
    image = surface > 0
    scales = 2 ** np.arange(10)  # 1, 2, ..., 512
    tensor = torch.from_numpy(image).to(device)

    t_ours, ours = best_of(lambda: box_counts(tensor, scales, "boundary"), repeat)
    t_numpy, by_numpy = best_of(lambda: numpy_box_counts(image, scales, "boundary"), repeat)
    try:
        import porespy
        from porespy.metrics import boxcount
    except ImportError:
        porespy = None
    if not with_porespy:
        porespy = None
    if porespy is not None:
        porespy.settings.tqdm["disable"] = True
        start = time.perf_counter()
        result = boxcount(image, bins=scales)
        t_porespy = time.perf_counter() - start
        by_porespy = np.asarray(result.count, dtype=np.int64)
    print(f"1024 x 1024 boolean image, scales {scales.tolist()}, boundary mode, device {device}")
    print(f"  counts: {ours.tolist()}")
    assert np.array_equal(ours, by_numpy), (ours, by_numpy)
    print("  fractalnb == per-scale NumPy: identical counts")
    if porespy is not None:
        assert np.array_equal(ours, by_porespy), (ours, by_porespy)
        print("  fractalnb == porespy.metrics.boxcount: identical counts")
    print(f"  fractalnb.box_counts      {1e3 * t_ours:10.2f} ms")
    print(f"  per-scale NumPy           {1e3 * t_numpy:10.2f} ms   ratio {t_numpy / t_ours:8.1f}x")
    if porespy is not None:
        print(
            f"  porespy.metrics.boxcount  {1e3 * t_porespy:10.2f} ms   "
            f"ratio {t_porespy / t_ours:8.1f}x"
        )
    elif with_porespy:
        print("  porespy not installed: pip install -e '.[bench]'")


def bench_resnet(device: str, repeat: int) -> None:
    from fractalnb.training import build_model

    torch.manual_seed(0)
    model = build_model("resnet18").to(device).eval()
    params = [p.detach() for _, p in model.named_parameters()]
    total = sum(p.numel() for p in params)

    def engine():
        fits = []
        for w in params:
            view = unfold_conv(w) if w.ndim == 4 else w
            try:
                fits.append(box_dimension(view, threshold=DEFAULT_RULE).dimension)
            except ValueError:  # e.g. a constant BatchNorm weight: A is full or empty
                fits.append(float("nan"))
        return fits

    def per_scale_numpy():
        counts = []
        for w in params:
            view = (unfold_conv(w) if w.ndim == 4 else w).cpu().numpy()
            magnitude = np.abs(view)
            mask = magnitude > magnitude.mean() + magnitude.std()
            if mask.any() and not mask.all():
                counts.append(numpy_box_counts(mask, dilation_scales(mask.shape), "occupied"))
        return counts

    t_engine, fits = best_of(engine, repeat)
    t_numpy, _ = best_of(per_scale_numpy, repeat)
    print(f"CIFAR ResNet-18: {len(params)} parameter tensors, {total / 1e6:.2f} M parameters")
    print(f"  engine (box_dimension on every tensor)  {t_engine:8.3f} s "
          f"({np.isfinite(fits).sum()} dimensions)")  # fmt: skip
    print(f"  per-scale NumPy counts, same tensors    {t_numpy:8.3f} s   "
          f"ratio {t_numpy / t_engine:6.1f}x (counts only, no fit)")  # fmt: skip
    try:
        from fractalnb.training import analyze
    except ImportError:
        print("  fractalnb.training.analyze not available")
        return
    t_analyze, table = best_of(lambda: analyze(model), repeat)
    fitted = int(table["dimension"].notna().sum())
    print(f"  fractalnb.training.analyze(model)       {t_analyze:8.3f} s "
          f"({fitted} of {len(table)} tensors with a D)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="torch device for fractalnb")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    parser.add_argument("--skip-resnet", action="store_true")
    parser.add_argument("--skip-porespy", action="store_true", help="porespy takes a minute")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, numpy {np.__version__}, {platform.processor() or 'cpu'}, "
          f"{args.threads} torch threads")  # fmt: skip
    bench_image(args.device, args.repeat, with_porespy=not args.skip_porespy)
    if not args.skip_resnet:
        bench_resnet(args.device, args.repeat)


if __name__ == "__main__":
    main()
