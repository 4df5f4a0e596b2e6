"""Linear algebra: matrix products, einsum/tensordot, and torch.linalg's decompositions and solvers.

matmul follows NumPy/PyTorch: 1-D operands are promoted (and the added dim removed again), leading dims
broadcast. The rules reduce to the 2-D case; the engine sums the gradient over broadcast batch dims.

einsum is two primitives, a one-operand einsum and a two-operand einsum; an equation with more operands
is contracted pairwise along the path np.einsum_path finds (as opt_einsum does). An equation is first
rewritten into explicit letters without '...' or broadcasting (every letter has one size), so the VJP of
an operand is again an einsum of the upstream gradient with the other operands (repeated letters such as
'ii->i' get identity matrices, letters summed away inside one operand are expanded back).

A decomposition with several outputs (eigh, svd, qr, slogdet) is one primitive whose output packs them
along the second-to-last dim (eigh: eigenvalues on top of the eigenvectors, (..., n+1, n)); the public
function slices the pieces out, so they are views of one node and the rules see all upstream gradients
at once. Symmetric-input functions (cholesky, eigh) work on the symmetric part (A + Aᵀ)/2, which is A for
the symmetric matrices they are meant for: their gradients are symmetric, as PyTorch's. Eigenvectors and
singular vectors are only defined up to sign; chainrule makes the largest-magnitude entry of each
eigenvector / left singular vector positive, so results do not depend on the LAPACK build.
"""
import collections
import string

import numpy as np

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, apply2, S, arg

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "einsum", "tensordot", "trace", "det", "logdet",
           "slogdet", "inverse", "matrix_power"]
TENSOR_METHODS = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "trace", "det", "logdet", "slogdet", "inverse",
                  "matrix_power"]
LINALG = ["matmul", "inv", "det", "slogdet", "solve", "cholesky", "eigh", "eigvalsh", "qr", "svd", "svdvals",
          "matrix_power", "multi_dot", "vecdot", "LinAlgError"]


class LinAlgError(RuntimeError):
    """A matrix a decomposition or solver cannot handle (singular, not positive-definite): torch.linalg.LinAlgError."""


LinAlgError.__module__ = "chainrule.linalg"


# ------------------------------------------------------------------------------------------------ matmul
def _matmul_vjp_a(g, out, a, b):
    if b.ndim == 1:  # out = a @ b drops b's column dim; put it back on g and b
        g, b = g.unsqueeze(-1), b.unsqueeze(-1)
    if a.ndim == 1:
        g = g.unsqueeze(-2)
    grad = g @ b.transpose(-1, -2)
    return grad.squeeze(-2) if a.ndim == 1 else grad


def _matmul_vjp_b(g, out, a, b):
    if b.ndim == 1:  # first, so that g is at least 1-D below (1-D @ 1-D gives a 0-d g)
        g = g.unsqueeze(-1)
    if a.ndim == 1:  # out = a @ b drops a's row dim; put it back on g and a
        g, a = g.unsqueeze(-2), a.unsqueeze(-2)
    grad = a.transpose(-1, -2) @ g
    return grad.squeeze(-1) if b.ndim == 1 else grad


MATMUL = defop("matmul", lambda xp, a, b: xp.matmul(a, b),
               vjp={"a": _matmul_vjp_a, "b": _matmul_vjp_b},
               jvp={"a": lambda t, out, a, b: matmul(t, b), "b": lambda t, out, a, b: matmul(a, t)},
               display="MmBackward0", torch=lambda torch, a, b: torch.matmul(a, b),
               samples=[S((3, 4), (4, 2)), S((4,), (4, 2)), S((3, 4), (4,)), S((4,), (4,)),
                        S((2, 3, 4), (4, 5)), S((2, 1, 3, 4), (3, 4, 2)), S((5,), (2, 5, 3)), S((2, 3, 4), (4,))])


def matmul(input, other):
    a_shape, b_shape = input.shape, other.shape
    if not a_shape or not b_shape:
        raise ShapeError(f"matmul: both arguments to matmul need to be at least 1D, but they are {len(a_shape)}D "
                         f"and {len(b_shape)}D (shapes {shape_str(a_shape)} and {shape_str(b_shape)}); use * for scalars")
    k_a = a_shape[-1]
    k_b = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {shape_str(a_shape)} and {shape_str(b_shape)} cannot be multiplied "
                         f"({k_a} != {k_b}): the last dim of the first must equal the "
                         f"{'second-to-last' if len(b_shape) > 1 else 'only'} dim of the second")
    return apply2(MATMUL, input, other)


