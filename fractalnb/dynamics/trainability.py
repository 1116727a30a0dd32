r"""Trainability maps: one small network trained by gradient descent at every grid point.

The setup of :cite:t:`sohldickstein2024boundary` (read from the author's public code,
github.com/Sohl-Dickstein/fractal): a network with one hidden layer of width :math:`n`,
mean-field parameterisation, no biases,

.. math::

    \hat y(x) = \frac{1}{n}\, W_1^\top \phi\!\left(\frac{W_0^\top x}{\sqrt n}\right),
    \qquad \phi(z) = \tanh(\sqrt2\,z),\ \sqrt2\,\mathrm{relu}(z)
    \ \text{or}\ z,

with :math:`W_0 \in \mathbb{R}^{n\times n}`, :math:`W_1 \in \mathbb{R}^{n}`, inputs,
targets and initial weights all :math:`N(0, 1)`, the mean squared error on a fixed data
set (as many points as parameters, :math:`n^2 + n`; :math:`n` points for the identity),
and full-batch gradient descent with a learning rate per layer,
:math:`W_\ell \leftarrow W_\ell - \eta_\ell \nabla_{W_\ell} L`. Every grid point
:math:`(\eta_0, \eta_1)` is a separate network with the same initialisation and data.

:func:`train_grid` trains all of them at once, as batched tensors (the data are shared, so
each layer's product is one matrix product over the whole grid), with hand-written
gradients (checked against :mod:`torch.autograd` in the tests). :func:`classify` turns
loss curves into converged / diverged and a signed measure of how fast.
:func:`trainability_map` does both over a square window of :math:`\log_{10}` learning
rates.

Examples
--------
>>> setup = paper_setup("tanh", width=4, seed=0)
>>> m = trainability_map(setup, (-1.0, 3.0, -1.0, 3.0), resolution=8, steps=40)
>>> m.converged.shape, bool(m.converged[0, 0]), bool(m.converged[-1, -1])
((8, 8), True, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _validate
from .._progress import progress_bar

__all__ = [
    "BLOWUP",
    "NONLINEARITIES",
    "CRITERIA",
    "TrainabilitySetup",
    "paper_setup",
    "output_layer_threshold",
    "train_grid",
    "classify",
    "TrainabilityMap",
    "trainability_map",
]

NONLINEARITIES = ("tanh", "relu", "identity")
"""The hidden-layer nonlinearities of the paper's experiments."""

CRITERIA = ("mean_last", "bounded")
"""Divergence criteria of :func:`classify`.

``"mean_last"`` (the paper's): converged when the mean of the last ``window`` losses is
below the initial loss; ``"bounded"`` (ours): converged when the loss never exceeds
``threshold`` times the initial loss (nor becomes non-finite).
"""

BLOWUP = 1e6
"""Loss ratio :math:`L_t/L_0` past which a run is stopped and counted as diverged (the
paper's code clips the normalised loss at the same value)."""

_MAX_POINTS = 4 * 10**6
_MAX_WORK = 10**14  # multiply-adds of one train_grid call


@dataclass(frozen=True, eq=False)
class TrainabilitySetup:
    r"""A network, its initial weights and its data: what every grid point shares.

    Attributes
    ----------
    nonlinearity : str
        ``"tanh"``, ``"relu"`` or ``"identity"``.
    w0 : torch.Tensor
        Initial input-layer weights, ``(n, n)``.
    w1 : torch.Tensor
        Initial output-layer weights, ``(n,)``.
    x : torch.Tensor
        Inputs, ``(batch, n)``.
    y : torch.Tensor
        Targets, ``(batch,)``.
    """

    nonlinearity: str
    w0: torch.Tensor = field(repr=False)
    w1: torch.Tensor = field(repr=False)
    x: torch.Tensor = field(repr=False)
    y: torch.Tensor = field(repr=False)

    @property
    def width(self) -> int:
        """The hidden width :math:`n`."""
        return int(self.w0.shape[0])

    @property
    def n_data(self) -> int:
        """The number of training points."""
        return int(self.x.shape[0])

    def loss(self, w0: torch.Tensor, w1: torch.Tensor) -> torch.Tensor:
        """Return the training loss at weights ``w0 (..., n, n)``, ``w1 (..., n)`` (autograd-able).

        Examples
        --------
        >>> s = paper_setup("identity", width=3, seed=1)
        >>> float(s.loss(s.w0, s.w1)) > 0
        True
        """
        n = self.width
        z = torch.einsum("bi,...ij->...bj", self.x.to(w0.dtype), w0) / math.sqrt(n)
        h = _phi(z, self.nonlinearity)
        out = torch.einsum("...bj,...j->...b", h, w1) / n
        return ((out - self.y.to(w0.dtype)) ** 2).mean(-1)


