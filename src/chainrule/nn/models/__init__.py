"""chainrule.nn.models: ready-made networks. ``mlp`` and ``lenet5`` for small images such as the embedded
digits, ``resnet18`` (and ``resnet34``) with torchvision's parameter and buffer names, so a torchvision state
dict exported to safetensors loads unchanged."""
from .mlp import mlp  # noqa: F401
from .lenet import lenet5  # noqa: F401
from .resnet import BasicBlock, ResNet, resnet18, resnet34  # noqa: F401

__all__ = ["mlp", "lenet5", "BasicBlock", "ResNet", "resnet18", "resnet34"]
