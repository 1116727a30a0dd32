"""The book's figures: one style and the figure helpers of every chapter.

Holds the style, figures of weights as images and coverings, of scaling (log-log plots, local
slopes, null comparisons, DSI), of training runs, and the tables of the page.

Every public name of the subpackage is importable from it directly (``from fractalnb.plotting
import ...``); its modules are imported on first use (lazy imports, as scikit-image does), so
importing the subpackage itself is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["images", "scaling", "style", "tables", "training"],
    submod_attrs={
        "images": [
            "finest_covering_scale",
            "image_grid",
            "plot_box_cover",
            "plot_segmentation",
            "plot_weights",
        ],
        "scaling": ["plot_dsi", "plot_local_slopes", "plot_loglog", "plot_null_comparison"],
        "style": ["FIGURE_WIDTH", "figure_size", "set_style"],
        "tables": ["format_number", "show_table"],
        "training": ["plot_dimension_by_depth", "plot_dimension_over_epochs", "plot_history"],
    },
)
