"""Activation arguments of the model builders: a name ("relu", "tanh", ...), a Module class, or a function
returning a new Module."""
from .. import modules

_NAMES = {"relu": modules.ReLU, "tanh": modules.Tanh, "sigmoid": modules.Sigmoid, "gelu": modules.GELU,
          "silu": modules.SiLU, "elu": modules.ELU, "leaky_relu": modules.LeakyReLU, "selu": modules.SELU,
          "mish": modules.Mish, "softplus": modules.Softplus, "identity": modules.Identity}


def activation_factory(builder, activation):
    """A function that makes a new activation Module each time it is called."""
    if isinstance(activation, str):
        factory = _NAMES.get(activation.lower())
        if factory is None:
            raise ValueError(f"{builder}(): unknown activation {activation!r}; use one of {sorted(_NAMES)}, a Module "
                             "class such as chainrule.nn.ReLU, or a function returning a Module")
        return factory
    if callable(activation):
        return activation
    raise TypeError(f"{builder}(): activation must be a name, a Module class or a function returning a Module, not "
                    f"{type(activation).__name__}")
