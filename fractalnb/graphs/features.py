"""Feature networks: the channels of a layer as points, their distances, and the graph they span."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .. import _validate
from .generators import _distance_matrix, threshold_graph

__all__ = [
    "LAYOUTS",
    "channel_features",
    "pair_distances",
    "distance_matrix",
    "feature_graph",
    "classical_mds",
    "default_layers",
    "LayerRecorder",
    "layer_features",
]


LAYOUTS = ("auto", "bchw", "bhwc", "bnc", "bd")
"""Activation layouts understood by :func:`channel_features`."""


ArrayLike = np.ndarray | torch.Tensor


def channel_features(activations: ArrayLike, layout: str = "auto") -> ArrayLike:
    """Average a layer's output over its spatial or token axes: the ``D x B`` feature matrix.

    Parameters
    ----------
    activations
        Layer output for a batch of ``B`` inputs (NumPy array or torch tensor), real and
        finite, of rank 2 to 4.
    layout
        ``"bchw"`` (CNN feature maps), ``"bhwc"`` (channels-last maps), ``"bnc"`` (tokens:
        ViT, MLP-Mixer, ResMLP; the class token, if any, is averaged with the others as in the
        authors' code), ``"bd"`` (already one vector per input). ``"auto"``: 4-D is
        ``"bchw"``, 3-D is ``"bnc"``, 2-D is ``"bd"``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``(D, B)``: row ``i`` is channel ``i``'s response to the ``B`` inputs. Torch inputs
        stay torch (and differentiable) on their device.

    Examples
    --------
    >>> channel_features(np.ones((8, 16, 4, 4))).shape
    (16, 8)
    >>> channel_features(torch.ones(8, 65, 32)).shape
    torch.Size([32, 8])
    """
    layout = _validate.choice(layout, "layout", LAYOUTS)
    _validate.as_tensor(activations, "activations", allow_bool=False)  # only checks
    if not isinstance(activations, torch.Tensor):
        activations = np.asarray(activations)
    ndim = activations.ndim
    if layout == "auto":
        layout = {4: "bchw", 3: "bnc", 2: "bd"}.get(ndim)
        if layout is None:
            raise ValueError(
                f"activations must be 2-D (B, D), 3-D (B, tokens, D) or 4-D (B, C, H, W), "
                f"got shape {tuple(activations.shape)}"
            )
    expected = {"bchw": 4, "bhwc": 4, "bnc": 3, "bd": 2}[layout]
    if ndim != expected:
        raise ValueError(
            f"layout {layout!r} needs {expected}-D activations, "
            f"got shape {tuple(activations.shape)}"
        )
    axes = {"bchw": (2, 3), "bhwc": (1, 2), "bnc": (1,), "bd": ()}[layout]
    if isinstance(activations, torch.Tensor):
        if axes and not activations.is_floating_point():
            activations = activations.double()  # torch averages floating tensors only
        reduced = activations.mean(dim=axes) if axes else activations
        return reduced.transpose(0, 1)
    reduced = activations.mean(axis=axes) if axes else activations
    return reduced.T


def _features(features: object, name: str = "features") -> tuple[torch.Tensor, bool]:
    """Check a ``(D, B)`` feature matrix; return it as a floating tensor, and whether NumPy.

    NumPy (and sequence) input becomes float64; a torch tensor is kept as it is (its
    autograd graph too), only integer tensors are made float64.
    """
    checked, was_numpy = _validate.as_tensor(features, name, allow_bool=False, max_rank=2)
    if checked.ndim != 2:
        raise ValueError(
            f"{name} must be a (D, B) matrix, one row per channel, got shape "
            f"{tuple(checked.shape)}; use channel_features() on a layer's output first"
        )
    n_channels, n_samples = checked.shape
    if n_channels < 3:
        raise ValueError(
            f"a feature network needs at least 3 channels (D >= 3), got {name} with "
            f"D = {n_channels}"
        )
    if n_samples < 2:
        raise ValueError(
            f"channel distances need at least 2 samples (B >= 2), got {name} with "
            f"B = {n_samples}"
        )
    pairs = n_channels * (n_channels - 1) // 2
    _validate.budget(pairs * n_samples, name, _validate.MAX_ELEMENTS,
                     "pair differences (D (D - 1) / 2 x B)")
    if was_numpy:
        return checked.to(torch.float64), True
    tensor = features if features.is_floating_point() else features.double()
    return tensor, False


def pair_distances(features: ArrayLike) -> ArrayLike:
    r"""Return the distances :math:`C_{ij} = \lVert F_i - F_j \rVert / \sqrt{B}`, pairs ``i < j``.

    Parameters
    ----------
    features
        ``(D, B)`` matrix, ``D >= 3`` channels, ``B >= 2`` samples, finite.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Condensed vector of the ``D (D - 1) / 2`` distances (row-major upper triangle).
        Differentiable for torch inputs.

    Raises
    ------
    TypeError
        If ``features`` is not an array or tensor.
    ValueError
        For ``D < 3``, ``B < 2``, non-finite, complex or boolean features, or more than
        2^30 (about 1e9) pair differences.

    Examples
    --------
    >>> pair_distances(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]))
    array([1., 3., 2.])
    """
    tensor, was_numpy = _features(features)
    n_channels, n_samples = tensor.shape
    rows, cols = torch.triu_indices(n_channels, n_channels, offset=1, device=tensor.device)
    diff = tensor[rows] - tensor[cols]
    # sqrt of a sum of squares (not torch.norm) so that equal channels give a finite gradient
    squared = (diff * diff).sum(dim=1)
    distances = torch.sqrt(squared.clamp_min(torch.finfo(tensor.dtype).tiny)) * (squared > 0)
    distances = distances / float(np.sqrt(n_samples))
    return distances.detach().cpu().numpy() if was_numpy else distances


def distance_matrix(features: ArrayLike) -> np.ndarray:
    """Return the symmetric ``(D, D)`` matrix of channel distances :math:`C_{ij}` (NumPy).

    Examples
    --------
    >>> distance_matrix(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]))[0]
    array([0., 1., 3.])
    """
    tensor, _ = _features(features)
    condensed = pair_distances(tensor.detach()).cpu().numpy().astype(np.float64)
    n_channels = tensor.shape[0]
    matrix = np.zeros((n_channels, n_channels))
    rows, cols = np.triu_indices(n_channels, k=1)
    matrix[rows, cols] = condensed
    matrix[cols, rows] = condensed
    return matrix


def _distance_range(distances: torch.Tensor, name: str) -> tuple[float, float]:
    """TZ and TV, the least and the largest distance; refuse a range that is empty."""
    tz = float(distances.min())
    tv = float(distances.max())
    if tv == 0.0:
        raise ValueError(
            f"{name}: all channel pair distances are zero: every channel gives the same "
            "response (a constant layer: constant features), so the feature network has no "
            "scale"
        )
    if tv <= tz:
        raise ValueError(
            f"{name}: all channel pair distances are equal ({tv:g}): TZ = TV, the threshold "
            "range is empty (features of equidistant channels)"
        )
    return tz, tv


def feature_graph(features: ArrayLike, theta: float):
    r"""Return the feature network :math:`G_M(\theta)`: channels with :math:`C_{ij} \le \theta`.

    Parameters
    ----------
    features
        ``(D, B)`` feature matrix (see :func:`pair_distances`).
    theta
        The threshold, a real number ``>= 0``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Adjacency matrix of the ``D`` channels.

    Examples
    --------
    >>> feature_graph(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]), 1.5).toarray()
    array([[0, 1, 0],
           [1, 0, 0],
           [0, 0, 0]], dtype=int8)
    """
    _validate.real(theta, "theta", minimum=0)
    return threshold_graph(distance_matrix(features), theta)


def classical_mds(distances: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Classical (Torgerson) multidimensional scaling of a distance matrix.

    Parameters
    ----------
    distances
        Symmetric ``(n, n)`` distances, finite and non-negative.
    n_components
        Embedding dimension, an integer in ``[1, n]``.

    Returns
    -------
    numpy.ndarray
        ``(n, n_components)`` coordinates whose Euclidean distances best match ``distances``
        (exactly, for Euclidean input of that dimension), from the top eigenvectors of the
        double-centred squared distance matrix.

    Examples
    --------
    >>> pts = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    >>> d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    >>> emb = classical_mds(d)
    >>> bool(np.allclose(np.linalg.norm(emb[:, None] - emb[None], axis=-1), d))
    True
    """
    distances = _distance_matrix(distances)
    n = len(distances)
    n_components = _validate.integer(n_components, "n_components", minimum=1, maximum=n)
    centred = np.eye(n) - 1.0 / n
    gram = -0.5 * centred @ (distances.astype(np.float64) ** 2) @ centred
    values, vectors = np.linalg.eigh(gram)
    top = np.argsort(values)[::-1][:n_components]
    return vectors[:, top] * np.sqrt(np.clip(values[top], 0.0, None))


