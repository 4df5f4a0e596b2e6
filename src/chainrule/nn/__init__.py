"""chainrule.nn: neural-network building blocks with PyTorch's names. ``Module`` and ``Parameter`` are the
base; layers, activations and losses are Modules over ``functional`` (PyTorch's torch.nn.functional)."""
from . import functional  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict  # noqa: F401
from .modules import *  # noqa: F401,F403 - layers, activations and losses
from . import init  # noqa: F401
from . import utils, models  # noqa: F401
