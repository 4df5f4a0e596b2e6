"""torch.linalg's decompositions and solvers: inv, det, slogdet, solve, cholesky, eigh, svd, qr, matrix_power.

A decomposition with several outputs (eigh, svd, qr, slogdet) is one primitive whose output packs them
along the second-to-last dim (eigh: eigenvalues on top of the eigenvectors, (..., n+1, n)); the public
function slices the pieces out, so they are views of one node and the rules see all upstream gradients
at once. Symmetric-input functions (cholesky, eigh) work on the symmetric part (A + Aᵀ)/2, which is A for
the symmetric matrices they are meant for: their gradients are symmetric, as PyTorch's. Eigenvectors and
singular vectors are only defined up to sign; chainrule makes the largest-magnitude entry of each
eigenvector / left singular vector positive, so results do not depend on the LAPACK build.
"""
import collections

import numpy as np

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, apply2, S, arg
from .linalg import matmul  # before .einsum: ops register in the order they did in one linalg.py
from .einsum import _eye

__all__ = ["det", "logdet", "slogdet", "inverse", "matrix_power"]
TENSOR_METHODS = ["det", "logdet", "slogdet", "inverse", "matrix_power"]
LINALG = ["inv", "det", "slogdet", "solve", "cholesky", "eigh", "eigvalsh", "qr", "svd", "svdvals",
          "matrix_power", "LinAlgError"]


class LinAlgError(RuntimeError):
    """A matrix a decomposition or solver cannot handle (singular, not positive-definite): torch.linalg.LinAlgError."""


LinAlgError.__module__ = "chainrule.linalg"


# ------------------------------------------------------------------------------------- shared helpers
def _tril(n, k=0):
    return np.tri(n, n, k, dtype=bool)


def _lapack(name, compute, problem):
    """Run a NumPy linalg call; its LinAlgError (singular, not positive-definite) becomes ours, naming the op."""
    try:
        return compute()
    except np.linalg.LinAlgError as error:
        raise LinAlgError(f"{name}: {problem} (NumPy: {error})") from None


def _check_matrix(name, A, arg="A", square=True):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be a Tensor, not {type(A).__name__}")
    if A._data.dtype.kind != "f":
        raise DTypeError(f"{name}: Expected a floating point tensor as input. Got {A.dtype}; convert it with "
                         ".float() or .double() first")
    if A._data.ndim < 2:
        raise ShapeError(f"{name}: The input tensor {arg} must have at least 2 dimensions (got shape {shape_str(A.shape)})")
    if square and A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{name}: {arg} must be batches of square matrices, but they are {A.shape[-2]} by "
                         f"{A.shape[-1]} matrices (shape {shape_str(A.shape)})")


def _constant_zero(t):
    """Whether an upstream gradient is exactly zero and does not depend on anything (an output the loss did
    not use): its terms can be skipped, which keeps eigenvalue-only gradients finite at repeated eigenvalues."""
    return not t.requires_grad and not np.any(t._data)


def _diag_embed(v):
    return v.unsqueeze(-2) * _eye(v.shape[-1])


def _diagonal(x):
    return (x * _eye(x.shape[-1])).sum(-1)


def _sym(x):
    return (x + x.mT) * 0.5


def _fix_sign(xp, U, Vh=None):
    """Make the largest-magnitude entry of each column of U positive (and flip the matching rows of Vh)."""
    if U.shape[-2] == 0 or U.shape[-1] == 0:
        return U, Vh
    index = xp.argmax(xp.abs(U), axis=-2)[..., None, :]
    signs = xp.sign(xp.take_along_axis(U, index, axis=-2))
    signs = xp.where(signs == 0, 1, signs).astype(U.dtype)
    return U * signs, (Vh * xp.swapaxes(signs, -1, -2) if Vh is not None else None)


def _torch_fix_sign(torch, U, Vh=None):
    """_fix_sign in PyTorch, for the torch= equivalents of the registry test."""
    signs = torch.gather(U, -2, U.abs().argmax(-2, keepdim=True)).sign().detach()
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return U * signs, (Vh * signs.mT if Vh is not None else None)


