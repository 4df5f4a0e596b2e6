"""chainrule.nn: neural-network building blocks. ``functional`` holds the stateless ops (PyTorch's
torch.nn.functional); Modules, layers and losses as classes come with the training issue."""
from . import functional  # noqa: F401
