"""Sampling random networks and their outputs on the sphere."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _validate
from .._progress import progress_bar
from ._limits import MAX_DEPTH, MAX_NETWORKS
from .activations import Activation, _apply, activation
from .kernels import gamma_w, kappa_depth

__all__ = [
    "network_seed",
    "RandomNetworks",
    "sample_networks",
    "sample_outputs",
    "great_circle_points",
    "empirical_covariance",
]


def _family(depth: object, width: object, n_networks: object, *, minimum: int = 1,
            together: int | None = None, input_dim: int | None = None) -> tuple[int, int, int]:
    """Check ``depth``, ``width`` and ``n_networks`` of a family; return them as ints.

    Refuses up front a family of more than
    :data:`~fractalnb.random_networks._limits.MAX_NETWORKS` networks and, when ``together``
    networks have their weights drawn at once (inputs of ``input_dim`` coordinates, default
    3), weights past 2^30 (the package budget ``MAX_ELEMENTS``).
    """
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    width = _validate.integer(width, "width", minimum=1)
    n_networks = _validate.integer(n_networks, "n_networks", minimum=minimum,
                                   maximum=MAX_NETWORKS)
    if together is not None:
        inputs = 3 if input_dim is None else input_dim
        per_network = width * inputs + (depth - 1) * width * width + depth * width
        names = ("depth, width and n_networks" if input_dim is None
                 else "depth, width, n_networks and input_dim")
        _validate.budget(min(together, n_networks) * per_network, names,
                         _validate.MAX_ELEMENTS, "weights")
    return depth, width, n_networks


def network_seed(seed: int, index: int) -> int:
    """Return the seed of network ``index`` in a family seeded by ``seed`` (independent streams).

    Network ``k`` of a family is the same whatever the batch it is drawn in.

    Parameters
    ----------
    seed
        The family's seed (an integer ``>= 0``).
    index
        The network's index in the family (``>= 0``).

    Examples
    --------
    >>> network_seed(0, 1) == network_seed(0, 1) != network_seed(0, 2)
    True
    """
    seed = _validate.seed(seed)
    index = _validate.integer(index, "index", minimum=0)
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0]
               & 0x7FFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True)
class RandomNetworks:
    """A batch of independent random networks with one readout per depth.

    ``first`` is ``(B, n, d+1)`` with N(0, 1) entries; ``hidden[l]`` is ``(B, n, n)`` with
    N(0, Γ_W/n) entries (``depth − 1`` of them); ``readout`` is ``(B, depth, n)`` with
    N(0, Γ_W/n) entries, row ``l`` reading the output f_{l+1} off layer ``l + 1``. Each
    depth's output is distributed exactly as a network of that depth (the readouts are
    independent), so one batch gives the Monte Carlo of every depth 1 … L at the cost of
    the deepest (outputs of different depths of one network are dependent).

    Call it on points ``(..., d+1)`` to get outputs ``(B, len(depths), ...)``.
    """

    activation: Activation
    first: torch.Tensor = field(repr=False)
    hidden: tuple[torch.Tensor, ...] = field(repr=False)
    readout: torch.Tensor = field(repr=False)
    gamma_w: float
    seeds: tuple[int, ...] = field(repr=False)

    @property
    def depth(self) -> int:
        """The number of hidden layers L."""
        return len(self.hidden) + 1

    @property
    def width(self) -> int:
        """The width n of every hidden layer."""
        return int(self.first.shape[1])

    @property
    def n_networks(self) -> int:
        """The batch size B."""
        return int(self.first.shape[0])

    def __call__(self, points: torch.Tensor | np.ndarray, depths: Sequence[int] | None = None,
                 *, chunk: int = 4096) -> torch.Tensor:
        """Evaluate every network at ``points``.

        Parameters
        ----------
        points
            ``(..., d+1)`` inputs (unit vectors for the theory to apply), numpy or torch.
        depths
            Which outputs to return: distinct depths in 1 … L (default all, in order).
        chunk
            Points per forward pass (memory ≈ B · chunk · n floats, at most
            2^30 (the package budget ``MAX_ELEMENTS``)).

        Returns
        -------
        torch.Tensor
            ``(B, len(depths), ...)`` on the networks' device.

        Examples
        --------
        >>> nets = sample_networks("tanh", depth=2, width=8, n_networks=3)
        >>> nets(torch.eye(3), depths=[2]).shape
        torch.Size([3, 1, 3])
        """
        if depths is None:
            depths = list(range(1, self.depth + 1))
        else:
            chosen = _validate.integer_array(depths, "depths", ndim=1, minimum=1)
            if chosen.max() > self.depth or np.unique(chosen).size != chosen.size:
                raise ValueError(f"depths must be distinct depths in 1..{self.depth}, "
                                 f"got {chosen.tolist()}")
            depths = [int(d) for d in chosen]
        chunk = _validate.integer(chunk, "chunk", minimum=1)
        given, _ = _validate.as_tensor(points, "points", allow_bool=False, max_rank=8)
        x = given.to(dtype=self.first.dtype, device=self.first.device)
        if x.shape[-1] != self.first.shape[-1]:
            raise ValueError(f"points must have shape (..., {self.first.shape[-1]}), "
                             f"got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("points contain NaN or infinite entries")
        lead = x.shape[:-1]
        flat = x.reshape(-1, x.shape[-1])
        _validate.budget(self.n_networks * len(depths) * flat.shape[0], "points",
                         _validate.MAX_ELEMENTS, "outputs")
        _validate.budget(self.n_networks * min(chunk, flat.shape[0]) * self.width, "chunk",
                         _validate.MAX_ELEMENTS, "activations")
        out = torch.empty((self.n_networks, len(depths), flat.shape[0]), dtype=x.dtype,
                          device=x.device)
        index = {d: k for k, d in enumerate(depths)}
        deepest = max(depths)
        with torch.no_grad():
            for start in range(0, flat.shape[0], chunk):
                xs = flat[start:start + chunk]
                z = torch.matmul(xs, self.first.transpose(1, 2))             # (B, c, n)
                for layer in range(1, deepest + 1):
                    h = _apply(self.activation, z)
                    if layer in index:
                        out[:, index[layer], start:start + chunk] = torch.matmul(
                            h, self.readout[:, layer - 1, :, None])[..., 0]
                    if layer < deepest:
                        z = torch.matmul(h, self.hidden[layer - 1].transpose(1, 2))
        return out.reshape(self.n_networks, len(depths), *lead)


def sample_networks(spec, depth: int, width: int, n_networks: int = 1, *, seed: int = 0,
                    first: int = 0, input_dim: int = 3, device: torch.device | str | None = None,
                    dtype: torch.dtype = torch.float32) -> RandomNetworks:
    """Draw ``n_networks`` independent random networks of a seeded family.

    They are networks ``first … first+B−1`` of the family seeded by ``seed``.

    Parameters
    ----------
    spec
        The activation (see :func:`activation`).
    depth
        L, the number of activation layers: 1 to 1000.
    width
        n ≥ 1, the width of every hidden layer.
    n_networks
        B, 1 to 10^6. The weights of the batch may not exceed
        2^30 (the package budget ``MAX_ELEMENTS``) (about 10^9) numbers: a larger request is
        refused up front.
    seed, first
        Network ``k`` is drawn from :func:`network_seed` ``(seed, k)``, so a family is the
        same whatever the batching (both integers ``>= 0``).
    input_dim
        d + 1 (3 for S²).
    device, dtype
        Where and how the weights live (the generator runs on ``device``: CPU and CUDA
        streams differ, each deterministic); ``dtype`` a floating-point torch dtype.

    Returns
    -------
    RandomNetworks

    Examples
    --------
    >>> nets = sample_networks("relu", depth=3, width=16, n_networks=2, seed=1)
    >>> nets.depth, nets.width, nets.n_networks
    (3, 16, 2)
    """
    act = activation(spec)
    input_dim = _validate.integer(input_dim, "input_dim", minimum=1)
    depth, width, n_networks = _family(depth, width, n_networks, together=n_networks,
                                       input_dim=input_dim)
    seed = _validate.seed(seed)
    first = _validate.integer(first, "first", minimum=0)
    device = _validate.device(device) or torch.device("cpu")
    dtype = _validate.float_dtype(dtype)
    gw = gamma_w(act)
    scale = math.sqrt(gw / width)
    seeds = tuple(network_seed(seed, first + k) for k in range(n_networks))
    w0, hid, ro = [], [], []
    for s in seeds:
        gen = torch.Generator(device=device).manual_seed(s)
        w0.append(torch.randn(width, input_dim, generator=gen, device=device, dtype=dtype))
        hid.append([torch.randn(width, width, generator=gen, device=device, dtype=dtype) * scale
                    for _ in range(depth - 1)])
        ro.append(torch.randn(depth, width, generator=gen, device=device, dtype=dtype) * scale)
    hidden = tuple(torch.stack([h[layer] for h in hid]) for layer in range(depth - 1))
    return RandomNetworks(act, torch.stack(w0), hidden, torch.stack(ro), gw, seeds)


def _psd_sqrt(gram: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a batch of PSD matrices (robust to rank deficiency)."""
    vals, vecs = torch.linalg.eigh(gram)
    return vecs * vals.clamp(min=0).sqrt()[..., None, :]