def _solve(A, B):
    """A⁻¹ B for matrices B (batched, broadcasting): the differentiable solve primitive without checks."""
    return apply2(SOLVE, A, B)


def _wellcond(*shape, seed=0, shift=3.0):
    """A fixed well-conditioned (batch of) square matrix for samples: random plus shift·I."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    return arg(value=rng.standard_normal(shape) + shift * np.eye(n))


def _spd(*shape, seed=0):
    """A fixed symmetric positive-definite matrix (with small asymmetry: only the symmetric part matters)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    n = shape[-1]
    return arg(value=x @ np.swapaxes(x, -1, -2) + n * np.eye(n) + 0.1 * rng.standard_normal(shape))


def _separated(*shape, values, seed=0):
    """A fixed symmetric matrix Q diag(values) Qᵀ (well-separated eigenvalues), plus a small asymmetric part."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    a = q @ (np.asarray(values, dtype=float)[..., None] * np.swapaxes(q, -1, -2))
    return arg(value=a + 0.05 * rng.standard_normal(shape))


def _spread(*shape, values, seed=0):
    """A fixed matrix U diag(values) Vᵀ: well-separated singular values."""
    rng = np.random.default_rng(seed)
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    return arg(value=(u * np.asarray(values, dtype=float)[..., None, :]) @ np.swapaxes(v, -1, -2))


# ------------------------------------------------------------------------------------- inv, det, slogdet
_SINGULAR = "the input matrix is singular (its LU factorization has a zero pivot), so it has no inverse"

INV = defop("linalg_inv", lambda xp, A: _lapack("linalg.inv", lambda: xp.linalg.inv(A), _SINGULAR),
            vjp={"A": lambda g, out, A: -(out.mT @ g @ out.mT)},
            jvp={"A": lambda t, out, A: -(out @ t @ out)},
            display="LinalgInvExBackward0", torch=lambda torch, A: torch.linalg.inv(A),
            samples=[S(_wellcond(3, 3)), S(_wellcond(2, 3, 3, seed=1)), S(_wellcond(1, 1, seed=2))])


def inv(A):
    """torch.linalg.inv: the inverse of a (batch of) square matrix; LinAlgError if it is singular."""
    _check_matrix("linalg.inv", A)
    return apply(INV, A)


def inverse(input):
    """torch.inverse (the same as torch.linalg.inv)."""
    return inv(input)


def _inv_of(name, A):
    """inv(A) inside a backward rule, with an error that says which gradient needed it."""
    try:
        return apply(INV, A)
    except LinAlgError:
        raise LinAlgError(f"{name} backward: the matrix is singular, and this gradient is computed from its "
                          "inverse (the gradient of det at a singular matrix is not supported)") from None


def _det_vjp(g, out, A):
    return (g * out).unsqueeze(-1).unsqueeze(-1) * _inv_of("linalg.det", A).mT


def _det_jvp(t, out, A):
    return out * (_inv_of("linalg.det", A) * t.mT).sum((-2, -1))


DET = defop("linalg_det", lambda xp, A: xp.linalg.det(A),
            vjp={"A": _det_vjp}, jvp={"A": _det_jvp},
            display="LinalgDetBackward0", torch=lambda torch, A: torch.linalg.det(A),
            samples=[S(_wellcond(3, 3, seed=3)), S(_wellcond(2, 4, 4, seed=4)), S(_wellcond(1, 1, seed=5))])


def det(A):
    """torch.linalg.det / torch.det: the determinant of a (batch of) square matrix."""
    _check_matrix("linalg.det", A)
    return apply(DET, A)


def _slogdet_forward(xp, A):
    sign, logabsdet = xp.linalg.slogdet(A)
    return xp.stack([sign, logabsdet], axis=-1)


def _slogdet_vjp(g, out, A):
    return g[..., 1].unsqueeze(-1).unsqueeze(-1) * _inv_of("linalg.slogdet", A).mT


def _slogdet_jvp(t, out, A):
    from .shape import stack
    change = (_inv_of("linalg.slogdet", A) * t.mT).sum((-2, -1))
    return stack([change * 0, change], -1)


SLOGDET = defop("linalg_slogdet", _slogdet_forward, vjp={"A": _slogdet_vjp}, jvp={"A": _slogdet_jvp},
                display="LinalgSlogdetBackward0",
                torch=lambda torch, A: torch.stack(list(torch.linalg.slogdet(A)), -1),
                samples=[S(_wellcond(3, 3, seed=6)), S(_wellcond(2, 3, 3, seed=7, shift=-3.0)),
                         S(_wellcond(4, 4, seed=8, shift=2.0))])

SignLogAbsDet = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])
SignLogAbsDet.__module__ = "chainrule.return_types"


def slogdet(A):
    """torch.linalg.slogdet / torch.slogdet: (sign, logabsdet) with det = sign · exp(logabsdet), stable where
    det over- or underflows. The gradient flows through logabsdet."""
    _check_matrix("linalg.slogdet", A)
    packed = apply(SLOGDET, A)
    return SignLogAbsDet(packed[..., 0], packed[..., 1])


def logdet(input):
    """torch.logdet: log(det), nan where det < 0 and -inf where det == 0."""
    sign, logabsdet = slogdet(input)
    from .elementwise import where
    return where(sign < 0, float("nan"), logabsdet)


def matrix_power(A, n):
    """torch.linalg.matrix_power: A ** n for an integer n (negative n through inv(A)), by repeated squaring."""
    _check_matrix("linalg.matrix_power", A)
    if not isinstance(n, int) or isinstance(n, bool):
        if hasattr(n, "__index__"):
            n = n.__index__()
        else:
            raise TypeError(f"linalg.matrix_power: n must be an integer, not {type(n).__name__}")
    if n == 0:  # the identity, connected to A with a zero gradient (as PyTorch's clone().copy_())
        result = A.clone()
        result.copy_(make_tensor(np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape).copy()))
        return result
    if n < 0:
        A, n = inv(A), -n
    result = None
    while True:
        if n & 1:
            result = A if result is None else matmul(result, A)
        n >>= 1
        if not n:
            return result
        A = matmul(A, A)


# ----------------------------------------------------------------------------------------------- solve
SOLVE = defop("linalg_solve",
              lambda xp, A, B: _lapack("linalg.solve", lambda: xp.linalg.solve(A, B), _SINGULAR.replace(
                  "so it has no inverse", "so the system has no unique solution")),
              vjp={"A": lambda g, out, A, B: -(_solve(A.mT, g) @ out.mT),
                   "B": lambda g, out, A, B: _solve(A.mT, g)},
              jvp={"A": lambda t, out, A, B: _solve(A, -(t @ out)),
                   "B": lambda t, out, A, B: _solve(A, t)},
              display="LinalgSolveExBackward0", torch=lambda torch, A, B: torch.linalg.solve(A, B),
              samples=[S(_wellcond(3, 3, seed=9), (3, 2)), S(_wellcond(2, 3, 3, seed=10), (3, 1)),
                       S(_wellcond(3, 3, seed=11), (4, 3, 2)), S(_wellcond(2, 1, 2, 2, seed=12), (3, 2, 2))])


def solve(A, B, *, left=True, out=None):
    """torch.linalg.solve: X with A X = B (left=False: X A = B). B is a (batch of) vector(s) when it is 1-D or
    its shape is A's batch shape plus n, else a (batch of) matrix; batch dims broadcast."""
    if out is not None:
        raise TypeError("linalg.solve(): out= is not supported; assign the result instead")
    _check_matrix("linalg.solve", A)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve(): argument 'B' must be a Tensor, not {type(B).__name__}")
    if B._data.dtype != A._data.dtype:
        raise DTypeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {A.dtype} and "
                         f"B of type {B.dtype} instead")
    if B._data.ndim == 0:
        raise ShapeError("linalg.solve: B must have at least 1 dimension (a vector or a matrix)")
    n = A.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and B.shape == A.shape[:-1])
    shown_B = B.shape
    if vector:  # a column (n×1), as PyTorch does; left=False then needs n == 1
        B = B.unsqueeze(-1)
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
                         f"(A {shape_str(A.shape)}, B {shape_str(shown_B)}{', a vector' if vector else ''}): B's "
                         f"{'rows' if left else 'columns'} must number {n}")
    X = _checked_solve(A, B) if left else _checked_solve(A.mT, B.mT).mT
    return X.squeeze(-1) if vector else X