def mm(input, mat2):
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise ShapeError(f"mm: expected two 2-D matrices, got shapes {shape_str(input.shape)} and {shape_str(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input._data.ndim != 3 or mat2._data.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                         f"{shape_str(input.shape)} and {shape_str(mat2.shape)}")
    return matmul(input, mat2)


def mv(input, vec):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise ShapeError(f"mv: expected a matrix and a vector, got shapes {shape_str(input.shape)} and {shape_str(vec.shape)}")
    return matmul(input, vec)


def dot(input, other):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise ShapeError(f"dot: 1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors "
                         f"(shapes {shape_str(input.shape)} and {shape_str(other.shape)})")
    return matmul(input, other)


def outer(input, vec2):
    """The outer product of two vectors: out[i, j] = input[i] * vec2[j]."""
    for name, v in (("self", input), ("vec2", vec2)):
        if not isinstance(v, Tensor):
            raise TypeError(f"outer(): argument '{name}' must be a Tensor, not {type(v).__name__}")
        if v._data.ndim != 1:
            raise ShapeError(f"outer: Expected 1-D argument {name}, but got {v._data.ndim}-D (shape {shape_str(v.shape)})")
    return input.unsqueeze(-1) * vec2


ger = outer


def vecdot(x, y, *, dim=-1):
    """torch.linalg.vecdot: the dot product of vectors along ``dim``, with broadcasting."""
    return (x * y).sum(dim)


def multi_dot(tensors):
    """torch.linalg.multi_dot: the product of a chain of matrices (the first and last may be vectors)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ShapeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        ndim = t._data.ndim
        if not (ndim == 2 or (ndim == 1 and i in (0, len(tensors) - 1))):
            raise ShapeError(f"multi_dot(): tensor {i} must be 2D{' or 1D' if i in (0, len(tensors) - 1) else ''} "
                             f"but got {ndim}D (shape {shape_str(t.shape)})")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


# ------------------------------------------------------------------------------------------------ einsum
_LETTERS = string.ascii_letters  # the 52 subscripts NumPy's einsum accepts
_SUBLIST_LETTERS = string.ascii_uppercase + string.ascii_lowercase
_PAIR_PATH = ["einsum_path", (0, 1)]  # contract the two operands at once (through BLAS where NumPy can)


_PLANS = {}


def _einsum2_forward(xp, a, b, *, equation):
    """A two-operand einsum as one batched matmul (sum away private letters, transpose, reshape), as PyTorch
    does; NumPy's einsum where a letter repeats inside an operand."""
    key = (equation, a.shape, b.shape)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) > 4096:
            _PLANS.clear()
        plan = _PLANS[key] = _pair_plan(equation, a.shape, b.shape)
    if plan is False:
        return xp.einsum(equation, a, b, optimize=_PAIR_PATH)
    a_sum, a_perm, a_shape, b_sum, b_perm, b_shape, out_shape, out_perm = plan
    if a_sum:
        a = a.sum(axis=a_sum)
    if b_sum:
        b = b.sum(axis=b_sum)
    out = xp.matmul(a.transpose(a_perm).reshape(a_shape), b.transpose(b_perm).reshape(b_shape))
    return out.reshape(out_shape).transpose(out_perm)


def _pair_plan(equation, a_shape, b_shape):
    (ta, tb), to = _terms(equation)
    if len(set(ta)) != len(ta) or len(set(tb)) != len(tb):
        return False
    size = dict(zip(ta, a_shape))
    size.update(zip(tb, b_shape))
    batch = [c for c in to if c in ta and c in tb]
    a_keep = [c for c in to if c in ta and c not in tb]
    b_keep = [c for c in to if c in tb and c not in ta]
    contracted = [c for c in ta if c in tb and c not in to]
    a_sum = tuple(i for i, c in enumerate(ta) if c not in tb and c not in to)
    b_sum = tuple(i for i, c in enumerate(tb) if c not in ta and c not in to)
    ra = [c for c in ta if c in tb or c in to]
    rb = [c for c in tb if c in ta or c in to]
    prod = lambda letters: int(np.prod([size[c] for c in letters], dtype=np.int64))  # noqa: E731
    a_perm = tuple(ra.index(c) for c in batch + a_keep + contracted)
    b_perm = tuple(rb.index(c) for c in batch + contracted + b_keep)
    result = batch + a_keep + b_keep
    return (a_sum, a_perm, (prod(batch), prod(a_keep), prod(contracted)), b_sum, b_perm,
            (prod(batch), prod(contracted), prod(b_keep)), tuple(size[c] for c in result),
            tuple(result.index(c) for c in to))


