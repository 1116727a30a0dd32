"""fractalnb: the fractal and self-similar geometry of deep neural networks.

The package behind the book *Fractal Geometry of Deep Networks*. Its subpackages follow the
book's parts, one concept per module:

- :mod:`fractalnb.geometry` — Parts I–II: analytic fractals, the fractal transformation
  :math:`T_r`, occupancy rules, box counts and the box-counting dimension, discrete scale
  invariance, null models;
- :mod:`fractalnb.symmetry` — Part II: neuron permutations and intertwiner rescalings;
- :mod:`fractalnb.training` — Part III: CIFAR-10, the models, training and its cache, and
  :func:`~fractalnb.training.analysis.analyze` for the layers of any module;
- :mod:`fractalnb.random_networks` — Part IV: random networks on the sphere;
- :mod:`fractalnb.graphs` — Part V: box covering of graphs, feature networks, SS_rate and the
  self-similarity constraint;
- :mod:`fractalnb.plotting` — the book's figures;
- :mod:`fractalnb.profiles`, :mod:`fractalnb.paths`, :mod:`fractalnb.environment` — the
  quick/full switch, where data and caches live, what a run ran on.

The names below are the package's short list, importable from the top level
(``from fractalnb import box_dimension``); everything else is imported from its part
(``from fractalnb.geometry import dsi_test``). All imports are lazy: ``import fractalnb`` or
``import fractalnb.profiles`` loads neither torch nor any subpackage until a name is used.

Examples
--------
>>> import fractalnb
>>> from fractalnb import box_dimension
>>> from fractalnb.geometry import sierpinski_carpet
>>> carpet = sierpinski_carpet(4)
>>> round(box_dimension(carpet.mask, scales=carpet.matched_scales()).dimension, 4)
1.8928
"""

import lazy_loader as _lazy

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=[
        "dynamics",
        "environment",
        "geometry",
        "graphs",
        "paths",
        "plotting",
        "profiles",
        "random_networks",
        "symmetry",
        "training",
    ],
    submod_attrs={
        "geometry.transform": ["fractal_transform", "upsample"],
        "geometry.occupancy_rules": ["occupancy"],
        "geometry.boxcount": ["box_counts", "box_dimension"],
        "geometry.fit": ["fit_dimension", "local_slopes"],
        "geometry.dsi": ["dsi_test"],
        "geometry.null_models": ["null_dimensions", "compare_to_null"],
        "symmetry.neurons": ["permute_neurons", "rescale_neurons", "function_preservation"],
        "training.analysis": ["analyze"],
        "training.data": ["load_cifar10"],
        "training.cache": ["trained_model"],
        "random_networks.kernels": ["kappa"],
        "random_networks.sampling": ["sample_networks"],
        "graphs.boxcover": ["box_cover"],
        "graphs.self_similarity": ["ss_rate"],
        "dynamics.persistent_homology": ["ph_dimension"],
    },
)
__all__ = [*__all__, "__version__"]
