"""Random networks on the sphere: Part IV of the book (chapter 10).

Holds activations and their kernels, the kernel kappa and its derivatives, the Kac-Rice theory
of excursion sets, sampling networks and isotropic fields on the sphere, and the Monte Carlo
experiments.

Every public name of the subpackage is importable from it directly (``from
fractalnb.random_networks import ...``); its modules are imported on first use (lazy imports,
as scikit-image does), so importing the subpackage itself is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=[
        "activations",
        "experiments",
        "kernels",
        "sampling",
        "spectrum",
        "sphere",
        "theory",
    ],
    submod_attrs={
        "activations": ["ACTIVATION_NAMES", "Activation", "activation"],
        "experiments": [
            "boundary_lengths",
            "compare_with_theory",
            "excursion_dimensions",
            "field_dimensions",
            "level_set_calibration",
            "mean_ci",
            "network_fields",
        ],
        "kernels": [
            "RegularityIndex",
            "gamma_w",
            "kappa",
            "kappa_depth",
            "kappa_fixed_point",
            "kappa_prime_one",
            "kappa_sequence",
            "regularity_index",
            "second_moment",
        ],
        "sampling": [
            "RandomNetworks",
            "empirical_covariance",
            "great_circle_points",
            "network_seed",
            "sample_networks",
            "sample_outputs",
        ],
        "spectrum": [
            "angular_power_spectrum",
            "limiting_fields",
            "limiting_spectrum",
            "sample_isotropic_field",
        ],
        "sphere": [
            "SphereGrid",
            "boundary_length",
            "cap_grid",
            "geodesic_distance",
            "latlong_grid",
            "latlong_patch",
        ],
        "theory": ["expected_boundary_length", "expected_boundary_volume", "fractal_dimension"],
    },
)
