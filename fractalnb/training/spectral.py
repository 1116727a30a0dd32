r"""The spectral view of a weight matrix: the heavy-tailed exponent :math:`\alpha` of its ESD.

Martin and Mahoney's *heavy-tailed self-regularisation* reads a trained layer through the
empirical spectral density (ESD) of its weights: the eigenvalues of the correlation matrix
:math:`X = W^\top W / N` of an :math:`N \times M` weight matrix (:math:`N \ge M`, so
:math:`M` eigenvalues). A layer with i.i.d. Gaussian entries has a Marchenko–Pastur ESD with
a sharp edge and no power-law tail; training grows a tail
:math:`\rho(\lambda) \sim \lambda^{-\alpha}` whose exponent (2 to 4 in well-trained layers,
in their reading) the WeightWatcher tool reports per layer.

:func:`esd_alpha` is that estimator, with WeightWatcher's conventions:

- a linear weight ``(out, in)`` is one matrix; a conv kernel ``(out, in, k_1, …)`` is
  ``k_1 k_2 …`` matrices ``(out, in)``, one per kernel position, whose eigenvalues are
  pooled into one ESD (``conv="slices"``, WeightWatcher's default); ``conv="unfold"`` uses
  the matrix ``out × (in·k_1…)`` that :func:`~fractalnb.training.analyze` counts boxes on;
- each matrix is normalised by its larger side :math:`N` (this does not change
  :math:`\alpha`, which is scale-free), and singular values below the rank tolerance of
  :func:`numpy.linalg.matrix_rank` (:math:`\max(N, M)\,\epsilon\,\sigma_{\max}` per
  matrix) are dropped as numerical zeros;
- the tail is fitted by the continuous power-law maximum-likelihood estimator of the
  ``powerlaw`` package (Alstott et al.), :math:`\lambda_{\min}` chosen by the smallest
  Kolmogorov–Smirnov distance (Clauset, Shalizi and Newman), no upper cut-off.

The ``weightwatcher`` package itself is not used: at import it switches off every warning of
the process (``warnings.simplefilter("ignore")``), prints to stdout, and needs
scikit-learn; its default fit is the same KS-selected continuous power law, and on the
VGG-16 reference run ``weightwatcher`` 0.7.7 gives the same :math:`\alpha` as
:func:`esd_alpha` to 1e-10 on every layer with at least 20 eigenvalues (it switches to
another estimator below 20).

Examples
--------
>>> import numpy as np
>>> from fractalnb.training import esd_alpha
>>> fit = esd_alpha(np.random.default_rng(0).standard_normal((400, 200)))
>>> fit.n_evals, fit.alpha > 4
(200, True)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import _validate

__all__ = [
    "DEFAULT_MIN_EVALS",
    "ALPHA_RANGE",
    "SpectralFit",
    "empirical_spectral_density",
    "esd_alpha",
    "layer_spectra",
]

DEFAULT_MIN_EVALS = 50
"""Fewest eigenvalues :func:`esd_alpha` fits a tail to (our choice; smaller ESDs are refused)."""

ALPHA_RANGE = (1.0, 1000.0)
r"""The range of :math:`\alpha` searched. powerlaw 2.0's default, ``[0, 3]``, would mark every
fit with :math:`\alpha > 3` (a Gaussian layer's) as invalid."""

_CONV_VIEWS = ("slices", "unfold")


@dataclass(frozen=True)
class SpectralFit:
    r"""A power-law fit :math:`\rho(\lambda) \sim \lambda^{-\alpha}` to the tail of an ESD.

    Attributes
    ----------
    alpha
        The exponent of the density (WeightWatcher's ``alpha``).
    xmin
        The smallest eigenvalue of the fitted tail (chosen by the KS distance).
    n_tail
        The number of eigenvalues :math:`\ge` ``xmin``.
    n_evals
        The number of (non-zero) eigenvalues of the ESD.
    ks_distance
        The Kolmogorov–Smirnov distance of the tail to the fitted power law.
    standard_error
        The asymptotic standard error of ``alpha``, :math:`(\alpha - 1)/\sqrt{n_\text{tail}}`.
    lambda_max
        The largest eigenvalue.
    conv
        How a conv kernel was turned into matrices (``"slices"`` or ``"unfold"``).
    """

    alpha: float
    xmin: float
    n_tail: int
    n_evals: int
    ks_distance: float
    standard_error: float
    lambda_max: float
    conv: str

    def to_dict(self) -> dict[str, object]:
        """Return the fields as a plain dict (e.g. for a table row)."""
        return asdict(self)


def _matrices(t: torch.Tensor, conv: str) -> torch.Tensor:
    """Return the stack ``(S, rows, cols)`` of matrices whose eigenvalues form the ESD."""
    if t.ndim == 2:
        return t.unsqueeze(0)
    if conv == "unfold":
        return t.reshape(t.shape[0], -1).unsqueeze(0)
    out, inp = t.shape[:2]
    return t.reshape(out, inp, -1).permute(2, 0, 1)


def empirical_spectral_density(weight: object, *, conv: str = "slices") -> np.ndarray:
    r"""Return the sorted eigenvalues of :math:`W^\top W / N` of a weight matrix or conv kernel.

    Parameters
    ----------
    weight
        Array or tensor of rank 2 (a matrix ``(out, in)``) or 3 to 5 (a conv kernel
        ``(out, in, k_1, …)``), real and finite.
    conv
        ``"slices"`` (default, WeightWatcher's convention): one matrix ``(out, in)`` per
        kernel position, eigenvalues pooled; ``"unfold"``: the matrix ``out × (in·k_1…)``.

    Returns
    -------
    numpy.ndarray
        The eigenvalues (``min(out, in)`` per matrix), ascending, float64, without the
        numerical zeros (singular values at most :math:`\max(N, M)\,\epsilon\,
        \sigma_{\max}` of their matrix, as :func:`numpy.linalg.matrix_rank` counts).

    Raises
    ------
    TypeError
        If ``weight`` is not an array or tensor.
    ValueError
        If ``weight`` has rank 1 or above 5, is empty, non-finite or all zero, or ``conv``
        is unknown.

    Examples
    --------
    >>> empirical_spectral_density(np.diag([2.0, 1.0]))
    array([0.5, 2. ])
    >>> empirical_spectral_density(np.ones((8, 4, 3, 3))).shape
    (9,)
    """
    _validate.choice(conv, "conv", _CONV_VIEWS)
    if isinstance(weight, torch.Tensor):
        t = weight.detach()
        if t.is_complex() or not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64)):
            raise ValueError(f"weight must hold real numbers, got dtype {t.dtype}")
        if t.ndim < 2 or t.ndim > 5:
            raise ValueError(f"weight must have rank 2 to 5 (a matrix or a conv kernel), got "
                             f"rank {t.ndim}")
        if t.numel() == 0:
            raise ValueError(f"weight is empty (shape {tuple(t.shape)})")
        t = t.to(torch.float64)
        if not bool(torch.isfinite(t).all()):
            raise ValueError("weight has non-finite entries")
    else:
        if not isinstance(weight, (np.ndarray, list, tuple)):
            raise TypeError(f"weight must be a numpy array or a torch tensor, got "
                            f"{_validate.describe(weight)}")
        a = _validate.real_array(weight, "weight", min_ndim=2, max_ndim=5)
        t = torch.from_numpy(np.ascontiguousarray(a))
    mats = _matrices(t, conv)
    n = max(mats.shape[1], mats.shape[2])
    with torch.no_grad():
        sv = torch.linalg.svdvals(mats).cpu().numpy()
    if not sv.size or sv.max() <= 0:
        raise ValueError("weight is all zero: its ESD has no non-zero eigenvalue")
    tolerance = sv.max(axis=1, keepdims=True) * n * np.finfo(np.float64).eps
    return np.sort(sv[sv > tolerance] ** 2 / n)