def default_layers(model: nn.Module) -> list[str]:
    """Names of the layers whose outputs the paper analyses, for common architectures.

    ``blocks.i`` for timm transformers / MLP-Mixers / ResMLPs (every block, as in the
    authors' code); ``layerK.j`` for torchvision-style ResNets (every residual block);
    every ReLU of ``features`` for VGG-style networks.

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`torch.nn.Module`.
    ValueError
        If the architecture is not recognised (pass layer names explicitly then).

    Examples
    --------
    >>> default_layers(nn.Sequential())
    Traceback (most recent call last):
    ...
    ValueError: cannot guess the layers of the model (a Sequential): pass layer names explicitly
    """
    names = dict(_validate.module(model).named_modules())
    blocks = getattr(model, "blocks", None)
    if isinstance(blocks, (nn.Sequential, nn.ModuleList)) and len(blocks):
        return [f"blocks.{i}" for i in range(len(blocks))]
    stages = [f"layer{k}" for k in range(1, 5) if f"layer{k}" in names]
    if stages:
        return [f"{stage}.{i}" for stage in stages for i in range(len(names[stage]))]
    features = getattr(model, "features", None)
    if isinstance(features, nn.Sequential):
        relus = [f"features.{i}" for i, m in enumerate(features) if isinstance(m, nn.ReLU)]
        if relus:
            return relus
    raise ValueError(
        f"cannot guess the layers of the model (a {type(model).__name__}): pass layer names "
        "explicitly"
    )


