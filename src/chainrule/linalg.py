"""chainrule.linalg: PyTorch's torch.linalg names (norm, vector_norm, inv, det, slogdet, solve, cholesky,
eigh, qr, svd, matrix_power, …). The ops are declared in chainrule/ops/; each op module lists what
belongs here in LINALG."""
from . import ops as _ops

for _module in _ops.MODULES:
    for _name in getattr(_module, "LINALG", ()):
        globals()[_name] = getattr(_module, _name)