def esd_alpha(weight: object, *, conv: str = "slices", min_evals: int = DEFAULT_MIN_EVALS
              ) -> SpectralFit:
    r"""Fit the power-law tail exponent :math:`\alpha` of a weight matrix's ESD.

    The eigenvalues of :func:`empirical_spectral_density` are fitted by
    ``powerlaw.Fit`` (continuous power law, maximum likelihood, :math:`\lambda_{\min}` by the
    smallest KS distance, no :math:`\lambda_{\max}`): WeightWatcher's ``alpha``.

    Parameters
    ----------
    weight
        A matrix ``(out, in)`` or a conv kernel ``(out, in, k_1, …)`` (array or tensor).
    conv
        How a conv kernel becomes matrices: ``"slices"`` (default) or ``"unfold"`` (see
        :func:`empirical_spectral_density`).
    min_evals
        Fewest non-zero eigenvalues to fit (at least 10; default
        :data:`DEFAULT_MIN_EVALS`).

    Returns
    -------
    SpectralFit
        ``alpha``, ``xmin``, ``n_tail``, ``n_evals``, ``ks_distance``,
        ``standard_error``, ``lambda_max``, ``conv``.

    Raises
    ------
    TypeError
        If ``weight`` is not an array or tensor, or ``min_evals`` not an integer.
    ValueError
        As :func:`empirical_spectral_density`, if ``min_evals < 10``, or if the ESD has
        fewer than ``min_evals`` eigenvalues or too few distinct ones to choose a tail.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> lam = rng.pareto(2.0, 300) + 1.0  # a density lambda^-3 above 1
    >>> u, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    >>> fit = esd_alpha(u * np.sqrt(300 * lam))  # W^T W / N has eigenvalues lam
    >>> abs(fit.alpha - 3.0) < 3 * fit.standard_error
    True
    """
    min_evals = _validate.integer(min_evals, "min_evals", 10)
    evals = empirical_spectral_density(weight, conv=conv)
    return _tail_fit(evals, min_evals, conv)