def _terms(equation):
    inputs, out = equation.split("->")
    return inputs.split(","), out


def _einsum2_vjp(position):
    def rule(g, out, a, b, *, equation):
        terms, out_term = _terms(equation)
        return _einsum_grad(g, out_term, terms, (a, b), position)

    return rule


def _einsum1_vjp(g, out, x, *, equation):
    terms, out_term = _terms(equation)
    return _einsum_grad(g, out_term, terms, (x,), 0)


def _einsum_grad(g, out_term, terms, operands, position):
    """The gradient of operand ``position`` of einsum(terms -> out_term): an einsum of ``g`` with the other
    operands. A letter repeated in the operand (a diagonal) gets a fresh letter tied to it by an identity
    matrix; a letter only this operand has (summed inside it) is broadcast back afterwards."""
    target, shape = terms[position], operands[position].shape
    pieces = [(out_term, g)] + [(t, x) for j, (t, x) in enumerate(zip(terms, operands)) if j != position]
    fresh = iter(c for c in _LETTERS if c not in set(out_term).union(*terms))
    grad_term, seen = [], set()
    for letter, size in zip(target, shape):
        if letter in seen:
            tied = next(fresh, None)
            if tied is None:
                raise ShapeError("einsum backward: the equation uses too many subscripts to differentiate a repeated "
                                 "one (52 letters at most); take the diagonal with .diagonal() first")
            pieces.append((letter + tied, make_tensor(_eye(size))))
            grad_term.append(tied)
        else:
            seen.add(letter)
            grad_term.append(letter)
    present = set("".join(t for t, _ in pieces))
    kept = "".join(c for c in grad_term if c in present)
    result = _contract([t for t, _ in pieces], kept, [x for _, x in pieces], True)
    if len(kept) != len(grad_term):
        result = result.reshape(tuple(s if c in present else 1 for c, s in zip(grad_term, shape))).expand(shape)
    return result


EINSUM2 = defop("einsum", _einsum2_forward,
                vjp={"a": _einsum2_vjp(0), "b": _einsum2_vjp(1)},
                jvp={"a": lambda t, out, a, b, *, equation: apply(EINSUM2, t, b, equation=equation),
                     "b": lambda t, out, a, b, *, equation: apply(EINSUM2, a, t, equation=equation)},
                display="EinsumBackward0",
                torch=lambda torch, a, b, *, equation: torch.einsum(equation, a, b),
                samples=[S((3, 4), (4, 5), equation="ab,bc->ac"), S((2, 3, 4), (2, 4, 5), equation="abc,acd->abd"),
                         S((3, 3), (3, 4), equation="aa,ab->b"), S((3, 4, 2), (2, 5), equation="abc,cd->ad"),
                         S((), (3, 4), equation=",ab->ba"), S((3,), (4,), equation="a,b->ab"),
                         S((3, 4), (3, 4), equation="ab,ab->"), S((2, 3, 2), (3,), equation="aba,b->ab")])
EINSUM1 = defop("einsum1", lambda xp, x, *, equation: xp.einsum(equation, x),
                vjp={"x": _einsum1_vjp}, jvp="linear", display="EinsumBackward1",
                torch=lambda torch, x, *, equation: torch.einsum(equation, x),
                samples=[S((3, 3), equation="aa->a"), S((3, 3), equation="aa->"), S((2, 3, 4), equation="abc->cb"),
                         S((2, 2, 3), equation="aab->ba"), S((3, 4), equation="ab->ab"), S((), equation="->")])

_PATHS = {}


def _path(equation, arrays, optimize):
    key = (equation, tuple(a.shape for a in arrays), optimize if not isinstance(optimize, list) else None)
    path = _PATHS.get(key) if key[2] is not None else None
    if path is None:
        path = np.einsum_path(equation, *arrays, optimize=optimize)[0][1:]
        if key[2] is not None:
            if len(_PATHS) > 4096:
                _PATHS.clear()
            _PATHS[key] = path
    return path


