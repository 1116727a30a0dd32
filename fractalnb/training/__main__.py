r"""Command line: ``python -m fractalnb.training train --model NAME --seed S [options]``.

Trains one of the book's models by a profile's recipe with
:func:`fractalnb.training.train_distributed`: alone, in this process (exactly as
:func:`fractalnb.training.trained_model` would), or as one rank of a data-parallel run
under ``torchrun --nproc_per_node=N`` (DistributedDataParallel; ``--batch-size`` is then
the **global** batch, ``N`` times each rank's). Rank 0 writes the run into ``--out``.

Examples
--------
Run from a shell::

    python -m fractalnb.training train --model custom_cnn --seed 0 --epochs 1 \
        --steps-per-epoch 5 --out runs/try
    torchrun --nproc_per_node=4 -m fractalnb.training train --model resnet18 --seed 0 \
        --profile full --out runs/resnet18-full-seed0

>>> main(["train", "--model", "custom_cnn", "--epochs", "1"])   # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

_MODELS = ("resnet18", "vgg16", "custom_cnn")
"""The models of the book (:func:`fractalnb.training.build_model`)."""

_RECIPE_OPTIONS = {
    # option: (TrainConfig field, type, help)
    "--epochs": ("epochs", int, "passes over the training set"),
    "--batch-size": ("batch_size", int, "GLOBAL batch size: per-rank batch x world size "
                                        "(must be a multiple of the number of processes)"),
    "--lr": ("lr", float, "peak learning rate"),
    "--momentum": ("momentum", float, "SGD momentum"),
    "--weight-decay": ("weight_decay", float, "weight decay"),
    "--optimizer": ("optimizer", str, "sgd or adamw"),
    "--warmup-epochs": ("warmup_epochs", float, "linear warm-up, in epochs"),
    "--steps-per-epoch": ("steps_per_epoch", int, "stop each epoch after this many steps"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fractalnb.training",
        description="Train the book's CIFAR-10 models, alone or under torchrun.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train one model by its profile's recipe",
        description="Train one model by its profile's recipe (fractalnb.training."
                    "recipe_table), overridden by the options below. Alone it trains in "
                    "this process; under torchrun --nproc_per_node=N it is one of N "
                    "data-parallel ranks (gloo on CPU, nccl on CUDA). Rank 0 writes "
                    "epoch_*.pt, history.csv and config.json into --out.")
    train.add_argument("--model", required=True, choices=_MODELS)
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train.add_argument("--profile", choices=("quick", "full"), default=None,
                       help="recipe profile (default: FRACTALNB_PROFILE, else quick)")
    train.add_argument("--variant", choices=("sample", "full"), default=None,
                       help="CIFAR-10 variant (default: FRACTALNB_CIFAR10, else sample)")
    train.add_argument("--width", type=int, default=None,
                       help="first-stage width (default: the recipe's)")
    for option, (field, kind, text) in _RECIPE_OPTIONS.items():
        train.add_argument(option, dest=field, type=kind, default=None,
                           help=f"{text} (default: the recipe's)")
    train.add_argument("--out", default=None,
                       help="run folder, must not exist or be empty (default: "
                            "<cache>/runs/<model>-w<width>-<profile>-<variant>-seed<seed>-x<N>)")
    train.add_argument("--device", default=None,
                       help="device (default: cuda:LOCAL_RANK if available, else cpu)")
    train.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                       help="process-group backend under torchrun (default: by device)")
    train.add_argument("--sync-bn", action=argparse.BooleanOptionalAction, default=None,
                       help="SyncBatchNorm across ranks (default: on with CUDA and N > 1)")
    train.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0: trained; 2: a bad argument).

    Parameters
    ----------
    argv
        The arguments (``sys.argv[1:]`` by default).

    Returns
    -------
    int
        0 on success, 2 for a setting the package refuses (the message names it).
    """
    args = _parser().parse_args(argv)
    from .distributed import _launch_numbers, train_distributed

    overrides = {field: getattr(args, field) for field, _, _ in _RECIPE_OPTIONS.values()
                 if getattr(args, field) is not None}
    try:
        history = train_distributed(
            args.model, seed=args.seed, profile=args.profile, variant=args.variant,
            width=args.width, out=args.out, device=args.device, backend=args.backend,
            sync_bn=args.sync_bn, progress=args.progress, **overrides)
    except (TypeError, ValueError, FileExistsError) as error:
        print(f"python -m fractalnb.training train: error: {error}", file=sys.stderr)
        return 2
    world, rank = _launch_numbers()
    if rank == 0:
        last = history.iloc[-1]
        print(f"{args.model}: {int(last['epoch'])} epochs on {world} process(es), "
              f"test accuracy {last['test_acc']:.4f}, test loss {last['test_loss']:.4f}, "
              f"{last['wall_s']:.1f} s; written to {history.attrs['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