def _checked_solve(A, B):
    from ._shape_utils import broadcast_shapes
    broadcast_shapes("linalg.solve", A.shape[:-2], B.shape[:-2])
    return apply2(SOLVE, A, B)


# -------------------------------------------------------------------------------------------- cholesky
def _cholesky_forward(xp, A):
    return _lapack("linalg.cholesky", lambda: xp.linalg.cholesky((A + xp.swapaxes(A, -1, -2)) * 0.5),
                   "The factorization could not be completed because the input is not positive-definite")


def _cholesky_vjp(g, out, A):
    n = A.shape[-1]
    P = (out.mT @ g) * _tril(n)  # tril(Lᵀ ḡ)
    P = (P + (P * _tril(n, -1)).mT) * 0.5  # symmetric, with half the diagonal
    Y = _solve(out.mT, P)  # L⁻ᵀ P
    return _solve(out.mT, Y.mT).mT  # L⁻ᵀ P L⁻¹


def _cholesky_jvp(t, out, A):
    n = A.shape[-1]
    Z = _solve(out, _solve(out, _sym(t)).mT)  # L⁻¹ dA L⁻ᵀ
    return out @ (Z * _tril(n, -1) + Z * _eye(n) * 0.5)


CHOLESKY = defop("linalg_cholesky", _cholesky_forward, vjp={"A": _cholesky_vjp}, jvp={"A": _cholesky_jvp},
                 display="LinalgCholeskyExBackward0",
                 torch=lambda torch, A: torch.linalg.cholesky((A + A.mT) / 2),
                 samples=[S(_spd(3, 3, seed=13)), S(_spd(2, 4, 4, seed=14)), S(_spd(1, 1, seed=15))])


