"""fractalnb.training.models: the three CIFAR-10 networks build with the right sizes and shapes."""

import pytest
import torch
from torch import nn
from torchvision.models.resnet import BasicBlock

from fractalnb.training import build_model, parameter_count, parameter_table

MODEL_NAMES = ("resnet18", "vgg16", "custom_cnn")


def _resnet18_count(w: int, k: int = 10) -> int:
    """Parameters of the CIFAR ResNet-18 of width w, counted by hand from its layers."""
    conv = lambda c_in, c_out, s: c_in * c_out * s * s  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731
    total = conv(3, w, 3) + bn(w)  # stem
    c_in = w
    for stage, c in enumerate([w, 2 * w, 4 * w, 8 * w]):
        for block in range(2):
            total += conv(c_in, c, 3) + bn(c) + conv(c, c, 3) + bn(c)
            if block == 0 and stage > 0:  # 1x1 stride-2 shortcut
                total += conv(c_in, c, 1) + bn(c)
            c_in = c
    return total + 8 * w * k + k


def _vgg16_count(w: int, k: int = 10) -> int:
    cfg = [1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 8, 8, 8]
    total, c_in = 0, 3
    for m in cfg:
        c = m * w
        total += c_in * c * 9 + c + 2 * c  # conv with bias, BatchNorm
        c_in = c
    return total + (8 * w) * (8 * w) + 8 * w + 8 * w * k + k


def _custom_cnn_count(w: int, k: int = 10) -> int:
    convs = 3 * w * 9 + w * 2 * w * 9 + 2 * w * 4 * w * 9
    bns = 2 * (w + 2 * w + 4 * w)
    return convs + bns + 64 * w * 8 * w + 8 * w + 8 * w * k + k


def test_standard_parameter_counts():
    assert parameter_count(build_model("resnet18")) == 11_173_962  # the usual CIFAR figure
    assert parameter_count(build_model("vgg16")) == 14_990_922
    assert parameter_count(build_model("custom_cnn")) == 620_586
    assert _resnet18_count(64) == 11_173_962
    assert _vgg16_count(64) == 14_990_922
    assert _custom_cnn_count(32) == 620_586


@pytest.mark.parametrize("width", [4, 8, 16])
def test_parameter_counts_at_other_widths_match_the_formulas(width):
    assert parameter_count(build_model("resnet18", width=width)) == _resnet18_count(width)
    assert parameter_count(build_model("vgg16", width=width)) == _vgg16_count(width)
    assert parameter_count(build_model("custom_cnn", width=width)) == _custom_cnn_count(width)
    assert parameter_count(build_model("custom_cnn", width=width, num_classes=3)) == (
        _custom_cnn_count(width, 3))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_shapes_on_32x32(name):
    torch.manual_seed(0)
    model = build_model(name, width=4, num_classes=7)
    out = model(torch.randn(3, 3, 32, 32))
    assert out.shape == (3, 7)
    assert torch.isfinite(out).all()


def test_resnet18_standard_forward_and_cifar_stem():
    model = build_model("resnet18").eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, nn.Identity)
    assert all(isinstance(b, BasicBlock) for b in model.layer1)
    assert model.fc.in_features == 512


def test_vgg16_has_thirteen_batchnormed_convs_and_a_cifar_classifier():
    model = build_model("vgg16")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) == 13 and len(bns) == 13
    assert [(m.in_features, m.out_features) for m in linears] == [(512, 512), (512, 10)]


def test_seeded_builds_are_reproducible():
    torch.manual_seed(5)
    a = build_model("custom_cnn", width=4)
    torch.manual_seed(5)
    b = build_model("custom_cnn", width=4)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name


def test_parameter_table_sums_to_the_total():
    models = {name: build_model(name, width=4) for name in MODEL_NAMES}
    table = parameter_table(models)
    parts = table[["conv", "linear", "batchnorm", "other"]].sum(axis=1)
    assert (parts == table["parameters"]).all()
    assert table.loc["vgg16", "conv layers"] == 13 and table.loc["resnet18", "conv layers"] == 20
    assert table.loc["custom_cnn", "linear layers"] == 2
    with pytest.raises(TypeError, match="models"):
        parameter_table({"x": 3})
    with pytest.raises(ValueError, match="models"):
        parameter_table({})


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"name": "resnet50"}, "name"), ({"name": "vgg16", "width": 0}, "width"),
     ({"name": "vgg16", "num_classes": 0}, "num_classes"),
     ({"name": "resnet18", "width": 10**5}, "width"),  # 2.7e13 parameters: refused up front
     ({"name": "custom_cnn", "num_classes": 10**12}, "num_classes")],
)
def test_bad_values_raise_value_errors(kwargs, word):
    with pytest.raises(ValueError, match=word):
        build_model(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"name": 3}, "name"), ({"name": "vgg16", "width": 2.5}, "width"),
     ({"name": "vgg16", "width": 8.0}, "width"), ({"name": "vgg16", "num_classes": True},
                                                  "num_classes")],
)
def test_wrong_types_raise_type_errors(kwargs, word):
    with pytest.raises(TypeError, match=word):
        build_model(**kwargs)


def test_parameter_count_checks_its_arguments():
    layer = nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    assert parameter_count(layer, trainable_only=True) == 6
    with pytest.raises(TypeError, match="model"):
        parameter_count("resnet18")
    with pytest.raises(TypeError, match="trainable_only"):
        parameter_count(layer, trainable_only="yes")