def _phi(z: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    if nonlinearity == "tanh":
        return torch.tanh(z * math.sqrt(2.0))
    if nonlinearity == "relu":
        return torch.relu(z) * math.sqrt(2.0)
    return z


def paper_setup(nonlinearity: str = "tanh", width: int = 16, seed: int = 0, *,
                n_data: int | None = None) -> TrainabilitySetup:
    r"""Draw the paper's setup: weights, inputs and targets all :math:`N(0, 1)`.

    Parameters
    ----------
    nonlinearity
        ``"tanh"``, ``"relu"`` or ``"identity"``.
    width
        Hidden width :math:`n` (the paper: 16), 1 to 256.
    seed
        Seed of the draw (torch's generator: the numbers differ from the paper's JAX ones).
    n_data
        Number of training points; default as the paper, :math:`n^2 + n` (as many as
        parameters), or :math:`n` for the identity.

    Returns
    -------
    TrainabilitySetup
        In float64.

    Examples
    --------
    >>> s = paper_setup("tanh", width=4)
    >>> s.width, s.n_data, s.w0.dtype
    (4, 20, torch.float64)
    >>> paper_setup("identity", width=4).n_data
    4
    """
    nonlinearity = _validate.choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    width = _validate.integer(width, "width", 1, 256)
    seed = _validate.seed(seed)
    if n_data is None:
        n_data = width if nonlinearity == "identity" else width * width + width
    n_data = _validate.integer(n_data, "n_data", 1, 10**5)
    g = torch.Generator().manual_seed(seed)
    draw = [torch.randn(shape, generator=g, dtype=torch.float64)
            for shape in ((width, width), (width,), (n_data, width), (n_data,))]
    return TrainabilitySetup(nonlinearity, *draw)


def output_layer_threshold(setup: TrainabilitySetup) -> float:
    r"""Return the exact stability limit 2/λ_max of :math:`\eta_1` at :math:`\eta_0 = 0`.

    With the input layer frozen the loss is quadratic in :math:`W_1`, with Hessian
    :math:`H = 2 h^\top h / (B n^2)`, :math:`h = \phi(X W_0/\sqrt n)`; gradient descent
    on a quadratic converges for :math:`\eta_1 < 2/\lambda_{\max}(H)` and diverges above.

    Parameters
    ----------
    setup
        From :func:`paper_setup`.

    Returns
    -------
    float

    Examples
    --------
    >>> s = paper_setup("identity", width=4, seed=0)
    >>> eta = output_layer_threshold(s)
    >>> losses = train_grid(s, [0.0, 0.0], [0.95 * eta, 1.05 * eta], steps=2000)
    >>> classify(losses)[0].tolist()
    [True, False]
    """
    setup = _check_setup(setup)
    n = setup.width
    h = _phi(setup.x @ setup.w0 / math.sqrt(n), setup.nonlinearity)
    hessian = 2.0 * h.T @ h / (setup.n_data * n**2)
    return 2.0 / float(torch.linalg.eigvalsh(hessian).max())


def _check_setup(setup: object) -> TrainabilitySetup:
    if not isinstance(setup, TrainabilitySetup):
        raise TypeError(f"setup must be a TrainabilitySetup (from paper_setup), got "
                        f"{_validate.describe(setup)}")
    return setup


def _learning_rates(value: object, name: str) -> np.ndarray:
    a = _validate.real_array(value, name, ndim=1)
    if a.min() < 0:
        raise ValueError(f"{name} must hold learning rates >= 0, got {a.min()}")
    return a


def train_grid(setup: TrainabilitySetup, lr0, lr1, steps: int, *, chunk: int = 4096,
               dtype: torch.dtype = torch.float64, device=None,
               progress: bool = False) -> np.ndarray:
    r"""Train one network per learning-rate pair by full-batch gradient descent.

    Every network starts from ``setup.w0, setup.w1``; network :math:`k` takes ``steps``
    steps with learning rates ``lr0[k]`` (input layer) and ``lr1[k]`` (output layer). A
    run whose loss ratio :math:`L_t/L_0` passes :data:`BLOWUP` or stops being finite is
    frozen there and its later losses are ``inf``.

    Parameters
    ----------
    setup
        From :func:`paper_setup`.
    lr0, lr1
        1-D arrays of the same length: learning rates ``>= 0``.
    steps
        Number of gradient steps, 1 to 10⁵.
    chunk
        Networks trained together (memory against speed).
    dtype
        ``torch.float64`` (default) or ``torch.float32``.
    device
        Torch device (default CPU).
    progress
        Show a progress bar over chunks.

    Returns
    -------
    numpy.ndarray
        ``(len(lr0), steps + 1)`` float64 losses :math:`L_0, \dots, L_{T}` (the loss
        before each step, then after the last).

    Examples
    --------
    >>> s = paper_setup("tanh", width=4, seed=0)
    >>> losses = train_grid(s, [0.1, 1e4], [0.1, 1e4], steps=20)
    >>> bool(losses[0, -1] < losses[0, 0]), bool(np.isinf(losses[1, -1]))
    (True, True)
    """
    setup = _check_setup(setup)
    a0, a1 = _learning_rates(lr0, "lr0"), _learning_rates(lr1, "lr1")
    _validate.same_length(a0, a1, "lr0 and lr1")
    steps = _validate.integer(steps, "steps", 1, 10**5)
    chunk = _validate.integer(chunk, "chunk", 1, 10**6)
    dtype = _validate.float_dtype(dtype)
    device = _validate.device(device) if device is not None else torch.device("cpu")
    progress = _validate.boolean(progress, "progress")
    _validate.budget(a0.size, "lr0", _MAX_POINTS, "networks")
    work = a0.size * steps * setup.n_data * setup.width * (setup.width + 1)
    _validate.budget(work, "steps", _MAX_WORK, "multiply-adds")
    out = np.empty((a0.size, steps + 1))
    starts = range(0, a0.size, chunk)
    for start in progress_bar(starts, enabled=progress, desc="training"):
        stop = min(start + chunk, a0.size)
        out[start:stop] = _train_chunk(setup, a0[start:stop], a1[start:stop], steps,
                                       dtype, device)
    return out


def _train_chunk(setup: TrainabilitySetup, lr0: np.ndarray, lr1: np.ndarray, steps: int,
                 dtype: torch.dtype, device: torch.device) -> np.ndarray:
    n, batch, kind = setup.width, setup.n_data, setup.nonlinearity
    m = lr0.size
    x = setup.x.to(device, dtype)
    xt = x.t().contiguous()
    y = setup.y.to(device, dtype).view(batch, 1)
    # input weights of all networks side by side, (n, m * n): one product per step
    w0 = setup.w0.to(device, dtype).view(n, 1, n).expand(n, m, n).reshape(n, m * n)
    w1 = setup.w1.to(device, dtype).expand(m, n).contiguous()
    eta0 = torch.as_tensor(lr0, dtype=dtype, device=device).view(1, m, 1)
    eta1 = torch.as_tensor(lr1, dtype=dtype, device=device).view(m, 1)
    alive = torch.ones(m, dtype=torch.bool, device=device)
    losses = torch.full((steps + 1, m), math.inf, dtype=torch.float64, device=device)
    scale0, root_2 = 1.0 / math.sqrt(n), math.sqrt(2.0)
    first = None
    for t in range(steps + 1):
        z = (x @ w0).view(batch, m, n).mul_(scale0)
        if kind == "tanh":
            h = torch.tanh(z * root_2)
        elif kind == "relu":
            h = torch.relu(z).mul_(root_2)
        else:
            h = z
        err = (h * (w1 / n)).sum(-1) - y  # (batch, m)
        loss = (err * err).mean(0)
        if first is None:
            first = loss.clone()
        alive = alive & torch.isfinite(loss) & (loss <= BLOWUP * first)
        losses[t] = torch.where(alive, loss, torch.full_like(loss, math.inf)).double()
        if t == steps or not bool(alive.any()):
            break
        d_out = err.mul_(2.0 / batch).unsqueeze(-1)  # dL/d(output), (batch, m, 1)
        g1 = (h * d_out).sum(0).div_(n)  # (m, n)
        d_z = d_out * (w1 / n)  # dL/dh, (batch, m, n)
        if kind == "tanh":
            d_z.mul_(h.mul_(h).neg_().add_(1.0)).mul_(root_2)
        elif kind == "relu":
            d_z.mul_(z > 0).mul_(root_2)
        g0 = (xt @ d_z.view(batch, m * n)).view(n, m, n).mul_(scale0)
        keep = alive.to(dtype)
        w0 = w0 - (g0 * (eta0 * keep.view(1, m, 1))).view(n, m * n)
        w1 = w1 - g1 * (eta1 * keep.view(m, 1))
    return losses.t().cpu().numpy()


def classify(losses, *, steps: int | None = None, criterion: str = "mean_last",
             window: int = 20, threshold: float = BLOWUP) -> tuple[np.ndarray, np.ndarray]:
    r"""Converged or diverged, and how fast, from loss curves.

    With :math:`v_t = L_t / L_0` (non-finite values and values past :data:`BLOWUP` set
    to :data:`BLOWUP`, as in the paper's code) over the first ``steps`` steps:

    - ``criterion="mean_last"`` (the paper's): converged when the mean of the last
      ``window`` values is below 1;
    - ``criterion="bounded"`` (ours): converged when no value exceeds ``threshold``.

    The measure is the paper's: :math:`-\sum_t v_t` for a converged run (near 0 when the
    loss falls fast), :math:`\sum_t 1/v_t` for a diverged one (near 0 when it blows up
    fast); its sign is the class.

    Parameters
    ----------
    losses
        ``(..., T + 1)`` losses from :func:`train_grid` (``inf`` allowed: a blown-up run).
    steps
        Use the curves up to step ``steps`` only (default all ``T``).
    criterion
        ``"mean_last"`` or ``"bounded"``.
    window
        Number of last losses averaged by ``"mean_last"``, 1 to ``steps + 1`` (ignored
        by ``"bounded"``).
    threshold
        Loss ratio :math:`L_t/L_0` in ``(1, BLOWUP]`` past which ``"bounded"`` counts a
        run as diverged (a non-finite loss always does).

    Returns
    -------
    converged : numpy.ndarray
        Boolean, shape ``losses.shape[:-1]``.
    measure : numpy.ndarray
        Float, same shape: negative where converged, positive where diverged.

    Examples
    --------
    >>> losses = np.array([[1.0, 0.5, 0.2, 0.1], [1.0, 3.0, 1e3, np.inf]])
    >>> converged, measure = classify(losses, window=2)
    >>> converged.tolist(), bool(measure[0] < 0 < measure[1])
    ([True, False], True)
    """
    a = _validate.real_array(losses, "losses", min_ndim=1, finite=False)
    if np.isnan(a).any():
        raise ValueError("losses must not hold NaN (a blown-up run is inf)")
    if a.shape[-1] < 2:
        raise ValueError(f"losses needs at least 2 values per curve, got shape {a.shape}")
    first = a[..., 0]
    if not (np.isfinite(first).all() and (first > 0).all()):
        raise ValueError("losses must start from a finite positive loss L_0")
    total = a.shape[-1] - 1
    steps = total if steps is None else _validate.integer(steps, "steps", 1, total)
    criterion = _validate.choice(criterion, "criterion", CRITERIA)
    window = _validate.integer(window, "window", 1)
    if criterion == "mean_last" and window > steps + 1:
        raise ValueError(f"window must be at most steps + 1 = {steps + 1} (the losses "
                         f"averaged), got {window}")
    threshold = _validate.real(threshold, "threshold", 1.0, BLOWUP, open_min=True)
    with np.errstate(over="ignore", invalid="ignore"):
        v = a[..., : steps + 1] / first[..., None]
    if criterion == "bounded":
        converged = np.isfinite(v).all(-1) & (np.where(np.isfinite(v), v, 0.0).max(-1)
                                              <= threshold)
    v = np.where(np.isfinite(v) & (v <= BLOWUP), v, BLOWUP)
    if criterion == "mean_last":
        converged = v[..., -window:].mean(-1) < 1.0
    measure = np.where(converged, -v.sum(-1), (1.0 / v).sum(-1))
    return converged, measure


@dataclass(frozen=True, eq=False)
class TrainabilityMap:
    r"""Converged / diverged over a square window of :math:`\log_{10}` learning rates.

    Rows run over the output-layer rate :math:`\eta_1`, columns over the input-layer
    rate :math:`\eta_0` (the paper's axes: :math:`\eta_0` horizontal).

    Attributes
    ----------
    extent : tuple of float
        ``(log10 eta0 min, log10 eta0 max, log10 eta1 min, log10 eta1 max)``, pixel
        centres at the ends (as :func:`numpy.linspace`).
    losses : numpy.ndarray
        ``(resolution, resolution, steps + 1)`` loss curves (float32, ``inf`` when
        blown up).
    converged : numpy.ndarray
        Boolean ``(resolution, resolution)``: the paper's criterion at all steps.
    measure : numpy.ndarray
        The signed measure of :func:`classify`.
    """

    extent: tuple[float, float, float, float]
    losses: np.ndarray = field(repr=False)
    converged: np.ndarray = field(repr=False)
    measure: np.ndarray = field(repr=False)

    @property
    def resolution(self) -> int:
        """Pixels per side."""
        return int(self.converged.shape[0])

    @property
    def steps(self) -> int:
        """Gradient steps taken."""
        return int(self.losses.shape[-1] - 1)

    @property
    def width(self) -> float:
        r"""The window's side in decades of :math:`\eta_0`."""
        return self.extent[1] - self.extent[0]

    def classify(self, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """:func:`classify` of this map's curves with other ``steps``/``criterion``/….

        Examples
        --------
        >>> m = trainability_map(paper_setup("tanh", width=4), (-1, 1, -1, 1), 4, 30)
        >>> m.classify(steps=15, window=5)[0].shape
        (4, 4)
        """
        return classify(self.losses, **kwargs)


def _extent(value: object) -> tuple[float, float, float, float]:
    if not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 4:
        raise TypeError(f"extent must be 4 numbers (log10 eta0 min, max, log10 eta1 min, "
                        f"max), got {_validate.describe(value)}")
    e = tuple(_validate.real(v, f"extent[{i}]", -1e6, 1e6) for i, v in enumerate(value))
    if not (e[0] < e[1] and e[2] < e[3]):
        raise ValueError(f"extent must have min < max on both axes, got {e}")
    return e  # type: ignore[return-value]


def trainability_map(setup: TrainabilitySetup, extent: Sequence[float], resolution: int,
                     steps: int, *, window: int = 20, chunk: int = 4096,
                     dtype: torch.dtype = torch.float64, device=None,
                     progress: bool = False) -> TrainabilityMap:
    r"""Train the grid of :math:`(\eta_0, \eta_1)` log-spaced over ``extent`` and classify.

    Parameters
    ----------
    setup
        From :func:`paper_setup`.
    extent
        ``(log10 eta0 min, log10 eta0 max, log10 eta1 min, log10 eta1 max)``, each in
        [-30, 30], min < max.
    resolution
        Pixels per side, 2 to 2048.
    steps
        Gradient steps (the paper: 500 to 1000; its code's default 100).
    window
        The paper's criterion's window (last losses averaged), default 20.
    chunk, dtype, device, progress
        As in :func:`train_grid`.

    Returns
    -------
    TrainabilityMap

    Examples
    --------
    >>> m = trainability_map(paper_setup("relu", width=4), (-2, 2, -2, 2), 6, 30)
    >>> m.resolution, m.steps, m.converged.dtype
    (6, 30, dtype('bool'))
    """
    setup = _check_setup(setup)
    e = _extent(extent)
    resolution = _validate.integer(resolution, "resolution", 2, 2048)
    steps = _validate.integer(steps, "steps", 1, 10**5)
    window = _validate.integer(window, "window", 1, steps + 1)
    eta0 = np.logspace(e[0], e[1], resolution)
    eta1 = np.logspace(e[2], e[3], resolution)
    lr1, lr0 = np.meshgrid(eta1, eta0, indexing="ij")
    losses = train_grid(setup, lr0.ravel(), lr1.ravel(), steps, chunk=chunk, dtype=dtype,
                        device=device, progress=progress)
    losses = losses.reshape(resolution, resolution, steps + 1)
    converged, measure = classify(losses, window=window)
    return TrainabilityMap(e, losses.astype(np.float32), converged, measure)