def cholesky(A, *, upper=False, out=None):
    """torch.linalg.cholesky: L (lower) with A = L Lᵀ for symmetric positive-definite A (upper=True: U = Lᵀ).
    Uses the symmetric part (A + Aᵀ)/2; LinAlgError if it is not positive-definite."""
    if out is not None:
        raise TypeError("linalg.cholesky(): out= is not supported; assign the result instead")
    _check_matrix("linalg.cholesky", A)
    L = apply(CHOLESKY, A)
    return L.mT if upper else L


# ------------------------------------------------------------------------------------------------ eigh
def _eigh_forward(xp, A):
    w, V = _lapack("linalg.eigh", lambda: xp.linalg.eigh((A + xp.swapaxes(A, -1, -2)) * 0.5),
                   "The algorithm failed to converge (is the input finite?)")
    V, _ = _fix_sign(xp, V)
    return xp.concatenate([w[..., None, :], V], axis=-2)


def _eigen_gap(w):
    """1 / (w_j - w_i) off the diagonal, 0 on it (the eigenvector rules' coefficients)."""
    n = w.shape[-1]
    gap = w.unsqueeze(-2) - w.unsqueeze(-1)
    return ~_eye(n) / (gap + _eye(n))


def _eigh_vjp(g, out, A):
    w, V = out[..., 0, :], out[..., 1:, :]
    gw, gV = g[..., 0, :], g[..., 1:, :]
    inner = _diag_embed(gw)
    if not _constant_zero(gV):  # skip for eigenvalue-only losses: finite at repeated eigenvalues
        inner = inner + _eigen_gap(w) * (V.mT @ gV)
    return _sym(V @ inner @ V.mT)


def _eigh_jvp(t, out, A):
    from .shape import cat
    w, V = out[..., 0, :], out[..., 1:, :]
    P = V.mT @ _sym(t) @ V
    return cat([_diagonal(P).unsqueeze(-2), V @ (_eigen_gap(w) * P)], -2)


