"""chainrule.linalg: PyTorch's torch.linalg names (norm, vector_norm, inv, det, slogdet, solve, cholesky,
eigh, qr, svd, matrix_power, …). The ops are declared in chainrule/ops/linalg.py (and norms in
ops/reduction.py); this module only gathers them."""
from .ops import linalg as _linalg, reduction as _reduction

for _module in (_linalg, _reduction):
    for _name in getattr(_module, "LINALG", ()):
        globals()[_name] = getattr(_module, _name)