def _batch(inputs: object, name: str = "inputs") -> torch.Tensor:
    """Check a batch of inputs for a model: a finite, non-empty torch tensor (not boolean)."""
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_validate.describe(inputs)}")
    _validate.as_tensor(inputs, name, allow_bool=False)  # only checks
    return inputs


def _layer_names(layers: object, name: str = "layers") -> list[str]:
    """Check a non-empty sequence of layer names (strings) and return it as a list."""
    if isinstance(layers, str) or not isinstance(layers, Iterable):
        raise TypeError(
            f"{name} must be a sequence of layer names, got {_validate.describe(layers)}"
        )
    names = list(layers)
    if not names:
        raise ValueError(f"{name} is empty: name at least one layer to record")
    wrong = [n for n in names if not isinstance(n, str)]
    if wrong:
        raise TypeError(
            f"{name} must hold layer names (strings), got {_validate.describe(wrong[0])}"
        )
    return names


class LayerRecorder:
    """Forward hooks that keep the latest output of named layers.

    Parameters
    ----------
    model
        The network.
    layers
        Names from ``model.named_modules()``: a non-empty sequence of strings.
    detach
        Store detached outputs (analysis) or keep them in the autograd graph (constraint).

    Raises
    ------
    TypeError
        If ``model`` is not a module, ``layers`` not a sequence of strings or ``detach`` not
        a boolean.
    ValueError
        If ``layers`` is empty or names layers the model does not have.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    >>> with LayerRecorder(net, ["0"]) as recorder:
    ...     _ = net(torch.zeros(2, 4))
    >>> recorder.outputs["0"].shape
    torch.Size([2, 8])
    """

    def __init__(self, model: nn.Module, layers: Iterable[str], *, detach: bool = True) -> None:
        self.layers = _layer_names(layers)
        modules = dict(_validate.module(model).named_modules())
        missing = [name for name in self.layers if name not in modules]
        if missing:
            raise ValueError(f"model has no layers named {missing}")
        self.detach = _validate.boolean(detach, "detach")
        self.outputs: dict[str, torch.Tensor] = {}
        self._handles = [modules[name].register_forward_hook(self._hook(name))
                         for name in self.layers]

    def _hook(self, name: str):
        def hook(_module, _inputs, output):
            tensor = output[0] if isinstance(output, (tuple, list)) else output
            self.outputs[name] = tensor.detach() if self.detach else tensor
        return hook

    def remove(self) -> None:
        """Remove the hooks (recorded outputs are kept)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> LayerRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def layer_features(
    model: nn.Module,
    inputs: torch.Tensor,
    layers: Sequence[str] | None = None,
    *,
    layout: str = "auto",
) -> dict[str, np.ndarray]:
    """Run one batch through the model (eval mode, no gradient) and return each layer's ``(D, B)``.

    Parameters
    ----------
    model
        The network; its training mode is restored afterwards.
    inputs
        A batch of ``B`` inputs, a finite torch tensor.
    layers
        Layer names (strings); :func:`default_layers` by default.
    layout
        Passed to :func:`channel_features`.

    Returns
    -------
    dict of str to numpy.ndarray
        Feature matrices, in layer order.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    >>> layer_features(net, torch.randn(5, 4), ["0"])["0"].shape
    (8, 5)
    """
    _validate.module(model)
    _batch(inputs)
    layout = _validate.choice(layout, "layout", LAYOUTS)
    layers = default_layers(model) if layers is None else _layer_names(layers)
    was_training = model.training
    model.eval()
    try:
        with LayerRecorder(model, layers) as recorder, torch.no_grad():
            model(inputs)
    finally:
        model.train(was_training)
    return {name: channel_features(recorder.outputs[name], layout).double().cpu().numpy()
            for name in layers}