def _torch_eigh(torch, A):
    w, V = torch.linalg.eigh((A + A.mT) / 2)
    return torch.cat([w.unsqueeze(-2), _torch_fix_sign(torch, V)[0]], -2)


EIGH = defop("linalg_eigh", _eigh_forward, vjp={"A": _eigh_vjp}, jvp={"A": _eigh_jvp},
             display="LinalgEighBackward0", torch=_torch_eigh,
             samples=[S(_separated(3, 3, values=[-1.0, 0.5, 2.0], seed=16)),
                      S(_separated(2, 4, 4, values=[[-2.0, -0.5, 1.0, 3.0], [0.1, 1.0, 2.0, 4.0]], seed=17)),
                      S(_separated(1, 1, values=[1.5], seed=18))])

Eigh = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
Eigh.__module__ = "chainrule.return_types"


def eigh(A, UPLO="L", *, out=None):
    """torch.linalg.eigh: eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix.

    chainrule uses the symmetric part (A + Aᵀ)/2 (PyTorch reads only the UPLO triangle; both agree for the
    symmetric matrices eigh is meant for). Each eigenvector is defined up to sign: chainrule makes its
    largest-magnitude entry positive. Gradients through eigenvectors involve 1/(λ_j − λ_i): they are
    infinite/nan where eigenvalues repeat (degenerate eigenvectors are not unique), as in PyTorch; losses
    of the eigenvalues alone (or of gauge-invariant quantities of well-separated eigenspaces) are fine."""
    if out is not None:
        raise TypeError("linalg.eigh(): out= is not supported; assign the result instead")
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got {UPLO!r}")
    _check_matrix("linalg.eigh", A)
    packed = apply(EIGH, A)
    return Eigh(packed[..., 0, :], packed[..., 1:, :])


def eigvalsh(A, UPLO="L", *, out=None):
    """torch.linalg.eigvalsh: the eigenvalues of a symmetric matrix, ascending (see eigh)."""
    return eigh(A, UPLO, out=out).eigenvalues


# ------------------------------------------------------------------------------------------------- svd
def _svd_forward(xp, A):
    m, n = A.shape[-2:]
    U, s, Vh = _lapack("linalg.svd", lambda: xp.linalg.svd(A, full_matrices=False),
                       "The algorithm failed to converge (is the input finite?)")
    U, Vh = _fix_sign(xp, U, Vh)
    return xp.concatenate([U, s[..., None, :], xp.swapaxes(Vh, -1, -2)], axis=-2)


def _svd_parts(packed, m):
    return packed[..., :m, :], packed[..., m, :], packed[..., m + 1:, :]


def _svd_vjp(g, out, A):
    m, n = A.shape[-2:]
    k = min(m, n)
    U, s, V = _svd_parts(out, m)
    gU, gs, gV = _svd_parts(g, m)
    Vh = V.mT
    inner = _diag_embed(gs)
    use_u, use_v = not _constant_zero(gU), not _constant_zero(gV)
    if not (use_u or use_v):  # singular values alone: finite for repeated and zero singular values
        return U @ inner @ Vh
    s2 = s * s
    gap = s2.unsqueeze(-2) - s2.unsqueeze(-1) + _eye(k)  # s_j² - s_i², 1 on the diagonal
    UgU = U.mT @ gU
    VgV = V.mT @ gV
    inner = inner + ((UgU - UgU.mT) * s.unsqueeze(-2) + s.unsqueeze(-1) * (VgV - VgV.mT)) / gap
    if m > k and use_u:  # the part of gU outside U's span
        gUs = gU / s.unsqueeze(-2)
        return (U @ inner + gUs - U @ (U.mT @ gUs)) @ Vh
    if n > k and use_v:
        gVhs = gV.mT / s.unsqueeze(-1)
        return U @ (inner @ Vh + gVhs - (gVhs @ V) @ Vh)
    return U @ inner @ Vh


