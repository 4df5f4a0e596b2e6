"""chainrule.optim: optimizers with PyTorch's API and update formulas, and learning-rate schedulers.

    import chainrule.optim as optim
    opt = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    loss.backward(); opt.step(); opt.zero_grad()
"""
from .optimizer import Optimizer, required  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam  # noqa: F401
from .adamw import AdamW  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from . import lr_scheduler  # noqa: F401

__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
