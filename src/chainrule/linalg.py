"""chainrule.linalg: PyTorch's torch.linalg names (norm, vector_norm, inv, det, slogdet, solve, cholesky,
eigh, qr, svd, matrix_power, …). The ops are declared in chainrule/ops/; each op module lists what
belongs here in LINALG."""
from . import ops as _ops

for _module in _ops.MODULES:
    for _name in getattr(_module, "LINALG", ()):
        # an attribute linalg_<name> comes first: torch.linalg.norm is not torch.norm
        globals()[_name] = getattr(_module, "linalg_" + _name, None) or getattr(_module, _name)
