"""Speed of the box-counting engine, as ratios against baselines timed in the same run.

1. Box counts of one 1024 x 1024 boolean image (the excursion set {z > 0} of a fractional
   Brownian surface, a fractal boundary) at the scales 1, 2, 4, ..., 512 in boundary mode
   by four implementations, after checking that all give identical counts:
     - fractalnb.box_counts (one pyramid pass; on the CPU the compiled kernel of
       fractalnb.geometry._pyramid, factor-2 levels eight cells per 64-bit word),
     - the torch pyramid fractalnb.box_counts used before (still the GPU path),
     - the straightforward per-scale NumPy implementation (reshape every scale from the
       full image),
     - porespy.metrics.boxcount (a Python loop over boxes; its count is "any - all",
       i.e. boundary mode).
2. The fractal analysis of every parameter tensor of a CIFAR ResNet-18 (11 M parameters):
   fractalnb.training.analyze(model), and the engine alone (box_dimension on every tensor,
   conv kernels unfolded, default scales and dyadic scales), against the per-scale NumPy
   implementation on the same tensors, each with the compiled kernel and with the torch
   pyramid.

Run:  .venv/bin/python benchmarks/bench_boxcount.py [--threads 2] [--device cpu|cuda]
(porespy is in the ``bench`` extra: ``pip install -e ".[bench]"``; ``make bench`` does it).
Timings are the best of ``--repeat`` runs (porespy: one run, it takes seconds); the ratios
are of timings taken in this one run, alternating the implementations, so that the load of
a shared machine weighs on all of them alike (the load average is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time

import numpy as np
import torch

from fractalnb import geometry
from fractalnb.geometry import DEFAULT_RULE, box_counts, box_dimension, dilation_scales, unfold_conv
from fractalnb.geometry import boxcount as _boxcount


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


@contextlib.contextmanager
def torch_pyramid():
    """Count with the torch pyramid (the engine before the compiled kernel)."""
    _boxcount._COMPILED = False
    try:
        yield
    finally:
        _boxcount._COMPILED = True


def interleaved(fns: dict, repeat: int) -> dict[str, tuple[float, object]]:
    """Best time of each function over ``repeat`` rounds that run every function once.

    The order is reversed every other round, so that neither side always runs first.
    """
    best = {name: (float("inf"), None) for name in fns}
    for k in range(repeat):
        for name in list(fns)[:: -1 if k % 2 else 1]:
            fn = fns[name]
            t, result = best_of(fn, 1)
            best[name] = (min(best[name][0], t), result)
    return best


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

    def old_engine():
        with torch_pyramid():
            return box_counts(tensor, scales, "boundary")

    box_counts(tensor, scales, "boundary")  # compile (or load the cached kernel) first
    times = interleaved({
        "ours": lambda: box_counts(tensor, scales, "boundary"),
        "torch": old_engine,
        "numpy": lambda: numpy_box_counts(image, scales, "boundary"),
    }, repeat)  # fmt: skip
    (t_ours, ours), (t_torch, by_torch), (t_numpy, by_numpy) = (
        times["ours"], times["torch"], times["numpy"])
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
    assert np.array_equal(ours, by_torch), (ours, by_torch)
    print("  fractalnb == torch pyramid == per-scale NumPy: identical counts")
    if porespy is not None:
        assert np.array_equal(ours, by_porespy), (ours, by_porespy)
        print("  fractalnb == porespy.metrics.boxcount: identical counts")
    print(f"  fractalnb.box_counts      {1e3 * t_ours:10.3f} ms")
    print(f"  torch pyramid (before)    {1e3 * t_torch:10.3f} ms   ratio {t_torch / t_ours:8.1f}x")
    print(f"  per-scale NumPy           {1e3 * t_numpy:10.3f} ms   ratio {t_numpy / t_ours:8.1f}x"
          f"   (torch pyramid: {t_numpy / t_torch:.1f}x)")
    if porespy is not None:
        print(
            f"  porespy.metrics.boxcount  {1e3 * t_porespy:10.2f} ms   "
            f"ratio {t_porespy / t_ours:8.1f}x"
        )
    elif with_porespy:
        print("  porespy not installed: pip install -e '.[bench]'")


def bench_resnet(device: str, repeat: int, with_analyze: bool = True) -> None:
    from fractalnb.training import build_model

    torch.manual_seed(0)
    model = build_model("resnet18").to(device).eval()
    params = [p.detach() for _, p in model.named_parameters()]
    total = sum(p.numel() for p in params)

    def engine(dilation=None):
        fits = []
        for w in params:
            view = unfold_conv(w) if w.ndim == 4 else w
            try:
                fits.append(box_dimension(view, threshold=DEFAULT_RULE,
                                          dilation=dilation).dimension)
            except ValueError:  # e.g. a constant BatchNorm weight: A is full or empty
                fits.append(float("nan"))
        return fits

    def on_torch(fn):
        def run():
            with torch_pyramid():
                return fn()
        return run

    masks = []
    for w in params:
        view = unfold_conv(w) if w.ndim == 4 else w
        try:
            masks.append(torch.as_tensor(geometry.occupancy(view, DEFAULT_RULE)))
        except ValueError:
            pass
    mask_arrays = [m.cpu().numpy() for m in masks]

    def counts_only(scales_of):
        return [box_counts(m, scales_of(m.shape)).tolist() for m in masks]

    engine()  # warm up (compile or load the cached kernels)
    times = interleaved({
        "engine": engine, "engine torch": on_torch(engine),
        "dyadic": lambda: engine(2), "dyadic torch": on_torch(lambda: engine(2)),
        "counts": lambda: counts_only(dilation_scales),
        "counts torch": on_torch(lambda: counts_only(dilation_scales)),
        "counts default": lambda: counts_only(geometry.default_scales),
        "counts default torch": on_torch(lambda: counts_only(geometry.default_scales)),
        "numpy": lambda: [numpy_box_counts(m, dilation_scales(m.shape), "occupied").tolist()
                          for m in mask_arrays],
    }, repeat)  # fmt: skip
    assert times["counts"][1] == times["counts torch"][1] == times["numpy"][1]
    assert times["counts default"][1] == times["counts default torch"][1]
    fits = times["engine"][1]
    print(f"CIFAR ResNet-18: {len(params)} parameter tensors, {total / 1e6:.2f} M parameters, "
          f"{len(masks)} non-trivial sets ({np.isfinite(fits).sum()} dimensions); "
          "identical counts from all engines")  # fmt: skip
    print(f"  {'':44s} {'compiled':>9s}   {'torch pyramid':>13s}   ratio")
    rows = (("counts", "box_counts, dyadic scales (what analyze counts)"),
            ("counts default", "box_counts, default scales"),
            ("dyadic", "box_dimension, dilation=2 (segment+count+fit)"),
            ("engine", "box_dimension, default scales"))
    for key, label in rows:
        fast, slow = times[key][0], times[f"{key} torch"][0]
        print(f"  {label:44s} {fast:8.4f} s   {slow:10.4f} s   {slow / fast:6.2f}x")
    t_numpy = times["numpy"][0]
    print(f"  per-scale NumPy counts (dyadic), same sets  {t_numpy:8.4f} s   "
          f"ratio to compiled {t_numpy / times['counts'][0]:6.1f}x")
    if not with_analyze:
        return
    from fractalnb.training import analyze

    analyze(model)  # warm up
    t_analyze, table = best_of(lambda: analyze(model), 1)
    with torch_pyramid():
        t_old, old = best_of(lambda: analyze(model), 1)
    assert table["dimension"].equals(old["dimension"])
    print(f"  fractalnb.training.analyze(model), one run  {t_analyze:8.3f} s   {t_old:10.3f} s   "
          f"{t_old / t_analyze:6.2f}x  (identical dimensions; its other columns dominate)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="torch device for fractalnb")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    parser.add_argument("--skip-resnet", action="store_true")
    parser.add_argument("--skip-porespy", action="store_true", help="porespy takes a minute")
    parser.add_argument("--skip-analyze", action="store_true",
                        help="analyze(model) takes minutes (its spectral columns)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import numba

    print(f"torch {torch.__version__}, numpy {np.__version__}, numba {numba.__version__}, "
          f"{platform.processor() or 'cpu'}, {args.threads} torch threads, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    bench_image(args.device, args.repeat, with_porespy=not args.skip_porespy)
    if not args.skip_resnet:
        bench_resnet(args.device, args.repeat, with_analyze=not args.skip_analyze)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