def _contract(terms, out_term, tensors, optimize):
    """einsum on canonical terms (explicit letters, one size per letter): pairwise along a contraction path."""
    terms, tensors = list(terms), list(tensors)
    if len(tensors) == 1:
        if terms[0] == out_term:
            return tensors[0]
        return apply(EINSUM1, tensors[0], equation=f"{terms[0]}->{out_term}")
    if optimize is False:
        path = [(0, 1)] * (len(tensors) - 1)
    else:
        path = _path(",".join(terms) + "->" + out_term, [t._data for t in tensors], optimize)
    for step in path:
        step = sorted(step, reverse=True)
        picked = [(terms.pop(i), tensors.pop(i)) for i in step][::-1]
        term, tensor = picked[0]
        for k, (other_term, other) in enumerate(picked[1:], 1):
            later = set(out_term).union(*terms, *(t for t, _ in picked[k + 1:]))
            if not terms and k == len(picked) - 1:
                result_term = out_term
            else:
                result_term = "".join(dict.fromkeys(c for c in term + other_term if c in later))
            tensor = apply(EINSUM2, tensor, other, equation=f"{term},{other_term}->{result_term}")
            term = result_term
        if len(picked) == 1:
            result_term = "".join(dict.fromkeys(c for c in term if c in set(out_term).union(*terms)))
            if not terms:
                result_term = out_term
            tensor = apply(EINSUM1, tensor, equation=f"{term}->{result_term}")
            term = result_term
        terms.append(term)
        tensors.append(tensor)
    while len(tensors) > 1:  # a path that left operands over (not expected): contract them in order
        b_term, b = terms.pop(), tensors.pop()
        a_term, a = terms.pop(), tensors.pop()
        result_term = out_term if not terms else "".join(
            dict.fromkeys(c for c in a_term + b_term if c in set(out_term).union(*terms)))
        terms.append(result_term)
        tensors.append(apply(EINSUM2, a, b, equation=f"{a_term},{b_term}->{result_term}"))
    if terms[0] != out_term:
        return apply(EINSUM1, tensors[0], equation=f"{terms[0]}->{out_term}")
    return tensors[0]


def _einsum_arguments(args):
    """(equation, operands) from einsum's three call forms: (eq, *ops), (eq, [ops]), (op, sublist, ..., [out])."""
    if not args:
        raise TypeError("einsum(): missing the equation (e.g. einsum('ij,jk->ik', a, b))")
    if isinstance(args[0], str):
        operands = list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        return args[0], operands
    operands, sublists = list(args[0::2]), list(args[1::2])
    output = None
    if len(operands) > len(sublists):
        output = operands.pop()

    def letters(sublist):
        parts = []
        for label in sublist:
            if label is Ellipsis:
                parts.append("...")
                continue
            if not isinstance(label, int) or not 0 <= label < 52:
                raise ValueError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), got {label!r}")
            parts.append(_SUBLIST_LETTERS[label])  # in label order, so the implicit output is sorted as PyTorch
        return "".join(parts)

    equation = ",".join(letters(s) for s in sublists)
    if output is not None:
        equation += "->" + letters(output)
    return equation, operands