def sample_outputs(spec, depth: int, width: int, points, n_networks: int = 1, *, seed: int = 0,
                   first: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Sample the outputs f_1 … f_L of random networks at a few points, through Gram matrices.

    At ``K`` inputs, the next pre-activations of a layer are ``z = W h`` with iid rows
    ``W_j ~ N(0, Γ_W/n · I)``, so each unit's K-vector is exactly ``N(0, G)`` with
    ``G = Γ_W/n · hᵀh``: drawing it through a square root of ``G`` gives the same joint law
    as :func:`sample_networks` (independent readout per depth included) at O(n K²) per
    layer instead of O(n²) — what makes a Monte Carlo over hundreds of width-2048
    networks cheap.

    Parameters
    ----------
    spec, depth, width, n_networks, seed, first
        As in :func:`sample_networks` (the random streams differ from it).
    points
        ``(K, d+1)`` inputs (numpy, torch or nested sequences); the Gram matrices are
        ``K × K`` and ``width · K`` at most 2^30 (the package budget ``MAX_ELEMENTS``).
    dtype
        A floating-point torch dtype.

    Returns
    -------
    torch.Tensor
        ``(n_networks, depth, K)``.

    Examples
    --------
    >>> out = sample_outputs("relu", 2, 2048, torch.eye(3), n_networks=4, seed=0)
    >>> out.shape
    torch.Size([4, 2, 3])
    """
    act = activation(spec)
    depth, width, n_networks = _family(depth, width, n_networks)
    seed = _validate.seed(seed)
    first = _validate.integer(first, "first", minimum=0)
    dtype = _validate.float_dtype(dtype)
    given = _validate.real_array(points, "points", ndim=2)
    k_points = given.shape[0]
    _validate.budget(k_points * k_points + width * (k_points + given.shape[1]),
                     "width and points", _validate.MAX_ELEMENTS, "Gram and hidden entries")
    _validate.budget(n_networks * depth * k_points, "n_networks and points",
                     _validate.MAX_ELEMENTS, "outputs")
    x = torch.as_tensor(np.ascontiguousarray(given), dtype=dtype)
    if not torch.isfinite(x).all():
        raise ValueError(f"points are not finite in {dtype}")
    gw = gamma_w(act)
    out = torch.empty((n_networks, depth, x.shape[0]), dtype=dtype)
    for k in range(n_networks):
        gen = torch.Generator().manual_seed(network_seed(seed, first + k))
        z = torch.randn(width, x.shape[1], generator=gen, dtype=dtype) @ x.T     # (n, K)
        for layer in range(1, depth + 1):
            h = _apply(act, z)
            root = _psd_sqrt(gw / width * h.T @ h)                                # (K, K)
            out[k, layer - 1] = root @ torch.randn(x.shape[0], generator=gen, dtype=dtype)
            if layer < depth:
                z = torch.randn(width, x.shape[0], generator=gen, dtype=dtype) @ root.T
    return out


def great_circle_points(angles) -> np.ndarray:
    """Points (sin γ, 0, cos γ) at angles γ from the north pole along a meridian (row 0: γ = 0).

    Examples
    --------
    >>> great_circle_points([0.0, np.pi / 2]).round(12).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    g = _validate.real_array(angles, "angles", ndim=1)
    return np.stack([np.sin(g), np.zeros_like(g), np.cos(g)], axis=1)


def empirical_covariance(spec, depth: int, width: int, n_networks: int, angles, *,
                         seed: int = 0, sampler: str = "gram", batch: int = 8,
                         progress: bool = False):
    """Monte Carlo covariance E[f_l(x₀) f_l(x_γ)] of width-n networks against κ_l(cos γ).

    Every network gives one product per depth l = 1 … L and angle γ (x₀ is the north pole,
    x_γ at angle γ on a meridian; γ = 0 gives the variance). The products of different
    networks are independent, so the standard error is their standard deviation / √M and
    ``z = (mean − κ_l) / stderr`` is approximately N(0, 1) when the theory holds (up to an
    O(1/n) finite-width bias).

    Parameters
    ----------
    spec, depth, width
        The networks.
    n_networks
        M, the Monte Carlo size (2 to 10^6).
    angles
        Angles γ in radians (1-D).
    seed
        Seed of the network family.
    sampler
        ``"gram"`` (:func:`sample_outputs`) or ``"weights"`` (:func:`sample_networks`:
        every weight drawn, O(n²) per layer).
    batch
        Networks per batch for ``"weights"`` (≥ 1).
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (depth, angle): ``depth, angle, u, empirical, stderr, kappa, z``.

    Examples
    --------
    >>> df = empirical_covariance("relu", 2, 512, 50, [0.0, 1.0], seed=0)
    >>> list(df.columns)
    ['depth', 'angle', 'u', 'empirical', 'stderr', 'kappa', 'z']
    """
    import pandas as pd

    act = activation(spec)
    sampler = _validate.choice(sampler, "sampler", ("gram", "weights"))
    batch = _validate.integer(batch, "batch", minimum=1)
    # a standard error needs 2 networks
    depth, width, n_networks = _family(depth, width, n_networks, minimum=2,
                                       together=None if sampler == "gram" else batch)
    seed = _validate.seed(seed)
    progress = _validate.boolean(progress, "progress")
    gam = _validate.real_array(angles, "angles", ndim=1)
    pts = great_circle_points(gam)
    products = []
    step = n_networks if sampler == "gram" else batch
    bar = progress_bar(range(0, n_networks, step), enabled=progress, desc=f"{act.name} nets")
    for start in bar:
        count = min(step, n_networks - start)
        if sampler == "gram":
            out = sample_outputs(act, depth, width, pts, count, seed=seed, first=start)
        else:
            nets = sample_networks(act, depth, width, count, seed=seed, first=start,
                                   dtype=torch.float64)
            out = nets(pts)
        products.append((out[..., :1] * out).double().numpy())   # (B, depth, K)
    prod = np.concatenate(products)
    mean, sd = prod.mean(0), prod.std(0, ddof=1)
    rows = []
    for layer in range(1, depth + 1):
        theory = np.asarray(kappa_depth(np.cos(gam), act, layer))
        for k, g in enumerate(gam):
            se = sd[layer - 1, k] / math.sqrt(n_networks)
            rows.append({"depth": layer, "angle": g, "u": math.cos(g),
                         "empirical": mean[layer - 1, k], "stderr": se,
                         "kappa": float(theory[k]),
                         "z": (mean[layer - 1, k] - theory[k]) / se if se > 0 else math.nan})
    return pd.DataFrame(rows)
