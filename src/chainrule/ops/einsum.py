"""einsum and tensordot.

einsum is two primitives, a one-operand einsum and a two-operand einsum; an equation with more operands
is contracted pairwise along the path np.einsum_path finds (as opt_einsum does). An equation is first
rewritten into explicit letters without '...' or broadcasting (every letter has one size), so the VJP of
an operand is again an einsum of the upstream gradient with the other operands (repeated letters such as
'ii->i' get identity matrices, letters summed away inside one operand are expanded back).
"""
import collections
import string

import numpy as np

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, S

__all__ = ["einsum", "tensordot"]
TENSOR_METHODS = []
LINALG = []


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


# -------------------------------------------------- identity matrices (shared with decompositions.py)
_EYES = {}


def _eye(n):
    """A bool identity matrix (bool keeps the dtype of what it multiplies)."""
    eye = _EYES.get(n)
    if eye is None:
        eye = _EYES[n] = np.eye(n, dtype=bool)
    return eye