def _canonical(equation, shapes):
    """Rewrite an einsum equation into explicit letters, one size each: '...' becomes letters, a size-1 dim
    that broadcasts against a larger one gets a letter of its own (it is summed away), and the implicit
    output is spelt out. Returns (input terms, output term)."""
    equation = equation.replace(" ", "")
    if equation.count("->") > 1:
        raise ValueError(f"einsum(): the equation {equation!r} has more than one '->'")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum(): the equation {equation!r} has {len(terms)} operand(s) but {len(shapes)} "
                         f"{'was' if len(shapes) == 1 else 'were'} given")
    parsed = []  # per operand: list of letters with None for the '...' position
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        parsed.append(_parse_term(equation, term, i))
        letters = [c for c in parsed[-1] if c is not None]
        has_dots = None in parsed[-1]
        if (len(letters) != len(shape)) if not has_dots else len(letters) > len(shape):
            raise ValueError(f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match the "
                             f"number of dimensions ({len(shape)}) for operand {i}"
                             f"{' and no ellipsis was given' if not has_dots else ''} (shape {shape_str(shape)})")
    # sizes of the '...' dims of each operand, broadcast together
    dots = []
    for term, shape in zip(parsed, shapes):
        if None in term:
            start = term.index(None)
            dots.append(tuple(shape[start:start + len(shape) - len(term) + 1]))
        else:
            dots.append(())
    width = max(len(d) for d in dots)
    dot_sizes = []
    for j in range(width):
        sizes = {d[j - width + len(d)] for d in dots if j - width + len(d) >= 0} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"einsum(): the dims covered by '...' do not broadcast: {' and '.join(shape_str(d) for d in dots)}")
        dot_sizes.append(sizes.pop() if sizes else 1)
    # the size of every letter (size-1 dims broadcast)
    sizes = {}
    for i, (term, shape, dot) in enumerate(zip(parsed, shapes, dots)):
        seen = {}
        for letter, size in zip(_expand_dots(term, len(dot)), shape):
            if letter is None:
                continue
            if letter in seen and seen[letter] != size:
                raise ShapeError(f"einsum(): subscript {letter} is repeated for operand {i} but the sizes don't match, "
                                 f"{seen[letter]} != {size} (shape {shape_str(shape)})")
            seen[letter] = size
            if size != 1:
                if sizes.get(letter, 1) not in (1, size):
                    raise ShapeError(f"einsum(): subscript {letter} has size {size} for operand {i} which does not "
                                     f"broadcast with previously seen size {sizes[letter]}")
                sizes[letter] = size
            else:
                sizes.setdefault(letter, 1)
    # the output
    if arrow:
        out = _parse_term(equation, rhs, "output")
        for letter in out:
            if letter is not None and letter not in sizes:
                raise ValueError(f"einsum(): output subscript {letter} does not appear in the equation for any input operand")
        letters = [c for c in out if c is not None]
        if len(set(letters)) != len(letters):
            raise ValueError(f"einsum(): output subscript {max(letters, key=letters.count)} appears more than once in the output")
    else:
        counts = collections.Counter(c for term in parsed for c in term if c is not None)
        out = ([None] if width else []) + sorted(c for c, n in counts.items() if n == 1)
    # new letters: user letters first (kept where possible, for readable equations), then '...' and private ones
    taken = set(sizes)
    spare = iter(c for c in _LETTERS if c not in taken)

    def new_letter():
        letter = next(spare, None)
        if letter is None:
            raise ShapeError(f"einsum(): the equation {equation!r} needs more than 52 subscripts once '...' and "
                             "broadcast dims are spelt out; reshape the operands to fewer dims")
        return letter

    dot_letters = [new_letter() for _ in range(width)]
    canonical = []
    for term, shape, dot in zip(parsed, shapes, dots):
        letters = []
        for letter, size in zip(_expand_dots(term, len(dot), dot_letters[width - len(dot):]), shape):
            full = dot_sizes[dot_letters.index(letter)] if letter in dot_letters else sizes[letter]
            letters.append(new_letter() if size == 1 and full != 1 else letter)
        canonical.append("".join(letters))
    out_term = "".join(_expand_dots(out, width, dot_letters))
    return canonical, out_term


def _parse_term(equation, term, which):
    if term.count("...") > 1 or term.replace("...", "").count(".") or ("." in term and "..." not in term):
        raise ValueError(f"einsum(): {'the output' if which == 'output' else f'operand {which}'} subscripts {term!r} "
                         f"in {equation!r} may contain one ellipsis '...' at most")
    parts = []
    rest = term
    while rest:
        if rest.startswith("..."):
            parts.append(None)
            rest = rest[3:]
            continue
        if rest[0] not in _LETTERS:
            raise ValueError(f"einsum(): invalid subscript given at index {len(term) - len(rest)} in the equation "
                             f"{equation!r}: {rest[0]!r}; subscripts must be letters a-z, A-Z")
        parts.append(rest[0])
        rest = rest[1:]
    return parts


def _expand_dots(term, count, letters=None):
    """Replace the '...' (None) in a parsed term by ``count`` letters (or Nones)."""
    if None not in term:
        return term
    i = term.index(None)
    return term[:i] + (list(letters) if letters is not None else [None] * count) + term[i + 1:]


