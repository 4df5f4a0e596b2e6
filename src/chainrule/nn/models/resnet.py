"""ResNet-18 and ResNet-34 (He et al., 2015) with torchvision's module names, parameter and buffer names,
shapes and initialisation: a state dict of torchvision's ``resnet18`` exported to safetensors
(``safetensors.torch.save_file(model.state_dict(), path)``) loads with ``load_state_dict(strict=True)`` and
gives the same logits."""
from ... import serialization
from ..container import Sequential
from ..module import Module
from ..modules import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU
from .. import init


def conv3x3(in_planes, out_planes, stride=1):
    return Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


# The ReLUs are not in place (torchvision's are): chainrule's in-place ops keep a copy for the graph, so
# out of place is faster here; the values are the same.
class BasicBlock(Module):
    """Two 3x3 convolutions with batch norm; the input is added back (through ``downsample``, a 1x1
    convolution and batch norm, when the shape changes) before the last ReLU."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = BatchNorm2d(planes)
        self.relu = ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(Module):
    """conv1 (7x7, stride 2), bn1, relu, maxpool, layer1..layer4 (stages of ``block``), avgpool, fc."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False):
        super().__init__()
        if len(layers) != 4 or not all(isinstance(n, int) and n > 0 for n in layers):
            raise ValueError(f"ResNet: layers must be 4 positive block counts (e.g. [2, 2, 2, 2]), got {layers}")
        if not isinstance(num_classes, int) or num_classes <= 0:
            raise ValueError(f"ResNet: num_classes must be a positive int, got {num_classes!r}")
        self.inplanes = 64
        self.conv1 = Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(self.inplanes)
        self.relu = ReLU()
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(512 * block.expansion, num_classes)
        for m in self.modules():  # torchvision's initialisation (fc keeps Linear's default)
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, BatchNorm2d):
                init.constant_(m.weight, 1)
                init.constant_(m.bias, 0)
        if zero_init_residual:  # each residual branch starts as zero, so each block starts as the identity
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                    BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return Sequential(*layers)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"ResNet expects images of shape (N, 3, H, W), got input of shape {list(x.shape)}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _build(name, layers, weights, pretrained, kwargs):
    if pretrained:
        raise ValueError(f"{name}(pretrained=True): chainrule downloads nothing. Export torchvision's weights once "
                         f"in PyTorch with safetensors.torch.save_file(torchvision.models.{name}(weights='DEFAULT')"
                         f".state_dict(), '{name}.safetensors') and pass weights='{name}.safetensors'")
    model = ResNet(BasicBlock, layers, **kwargs)
    if weights is not None:
        state = serialization.load(weights) if isinstance(weights, (str, bytes)) or hasattr(weights, "__fspath__") \
            else weights
        model.load_state_dict(state, strict=True)
    return model


def resnet18(num_classes=1000, *, weights=None, pretrained=False, zero_init_residual=False):
    """ResNet-18 with torchvision's names and initialisation. ``weights``: a state dict, or the path of a
    safetensors file holding one (e.g. torchvision's weights exported from PyTorch), loaded strictly."""
    return _build("resnet18", [2, 2, 2, 2], weights, pretrained,
                  dict(num_classes=num_classes, zero_init_residual=zero_init_residual))


def resnet34(num_classes=1000, *, weights=None, pretrained=False, zero_init_residual=False):
    """ResNet-34: resnet18's layout with [3, 4, 6, 3] blocks per stage."""
    return _build("resnet34", [3, 4, 6, 3], weights, pretrained,
                  dict(num_classes=num_classes, zero_init_residual=zero_init_residual))