def _svd_jvp(t, out, A):
    from .shape import cat
    m, n = A.shape[-2:]
    k = min(m, n)
    U, s, V = _svd_parts(out, m)
    P = U.mT @ t @ V
    s2 = s * s
    F = ~_eye(k) / (s2.unsqueeze(-2) - s2.unsqueeze(-1) + _eye(k))
    dU = U @ (F * (P * s.unsqueeze(-2) + s.unsqueeze(-1) * P.mT))
    dV = V @ (F * (s.unsqueeze(-1) * P + P.mT * s.unsqueeze(-2)))
    if m > k:
        tVs = (t @ V) / s.unsqueeze(-2)
        dU = dU + tVs - U @ (U.mT @ tVs)
    if n > k:
        tUs = (t.mT @ U) / s.unsqueeze(-2)
        dV = dV + tUs - V @ (V.mT @ tUs)
    return cat([dU, _diagonal(P).unsqueeze(-2), dV], -2)


def _torch_svd(torch, A):
    U, s, Vh = torch.linalg.svd(A, full_matrices=False)
    U, Vh = _torch_fix_sign(torch, U, Vh)
    return torch.cat([U, s.unsqueeze(-2), Vh.mT], -2)


SVD = defop("linalg_svd", _svd_forward, vjp={"A": _svd_vjp}, jvp={"A": _svd_jvp},
            display="LinalgSvdBackward0", torch=_torch_svd,
            samples=[S(_spread(3, 3, values=[3.0, 1.5, 0.5], seed=19)), S(_spread(4, 2, values=[2.0, 0.7], seed=20)),
                     S(_spread(2, 2, 3, values=[[2.5, 1.0], [1.8, 0.4]], seed=21)),
                     S(_spread(1, 1, values=[1.3], seed=22))])

Svd = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
Svd.__module__ = "chainrule.return_types"


def svd(A, full_matrices=True, *, driver=None, out=None):
    """torch.linalg.svd: A = U diag(S) Vh, singular values descending.

    Each pair of singular vectors is defined up to a common sign: chainrule makes the largest-magnitude
    entry of each column of U positive. Gradients through U and Vh involve 1/(s_j² − s_i²) and 1/s_i: they
    are infinite/nan for repeated (or, for non-square A, zero) singular values, as in PyTorch; losses of S
    alone, or of gauge-invariant quantities such as U diag(S) Vh, are fine. With full_matrices=True (the
    default) and a non-square A, the extra columns of U / rows of Vh are some orthonormal basis of the
    complement (not PyTorch's) and, as in PyTorch, their gradients are ignored."""
    if out is not None:
        raise TypeError("linalg.svd(): out= is not supported; assign the result instead")
    _check_matrix("linalg.svd", A, square=False)
    m, n = A.shape[-2:]
    packed = apply(SVD, A)
    U, s, V = _svd_parts(packed, m)
    Vh = V.mT
    if full_matrices and m != n:
        from .shape import cat
        basis = U if m > n else V
        complement = np.linalg.qr(basis._data, mode="complete")[0][..., :, min(m, n):]
        complement = make_tensor(np.ascontiguousarray(complement))
        if m > n:
            U = cat([U, complement], -1)
        else:
            Vh = cat([Vh, complement.mT], -2)
    return Svd(U, s, Vh)


def svdvals(A, *, driver=None, out=None):
    """torch.linalg.svdvals: the singular values, descending (see svd)."""
    return svd(A, full_matrices=False, out=out).S


# -------------------------------------------------------------------------------------------------- qr
def _qr_forward(xp, A):
    Q, R = xp.linalg.qr(A, mode="reduced")
    return xp.concatenate([Q, xp.swapaxes(R, -1, -2)], axis=-2)


def _solve_right_upper_t(B, R):
    """B R⁻ᵀ."""
    return _solve(R, B.mT).mT


def _qr_square_vjp(gQ, gR, Q, R):
    """Gradient of A for A = Q R with A tall or square (Q m×n, R n×n): (ḡQ + Q copyltu(M)) R⁻ᵀ,
    M = R ḡRᵀ − ḡQᵀ Q."""
    n = R.shape[-1]
    M = R @ gR.mT - gQ.mT @ Q
    M = M * _tril(n) + (M * _tril(n, -1)).mT
    return _solve_right_upper_t(gQ + Q @ M, R)