def einsum(*args, optimize=True):
    """torch.einsum / np.einsum: ``einsum('ij,jk->ik', a, b)``, with '...', implicit output ('ij,jk'), repeated
    subscripts ('ii->i'), size-1 broadcasting, operands as a list, or the sublist form (a, [0, 1], b, [1, 2]).
    Three or more operands are contracted pairwise along np.einsum_path's path; ``optimize`` is passed to
    it (True/"greedy", "optimal", or an explicit path; False contracts left to right)."""
    equation, operands = _einsum_arguments(args)
    for i, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(x).__name__}")
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    if len({x._data.dtype for x in operands}) > 1:
        raise DTypeError(f"einsum(): expected operands of one dtype, got {', '.join(str(x.dtype) for x in operands)}; "
                         "convert them with .to(dtype) first")
    key = (equation, tuple(x.shape for x in operands))
    canonical = _CANONICAL.get(key)
    if canonical is None:
        canonical = _canonical(equation, key[1])
        if len(_CANONICAL) > 4096:
            _CANONICAL.clear()
        _CANONICAL[key] = canonical
    return _contract(canonical[0], canonical[1], operands, optimize)


_CANONICAL = {}


def tensordot(a, b, dims=2, out=None):
    """torch.tensordot: contract ``dims`` last dims of a with the first of b, or the dims listed in
    ``dims = ([dims of a], [dims of b])``."""
    if out is not None:
        raise TypeError("tensordot(): out= is not supported; assign the result instead")
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, Tensor):
            raise TypeError(f"tensordot(): argument '{name}' must be a Tensor, not {type(x).__name__}")
    if a._data.dtype != b._data.dtype:
        raise DTypeError(f"tensordot: both inputs should have same dtype, got {a.dtype} and {b.dtype}")
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int) or (hasattr(dims, "__index__") and not isinstance(dims, (list, tuple))):
        dims = int(dims)
        if dims < 0:
            raise ValueError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(na, nb):
            raise ShapeError(f"tensordot: dims={dims} is larger than the number of dims of the inputs "
                             f"(shapes {shape_str(a.shape)} and {shape_str(b.shape)})")
        dims_a, dims_b = list(range(na - dims, na)), list(range(dims))
    else:
        if len(dims) != 2:
            raise ValueError(f"tensordot expects dims to be an int or a pair of lists of dims, got {dims!r}")
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(dims_a) != len(dims_b):
            raise ShapeError(f"tensordot: both dimension lists should have the same length, got {dims_a} and {dims_b}")
    from ._shape_utils import normalize_dim
    dims_a = [normalize_dim("tensordot", d, na) for d in dims_a]
    dims_b = [normalize_dim("tensordot", d, nb) for d in dims_b]
    if len(set(dims_a)) != len(dims_a) or len(set(dims_b)) != len(dims_b):
        raise ShapeError(f"tensordot: a dim is listed twice in {dims_a} / {dims_b}")
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise ShapeError(f"tensordot: contracted dimensions need to match, but first has size {a.shape[da]} in "
                             f"dim {da} and second has size {b.shape[db]} in dim {db} "
                             f"(shapes {shape_str(a.shape)} and {shape_str(b.shape)})")
    if na + nb - len(dims_a) > 52:
        raise ShapeError("tensordot: the inputs have too many dims (52 at most in all)")
    term_a = _LETTERS[:na]
    term_b = [None] * nb
    for da, db in zip(dims_a, dims_b):
        term_b[db] = term_a[da]
    spare = iter(_LETTERS[na:])
    term_b = "".join(c if c is not None else next(spare) for c in term_b)
    out_term = "".join(c for i, c in enumerate(term_a) if i not in dims_a) + \
        "".join(c for i, c in enumerate(term_b) if i not in dims_b)
    return _contract([term_a, term_b], out_term, [a, b], "greedy")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor (rectangular allowed, as in PyTorch)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"trace(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input._data.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim} (shape {shape_str(input.shape)})")
    m, n = input.shape
    if m != n:
        k = min(m, n)
        input = input[:k, :k]
    return apply(EINSUM1, input, equation="aa->")


# ------------------------------------------------------------------------------------- shared helpers
_EYES = {}


def _eye(n):
    """A bool identity matrix (bool keeps the dtype of what it multiplies)."""
    eye = _EYES.get(n)
    if eye is None:
        eye = _EYES[n] = np.eye(n, dtype=bool)
    return eye


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
