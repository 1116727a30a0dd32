"""The work budgets of Part IV, stated once: past them a function refuses up front.

Each limit lies far above what the book runs (depth 8, quadrature order 24, 4,000 networks,
ℓ_max = 3,072), and far below what would run for minutes or exhaust memory. Array sizes
are bounded by the package budget ``MAX_ELEMENTS``, 2^30 (about 10^9) elements.
"""

MAX_DEPTH = 1000
"""The deepest network (or iterate κ_L of the kernel) any function computes."""

MAX_ORDER = 48
"""The most Gauss–Legendre nodes per panel of a quadrature."""

MAX_NETWORKS = 10**6
"""The most networks (or sampled fields) one call draws."""

MAX_SPHERE_DIM = 300
"""The highest sphere dimension d of the Kac–Rice formula (beyond, Γ overflows a double)."""

MAX_TERMS = 10**10
"""The most quadrature terms (nodes × multipoles) of an angular power spectrum."""
