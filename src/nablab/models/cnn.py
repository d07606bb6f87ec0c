"""Convolutional networks for CIFAR-10-sized images (NCHW, 3×32×32 by default)."""

from __future__ import annotations

from .. import nn


def _conv_block(cin, cout, batch_norm) -> list:
    """3×3 convolution [→ BatchNorm] → ReLU, as ``(class, args, kwargs)``."""
    layers = [(nn.Conv2d, (cin, cout, 3), {"padding": 1, "bias": not batch_norm})]
    if batch_norm:
        layers.append((nn.BatchNorm2d, (cout,), {}))
    return [*layers, (nn.ReLU, (), {})]


def _build(plan) -> list:
    return [cls(*args, **kwargs) for cls, args, kwargs in plan]


class SmallCNN(nn.Sequential):
    """Two blocks of two 3×3 convolutions (padding 1, ReLU) each followed by 2×2 max pooling,
    then a classifier: ``widths=(32, 64)`` on 32×32 inputs gives 64·8·8 = 4,096 features.

    With ``hidden=None`` the features go straight to the classes (106k parameters: the quick
    model); ``hidden=256`` adds a 256-unit layer (the benchmark's network, 1.1M parameters).
    """

    @staticmethod
    def layer_plan(in_channels: int = 3, num_classes: int = 10, widths=(32, 64), hidden: int | None = None,
                   batch_norm: bool = False, image_size: int = 32) -> list:
        """The layers the constructor builds, in order, as ``(class, args, kwargs)`` (nothing is allocated)."""
        layers, cin = [], in_channels
        for width in widths:
            layers += _conv_block(cin, width, batch_norm) + _conv_block(width, width, batch_norm)
            layers.append((nn.MaxPool2d, (2,), {}))
            cin = width
        side = image_size // 2 ** len(widths)
        features = cin * side * side
        layers.append((nn.Flatten, (), {}))
        if hidden:
            layers += [(nn.Linear, (features, hidden), {}), (nn.ReLU, (), {}), (nn.Linear, (hidden, num_classes), {})]
        else:
            layers.append((nn.Linear, (features, num_classes), {}))
        return layers

    def __init__(self, in_channels: int = 3, num_classes: int = 10, widths=(32, 64), hidden: int | None = None,
                 batch_norm: bool = False, image_size: int = 32):
        super().__init__(*_build(self.layer_plan(in_channels, num_classes, widths, hidden, batch_norm, image_size)))
        self.config = dict(in_channels=in_channels, num_classes=num_classes, widths=list(widths), hidden=hidden,
                           batch_norm=batch_norm, image_size=image_size)


class VGGNet(nn.Sequential):
    """The UvA report's VGG-style network for 32×32 images:

    conv64 – pool – conv128 – pool – conv256 – conv256 – pool – conv512 – conv512 – pool –
    conv512 – conv512 – pool – linear(512 → classes), every conv 3×3 / stride 1 / padding 1
    followed by BatchNorm and ReLU, every pool a 3×3 max pool with stride 2 and padding 1
    (32 → 16 → 8 → 4 → 2 → 1).
    """

    PLAN = (64, "pool", 128, "pool", 256, 256, "pool", 512, 512, "pool", 512, 512, "pool")

    @classmethod
    def layer_plan(cls, in_channels: int = 3, num_classes: int = 10) -> list:
        """The layers the constructor builds, in order, as ``(class, args, kwargs)`` (nothing is allocated)."""
        layers, cin = [], in_channels
        for item in cls.PLAN:
            if item == "pool":
                layers.append((nn.MaxPool2d, (3,), {"stride": 2, "padding": 1}))
            else:
                layers += _conv_block(cin, item, batch_norm=True)
                cin = item
        return layers + [(nn.Flatten, (), {}), (nn.Linear, (cin, num_classes), {})]

    def __init__(self, in_channels: int = 3, num_classes: int = 10):
        super().__init__(*_build(self.layer_plan(in_channels, num_classes)))
        self.config = dict(in_channels=in_channels, num_classes=num_classes)
