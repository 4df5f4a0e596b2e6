"""mlp(sizes): a multilayer perceptron as a Sequential of Linear layers with an activation between them."""
from ..container import Sequential
from ..module import Module
from ..modules import Dropout, Linear
from ._activation import activation_factory


def mlp(sizes, activation="relu", bias=True, dropout=0.0):
    """``sizes = [in, hidden..., out]``: Linear(in, h1), activation, ..., Linear(h_last, out), with no
    activation after the last layer (it gives logits). ``activation`` is a name ("relu", "tanh", "sigmoid",
    "gelu", ...), a Module class or a function returning a Module; ``dropout > 0`` adds Dropout(p) after each
    hidden activation. Layers are numbered as in any Sequential: 0 (Linear), 1 (activation), 2 (Linear), ..."""
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp(): sizes must list at least an input and an output size, got {sizes}")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"mlp(): sizes must be positive ints, got {sizes}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"mlp(): dropout probability must be in [0, 1), got {dropout}")
    make_activation = activation_factory("mlp", activation)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Linear(n_in, n_out, bias=bias))
        if i < len(sizes) - 2:
            act = make_activation()
            if not isinstance(act, Module):
                raise TypeError(f"mlp(): activation must make a Module, got {type(act).__name__}")
            layers.append(act)
            if dropout:
                layers.append(Dropout(dropout))
    return Sequential(*layers)
