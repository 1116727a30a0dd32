"""Throughput of ``fractalnb.training.train_model`` against a bare PyTorch loop, in one run.

Both sides train the same CIFAR-shaped model (a copy of one seeded initialisation) on the
same pre-made batches (CIFAR-10 sample images, or random ones with ``--data random``), with
the same optimiser (SGD with momentum and weight decay) and per-step cosine schedule, for the
same number of steps, with the same torch thread count and seed. The bare loop is the five
lines every tutorial has (forward, cross-entropy, zero_grad, backward, step) plus the
scheduler step. ``train_model`` adds what it always does: its argument checks, a batch check,
the finiteness check of every loss, the running loss and accuracy (``.item()`` per step), and
an evaluation at initialisation and after the epoch, here on a test loader of one batch.

The script first checks that both sides end with bitwise identical weights (the same work was
done), then times each ``--repeat`` times, interleaved (bare, train_model, train_model, bare,
...), and prints the best wall time of each and their ratio (the target is ratio <= 1.10), and
the same for the process CPU time (all threads), which other jobs on a shared machine disturb
less than the wall time.

Run:  .venv/bin/python benchmarks/bench_train.py [--threads 2] [--steps 30] [--device cpu]
      (--profile: also print where train_model's own time goes, by cProfile)
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import math
import os
import platform
import pstats
import time

import torch
from torch import nn

from fractalnb.training import build_model, cifar10_datasets, train_model


def cosine(total: int):
    """The schedule of ``train_model`` without warm-up: a cosine from 1 to 0 over ``total``."""
    return lambda step: 0.5 * (1.0 + math.cos(math.pi * min(1.0, step / max(1, total))))


def make_batches(data: str, steps: int, batch_size: int, device: torch.device, seed: int):
    """``steps`` training batches and one test batch, on ``device``."""
    n = (steps + 1) * batch_size
    if data == "sample":
        try:
            train, _ = cifar10_datasets("sample")
        except FileNotFoundError as error:
            print(f"no CIFAR-10 sample ({str(error).splitlines()[0]}): random images instead")
            return make_batches("random", steps, batch_size, device, seed)
        if len(train) < n:
            raise SystemExit(f"the sample holds {len(train)} images, {n} are needed: lower "
                             "--steps or --batch-size, or use --data random")
        images = torch.stack([train[i][0] for i in range(n)])
        labels = torch.tensor([int(train[i][1]) for i in range(n)])
    else:
        gen = torch.Generator().manual_seed(seed)
        images = torch.randn(n, 3, 32, 32, generator=gen)
        labels = torch.randint(0, 10, (n,), generator=gen)
    images, labels = images.to(device), labels.to(device)
    batches = [(images[i * batch_size:(i + 1) * batch_size],
                labels[i * batch_size:(i + 1) * batch_size]) for i in range(n // batch_size)]
    return batches[:steps], batches[steps:]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(model: nn.Module, batches, args, device: torch.device) -> nn.Module:
    torch.manual_seed(args.seed)
    model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine(len(batches)))
    for images, labels in batches:
        loss = nn.functional.cross_entropy(model(images), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    sync(device)
    return model


def with_train_model(model: nn.Module, batches, test, args, device: torch.device) -> nn.Module:
    train_model(model, epochs=1, batch_size=args.batch_size, lr=args.lr, momentum=0.9,
                weight_decay=5e-4, seed=args.seed, device=device, loaders=(batches, test),
                progress=args.progress)
    sync(device)
    return model


def timed(fn, *args) -> tuple[float, float]:
    """Wall time and process CPU time (all threads) of ``fn(*args)``, in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="custom_cnn",
                        choices=["custom_cnn", "resnet18", "vgg16"])
    parser.add_argument("--width", type=int, default=16, help="first-stage width (quick: 16)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", default="sample", choices=["sample", "random"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="train_model's progress bar on")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile one train_model run and print its top functions")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    init = build_model(args.model, width=args.width)
    batches, test = make_batches(args.data, args.steps, args.batch_size, device, args.seed)
    load_before = os.getloadavg()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    print(f"{args.model} width {args.width} ({sum(p.numel() for p in init.parameters()):,} "
          f"parameters), {args.steps} steps of {args.batch_size} {args.data} images, "
          f"SGD + cosine; test loader: 1 batch of {len(test[0][1])}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")

    # the same work: both end with bitwise identical weights (this also warms up both)
    a = bare_loop(copy.deepcopy(init), batches, args, device)
    b = with_train_model(copy.deepcopy(init), batches, test, args, device)
    same = all(torch.equal(p.cpu(), q.cpu()) for p, q in
               zip(a.state_dict().values(), b.state_dict().values()))
    print(f"identical final weights: {same}")
    if not same:
        raise SystemExit("the two loops did not do the same work")

    times: dict[str, list[tuple[float, float]]] = {"bare": [], "train_model": []}
    for r in range(args.repeat):
        order = ["bare", "train_model"] if r % 2 == 0 else ["train_model", "bare"]
        for side in order:
            model = copy.deepcopy(init)
            if side == "bare":
                times[side].append(timed(bare_loop, model, batches, args, device))
            else:
                times[side].append(timed(with_train_model, model, batches, test, args, device))
    load_after = os.getloadavg()
    best = {side: min(w for w, _ in t) for side, t in times.items()}
    best_cpu = {side: min(c for _, c in t) for side, t in times.items()}
    for side, t in times.items():
        print(f"{side:>12}: best {best[side]:.3f} s wall ({1e3 * best[side] / args.steps:.1f} "
              f"ms/step, {args.steps * args.batch_size / best[side]:,.0f} images/s), "
              f"{best_cpu[side]:.3f} s CPU; all (wall/CPU) "
              f"{', '.join(f'{w:.3f}/{c:.3f}' for w, c in t)}")
    ratio = best["train_model"] / best["bare"]
    print(f"ratio train_model / bare loop, wall: {ratio:.3f} (target <= 1.10: "
          f"{'met' if ratio <= 1.10 else 'NOT met'}); CPU time: "
          f"{best_cpu['train_model'] / best_cpu['bare']:.3f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}")

    if args.profile:
        profiler = cProfile.Profile()
        model = copy.deepcopy(init)
        profiler.enable()
        with_train_model(model, batches, test, args, device)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())


if __name__ == "__main__":
    main()
