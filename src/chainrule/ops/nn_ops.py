"""Neural-network ops: activations, softmax/log_softmax, losses, normalisation, dropout, embedding.
Public through chainrule.nn.functional (PyTorch's names and defaults)."""

__all__ = []  # chainrule.<name>: the few PyTorch also has at top level (softmax, log_softmax, …)
FUNCTIONAL = []  # chainrule.nn.functional.<name>
TENSOR_METHODS = []
