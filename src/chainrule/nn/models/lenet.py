"""lenet5(): LeNet-5 (LeCun et al., 1998) for small grey or colour images, sized for its input."""
from ..container import Sequential
from ..module import Module
from ..modules import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d
from ._activation import activation_factory


def _after(size, padding):
    """Height or width after a 5x5 convolution with ``padding`` and a 2x2 pooling."""
    return (size + 2 * padding - 4) // 2


def _paddings(size):
    """The convolutions' paddings for one input dimension: none for the original 32x32 input; the first
    convolution padded by 2 for MNIST's 28x28 (the common PyTorch version); both padded for small inputs
    such as the 8x8 digits, where an unpadded 5x5 kernel would not fit."""
    first = 0 if size >= 32 else 2
    second = 0 if _after(size, first) >= 10 else 2
    return first, second


class LeNet5(Module):
    """features: conv1 (6 maps, 5x5), activation, 2x2 pool, conv2 (16 maps, 5x5), activation, 2x2 pool;
    classifier: flatten, Linear(16 * h * w, 120), activation, Linear(120, 84), activation, Linear(84, classes)."""

    def __init__(self, num_classes=10, in_channels=1, input_size=28, activation="relu", pool="max"):
        super().__init__()
        height, width = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        if min(height, width) < 4:
            raise ValueError(f"lenet5(): input_size must be at least 4x4, got {height}x{width}")
        if pool not in ("max", "avg"):
            raise ValueError(f"lenet5(): pool must be 'max' or 'avg', got {pool!r}")
        make_activation = activation_factory("lenet5", activation)
        (p1h, p2h), (p1w, p2w) = _paddings(height), _paddings(width)
        Pool = MaxPool2d if pool == "max" else AvgPool2d
        self.input_size = (height, width)
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=(p1h, p1w)), make_activation(), Pool(2),
            Conv2d(6, 16, 5, padding=(p2h, p2w)), make_activation(), Pool(2))
        h, w = _after(_after(height, p1h), p2h), _after(_after(width, p1w), p2w)
        self.classifier = Sequential(
            Flatten(), Linear(16 * h * w, 120), make_activation(), Linear(120, 84), make_activation(),
            Linear(84, num_classes))

    def forward(self, x):
        if tuple(x.shape[-2:]) != self.input_size:
            raise ValueError(f"LeNet5 was built for {self.input_size[0]}x{self.input_size[1]} inputs "
                             f"(input_size={self.input_size}), got input of shape {list(x.shape)}; build it with "
                             f"lenet5(input_size={tuple(x.shape[-2:])})")
        return self.classifier(self.features(x))


def lenet5(num_classes=10, in_channels=1, input_size=28, activation="relu", pool="max"):
    """LeNet-5 for ``in_channels`` x ``input_size`` images (an int or (height, width)): 32 is the original
    layout (no padding), 28 (MNIST, the default) pads the first convolution by 2, and small inputs such as
    the 8x8 digits (``input_size=8``) pad both. ``activation="tanh", pool="avg"`` gives the 1998 flavour;
    the default ReLU and max pooling train faster. Returns a LeNet5 module (``features``, ``classifier``)."""
    return LeNet5(num_classes, in_channels, input_size, activation, pool)
