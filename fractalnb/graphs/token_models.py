"""Small token models for 32×32 CIFAR-10 images: a Vision Transformer and an MLP-Mixer.

Part V compares the feature networks of three families: CNNs (:mod:`fractalnb.training.models`),
attention models and MLP models. This module builds small members of the latter two from
`timm`'s reference implementations (no pretrained weights, nothing is downloaded):

``"vit"``
    :class:`timm.models.vision_transformer.VisionTransformer` :cite:p:`dosovitskiy2021image`
    on ``patch_size × patch_size`` patches, ``depth`` pre-norm blocks of width ``width``,
    4 heads, MLP ratio 2, no class token (the logits read the mean token).
``"mixer"``
    :class:`timm.models.mlp_mixer.MlpMixer` :cite:p:`tolstikhin2021mlpmixer`, ``depth``
    mixer blocks of width ``width``.

Both expose their blocks as ``model.blocks``, whose outputs ``(B, tokens, width)`` are
the layers analysed by :func:`fractalnb.graphs.default_layers`.

Examples
--------
>>> import torch
>>> from fractalnb.graphs import build_token_model
>>> model = build_token_model("vit", width=32, depth=2)
>>> model(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

from torch import nn

from .. import _validate

__all__ = [
    "TOKEN_MODELS",
    "build_token_model",
]


TOKEN_MODELS = ("vit", "mixer")
"""Names accepted by :func:`build_token_model`."""


_MAX_WEIGHTS = 1 << 28
"""The most weights (about 2.7e8, 1 GiB in float32) a token model may have."""


def build_token_model(
    name: str,
    *,
    width: int = 48,
    depth: int = 4,
    patch_size: int = 8,
    num_heads: int = 4,
    num_classes: int = 10,
    image_size: int = 32,
) -> nn.Module:
    """Build a small ViT or MLP-Mixer for CIFAR-sized images, initialised from torch's RNG.

    Parameters
    ----------
    name
        ``"vit"`` or ``"mixer"``.
    width
        Token (embedding) dimension: the number of channels ``D`` of every block.
    depth
        Number of blocks.
    patch_size
        Side of the square patches; must divide ``image_size``.
    num_heads
        Attention heads (ViT only); must divide ``width``.
    num_classes
        Number of logits.
    image_size
        Side of the square input images.

    Returns
    -------
    torch.nn.Module
        In training mode, on the CPU; ``model.blocks`` holds the ``depth`` blocks.

    Raises
    ------
    TypeError
        For a size that is not an integer, or a ``name`` that is not a string.
    ValueError
        For an unknown ``name``, a size ``< 1``, an inconsistent size (named), or a model of
        more than 2^28 weights.

    Examples
    --------
    >>> len(build_token_model("mixer", depth=3).blocks)
    3
    """
    name = _validate.choice(name, "name", TOKEN_MODELS)
    for value, label in ((width, "width"), (depth, "depth"), (patch_size, "patch_size"),
                         (num_heads, "num_heads"), (num_classes, "num_classes"),
                         (image_size, "image_size")):
        _validate.integer(value, label, minimum=1)
    if image_size % patch_size:
        raise ValueError(f"patch_size={patch_size} must divide image_size={image_size}")
    tokens = (image_size // patch_size) ** 2
    # about 8 width^2 per block (attention, MLP ratio 2; the Mixer's channel MLP is larger),
    # tokens^2 per Mixer block, the patch embedding and the head
    weights = (depth * (12 * width**2 + 2 * tokens**2) + 3 * patch_size**2 * width
               + num_classes * width)
    _validate.budget(weights, "width, depth, patch_size, image_size and num_classes",
                     _MAX_WEIGHTS, "weights")
    if name == "vit":
        if width % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide width={width}")
        from timm.models.vision_transformer import VisionTransformer

        return VisionTransformer(img_size=image_size, patch_size=patch_size, embed_dim=width,
                                 depth=depth, num_heads=num_heads, mlp_ratio=2.0,
                                 num_classes=num_classes, global_pool="avg", class_token=False)
    from timm.models.mlp_mixer import MlpMixer

    return MlpMixer(img_size=image_size, patch_size=patch_size, embed_dim=width,
                    num_blocks=depth, num_classes=num_classes)