def _qr_vjp(g, out, A):
    from .shape import cat
    m, n = A.shape[-2:]
    Q, Rt = out[..., :m, :], out[..., m:, :]
    gQ, gRt = g[..., :m, :], g[..., m:, :]
    R, gR = Rt.mT, gRt.mT
    if m >= n:
        return _qr_square_vjp(gQ, gR, Q, R)
    # wide: A = [X | Y] with X = Q R1 square and R2 = Qᵀ Y
    R1, gR1, gR2 = R[..., :m], gR[..., :m], gR[..., m:]
    Y = A[..., m:]
    gX = _qr_square_vjp(gQ + Y @ gR2.mT, gR1, Q, R1)
    return cat([gX, Q @ gR2], -1)


def _qr_square_jvp(dA, Q, R):
    n = R.shape[-1]
    dAR = _solve_right_upper_t(dA, R.mT)  # dA R⁻¹  (R⁻¹ = (Rᵀ)⁻ᵀ)
    X = Q.mT @ dAR
    lower = X * _tril(n, -1)
    upper = X - lower + lower.mT  # X - Ω, upper triangular
    return dAR - Q @ upper, upper @ R


def _qr_jvp(t, out, A):
    from .shape import cat
    m, n = A.shape[-2:]
    Q, R = out[..., :m, :], out[..., m:, :].mT
    if m >= n:
        dQ, dR = _qr_square_jvp(t, Q, R)
        return cat([dQ, dR.mT], -2)
    dQ, dR1 = _qr_square_jvp(t[..., :m], Q, R[..., :m])
    dR2 = dQ.mT @ A[..., m:] + Q.mT @ t[..., m:]
    return cat([dQ, dR1.mT, dR2.mT], -2)


def _torch_qr(torch, A):
    Q, R = torch.linalg.qr(A)
    return torch.cat([Q, R.mT], -2)


QR = defop("linalg_qr", _qr_forward, vjp={"A": _qr_vjp}, jvp={"A": _qr_jvp},
           display="LinalgQrBackward0", torch=_torch_qr,
           samples=[S(_wellcond(3, 3, seed=23)), S(_spread(4, 2, values=[2.0, 0.8], seed=24)),
                    S(_spread(2, 4, values=[1.7, 0.9], seed=25)), S(_spread(2, 3, 2, values=[[2.0, 1.0], [1.5, 0.6]], seed=26))])

QRResult = collections.namedtuple("linalg_qr", ["Q", "R"])
QRResult.__module__ = "chainrule.return_types"


def qr(A, mode="reduced", *, out=None):
    """torch.linalg.qr: A = Q R with orthonormal columns Q and upper-triangular R (LAPACK's Householder signs,
    as PyTorch). mode 'reduced' (Q m×k, R k×n, k = min(m, n)), 'complete' (Q m×m; differentiable only when
    m <= n, as in PyTorch) or 'r' (R only; Q is empty). Needs the first k columns linearly independent."""
    if out is not None:
        raise TypeError("linalg.qr(): out= is not supported; assign the result instead")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: qr received unrecognized mode {mode!r} but expected one of 'reduced' "
                         "(default), 'r', or 'complete'")
    _check_matrix("linalg.qr", A, square=False)
    m, n = A.shape[-2:]
    if mode == "complete" and m > n:
        if A.requires_grad:
            from ..autograd import grad_mode
            if grad_mode.state.enabled:
                raise ShapeError(f"linalg.qr: The QR decomposition is not differentiable when mode='complete' and "
                                 f"nrows > ncols (shape {shape_str(A.shape)}); use mode='reduced', or detach A")
        Q, R = np.linalg.qr(A._data, mode="complete")
        return QRResult(make_tensor(Q), make_tensor(R))
    packed = apply(QR, A)
    Q, R = packed[..., :m, :], packed[..., m:, :].mT
    if mode == "r":
        return QRResult(make_tensor(np.empty((0,), dtype=A._data.dtype)), R)
    return QRResult(Q, R)