def _tail_fit(evals: np.ndarray, min_evals: int, conv: str) -> SpectralFit:
    """Fit the tail of the sorted, non-zero eigenvalues ``evals`` (see :func:`esd_alpha`)."""
    if evals.size < min_evals:
        raise ValueError(f"weight has {evals.size} non-zero eigenvalues, fewer than "
                         f"min_evals = {min_evals}: too few to fit a tail")
    if np.unique(evals).size < 3:
        raise ValueError(f"weight's ESD has {np.unique(evals).size} distinct eigenvalues: "
                         "too few to choose the start of a tail")
    import powerlaw

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # powerlaw's xmin scan evaluates candidate tails of 1-2 points, whose likelihoods
        # divide by zero; those candidates lose on the KS distance and are harmless.
        # powerlaw 2.0 also reads its own deprecated ``sigma`` inside that scan.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", "Standard error for the MLE", DeprecationWarning)
        fit = powerlaw.Fit(evals, xmax=None, verbose=False,
                           parameter_ranges={"alpha": list(ALPHA_RANGE)})
        law = fit.power_law
        alpha, ks, err = float(law.alpha), float(law.D), float(law.standard_err)
    if not math.isfinite(alpha):
        raise ValueError("the power-law fit of the ESD failed (no finite alpha)")
    return SpectralFit(alpha=alpha, xmin=float(fit.xmin), n_tail=int(fit.n_tail),
                       n_evals=int(evals.size), ks_distance=ks, standard_error=err,
                       lambda_max=float(evals[-1]), conv=conv)


_SPECTRA_COLUMNS = ("name", "layer_depth", "shape", "n_evals", "alpha", "xmin", "n_tail",
                    "ks_distance", "standard_error", "lambda_max", "note")


def layer_spectra(model: nn.Module, *, conv: str = "slices",
                  min_evals: int = DEFAULT_MIN_EVALS) -> pd.DataFrame:
    """Fit :func:`esd_alpha` to every conv/linear weight of a model: one row per layer.

    The spectral counterpart of ``weight_layers(analyze(model))`` without the box counts:
    the rows and ``layer_depth`` are those of :func:`~fractalnb.training.analyze`.

    Parameters
    ----------
    model
        Any :class:`torch.nn.Module` with at least one conv or linear weight.
    conv, min_evals
        As in :func:`esd_alpha`.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``layer_depth``, ``shape``, ``n_evals``, ``alpha``, ``xmin``,
        ``n_tail``, ``ks_distance``, ``standard_error``, ``lambda_max`` and ``note``
        (empty, or why ``alpha`` is NaN: too few eigenvalues, an all-zero weight).

    Raises
    ------
    TypeError
        If ``model`` is not a module, or an option has the wrong type.
    ValueError
        If the model has no conv/linear weight, a weight is not finite, or an option has a
        bad value.

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Conv2d(8, 16, 3), nn.Flatten(), nn.Linear(64, 4))
    >>> layer_spectra(net)[["name", "n_evals", "note"]].to_dict("records")[1]
    {'name': '2.weight', 'n_evals': 4, 'note': '4 eigenvalues, fewer than min_evals = 50'}
    """
    _validate.module(model, "model")
    _validate.choice(conv, "conv", _CONV_VIEWS)
    min_evals = _validate.integer(min_evals, "min_evals", 10)
    modules = dict(model.named_modules())
    seen: dict[str, int] = {}
    rows = []
    for name, param in model.named_parameters():
        owner, _, role = name.rpartition(".")
        if not isinstance(modules[owner], (nn.modules.conv._ConvNd, nn.Linear, nn.Bilinear)):
            continue
        depth = seen.setdefault(owner, len(seen))
        if role != "weight" or param.ndim < 2:
            continue
        if param.is_meta:
            raise ValueError(f"parameter {name!r} is on the 'meta' device (shape only)")
        row = {"name": name, "layer_depth": depth,
               "shape": tuple(int(s) for s in param.shape), "n_evals": 0}
        try:
            evals = empirical_spectral_density(param.detach(), conv=conv)
        except ValueError as error:
            if "all zero" not in str(error):
                raise ValueError(f"parameter {name!r}: {error}") from None
            rows.append({**row, "note": "all-zero weight: no spectrum"})
            continue
        row["n_evals"] = int(evals.size)
        try:
            fit = _tail_fit(evals, min_evals, conv).to_dict()
        except ValueError:
            note = (f"{evals.size} eigenvalues, fewer than min_evals = {min_evals}"
                    if evals.size < min_evals else "too few distinct eigenvalues")
            rows.append({**row, "note": note})
            continue
        fit.pop("conv")
        rows.append({**row, **fit, "note": ""})
    if not rows:
        raise ValueError(f"model ({type(model).__name__}) has no conv or linear weight")
    table = pd.DataFrame(rows).reindex(columns=list(_SPECTRA_COLUMNS))
    table["note"] = table["note"].fillna("")
    for column in ("n_tail",):
        table[column] = table[column].astype("Int64")
    return table
