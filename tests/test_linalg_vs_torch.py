"""Linear algebra against PyTorch on random inputs (a fresh seed each run; see torch_compare.py): matrix
products, einsum (every equation form, first and second derivatives), tensordot, trace, and torch.linalg's
inv/det/slogdet/solve/cholesky/eigh/qr/svd/matrix_power. Eigenvectors and singular vectors are compared
through sign-invariant quantities; their signs are checked against chainrule's documented gauge."""
import numpy as np
import pytest

import chainrule
from torch_compare import broadcastable_shapes, compare_with_torch, random_shape

torch = pytest.importorskip("torch")


def _size(rng, low=1, high=4):
    return int(rng.integers(low, high + 1))


def _batch(rng, max_dims=2):
    return random_shape(rng, max_dims=max_dims, max_size=3)


def _wellcond(rng, shape):
    """Random square matrices plus a multiple of the identity: far from singular."""
    n = shape[-1]
    return rng.standard_normal(shape) + (n + 1) * np.eye(n) * rng.choice([-1, 1])


# ------------------------------------------------------------------------------------------ products
def test_matrix_products(fresh_rng):
    for _ in range(5):
        m, k, n, b = (_size(fresh_rng) for _ in range(4))
        mat, mat2 = fresh_rng.standard_normal((m, k)), fresh_rng.standard_normal((k, n))
        compare_with_torch(lambda lib, x, y: lib.mm(x, y), [mat, mat2], fresh_rng, what="mm")
        compare_with_torch(lambda lib, x, y: x.mm(y), [mat, mat2], fresh_rng, what="Tensor.mm")
        compare_with_torch(lambda lib, x, y: lib.bmm(x, y), [fresh_rng.standard_normal((b, m, k)),
                                                           fresh_rng.standard_normal((b, k, n))], fresh_rng, what="bmm")
        vec = fresh_rng.standard_normal(k)
        compare_with_torch(lambda lib, x, v: lib.mv(x, v), [mat, vec], fresh_rng, what="mv")
        compare_with_torch(lambda lib, v, w: lib.dot(v, w), [vec, fresh_rng.standard_normal(k)], fresh_rng, what="dot")
        u, w = fresh_rng.standard_normal(m), fresh_rng.standard_normal(n)
        compare_with_torch(lambda lib, v, w: lib.outer(v, w), [u, w], fresh_rng, what="outer")
        compare_with_torch(lambda lib, v, w: lib.ger(v, w), [u, w], fresh_rng, what="ger")
        compare_with_torch(lambda lib, v, w: v.outer(w), [u, w], fresh_rng, what="Tensor.outer")
        compare_with_torch(lambda lib, x, y: lib.linalg.matmul(x, y), [mat, mat2], fresh_rng, what="linalg.matmul")


def test_vecdot_and_multi_dot(fresh_rng):
    for _ in range(5):
        shape_a, shape_b = broadcastable_shapes(fresh_rng)
        k = _size(fresh_rng)
        a, b = fresh_rng.standard_normal(shape_a + (k,)), fresh_rng.standard_normal(shape_b + (k,))
        compare_with_torch(lambda lib, x, y: lib.linalg.vecdot(x, y), [a, b], fresh_rng, what="vecdot")
        compare_with_torch(lambda lib, x, y: lib.linalg.vecdot(x, y, dim=0), [a, a + 1], fresh_rng, what="vecdot dim=0")
        sizes = [_size(fresh_rng) for _ in range(5)]
        mats = [fresh_rng.standard_normal((sizes[i], sizes[i + 1])) for i in range(4)]
        compare_with_torch(lambda lib, *ms: lib.linalg.multi_dot(ms), mats, fresh_rng, what="multi_dot")
        first, last = fresh_rng.standard_normal(sizes[0]), fresh_rng.standard_normal(sizes[4])
        compare_with_torch(lambda lib, *ms: lib.linalg.multi_dot(ms), [first] + mats + [last], fresh_rng,
                           what="multi_dot with vector ends")


# -------------------------------------------------------------------------------------------- einsum
EQUATIONS = [  # (equation, operand subscripts used to draw sizes; '.' marks a random batch of dims)
    ("ij,jk->ik", ["ij", "jk"]), ("ij,jk", ["ij", "jk"]), ("ii->i", ["ii"]), ("ii", ["ii"]), ("ii->", ["ii"]),
    ("iij->ji", ["iij"]), ("iii->i", ["iii"]), ("ij->ji", ["ij"]), ("ij->ij", ["ij"]), ("ij", ["ij"]), ("ba", ["ba"]),
    ("aB", ["aB"]), ("i,j->ij", ["i", "j"]), ("i,i->", ["i", "i"]), ("i,i", ["i", "i"]), (",i->i", ["", "i"]),
    ("bij,bjk->bik", ["bij", "bjk"]), ("ii,ij->j", ["ii", "ij"]), ("ji,ii->j", ["ji", "ii"]),
    ("ij,jk,kl->il", ["ij", "jk", "kl"]), ("abc,cd,de,ea->b", ["abc", "cd", "de", "ea"]),
    ("ab,ab,ab->a", ["ab", "ab", "ab"]), ("i j , j k -> k i", ["ij", "jk"]), ("abc->", ["abc"]), ("abc->b", ["abc"]),
    ("...ij,...jk->...ik", [".ij", ".jk"]), ("i...->...", ["i."]), ("i...->i", ["i."]), ("...ii->...i", [".ii"]),
    ("i...i", ["i.i"]), ("...,...->...", [".", "."]), ("b...,...c->bc", ["b.", ".c"]), ("...ij,jk", [".ij", "jk"]),
]


def _einsum_inputs(rng, operands):
    sizes = {c: _size(rng) for c in "".join(operands)}
    batches = broadcastable_shapes(rng, count=len(operands), max_dims=2)
    shapes = []
    for term, batch in zip(operands, batches):
        shape = []
        for c in term:
            shape.extend(batch if c == "." else [sizes[c]])
        shapes.append(tuple(shape))
    # size-1 broadcasting of labelled dims: sometimes set a non-repeated letter to 1 in one operand
    if len(operands) > 1 and rng.random() < 0.3:
        which = int(rng.integers(len(operands)))
        term = operands[which]
        singles = [i for i, c in enumerate(term.replace(".", "")) if term.count(c) == 1 and c != "."]
        if singles and "." not in term:
            shape = list(shapes[which])
            shape[int(rng.choice(singles))] = 1
            shapes[which] = tuple(shape)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("equation, operands", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_equations(equation, operands, fresh_rng):
    for _ in range(3):
        inputs = _einsum_inputs(fresh_rng, operands)
        shapes = [x.shape for x in inputs]
        compare_with_torch(lambda lib, *xs: lib.einsum(equation, *xs), inputs, fresh_rng,
                           what=f"einsum {equation!r} {shapes}")
        for optimize in (False, "optimal"):
            compare_with_torch(lambda lib, *xs: lib.einsum(equation, *xs, optimize=optimize), inputs, fresh_rng,
                               torch_fn=lambda lib, *xs: lib.einsum(equation, *xs),
                               what=f"einsum {equation!r} {shapes} optimize={optimize}")


@pytest.mark.parametrize("equation, operands", [("ii,ij->j", ["ii", "ij"]), ("ij,jk,kl->il", ["ij", "jk", "kl"]),
                                                ("iij->ji", ["iij"]), ("...ij,...jk", [".ij", ".jk"]),
                                                ("ab,b->a", ["ab", "b"])])
def test_einsum_second_derivatives(equation, operands, fresh_rng):
    """The gradient of an einsum is an einsum, so it differentiates again: compare d(grad)/d(inputs)."""
    def first_grads(lib, *xs):
        y = lib.einsum(equation, *xs)
        return lib.autograd.grad((y * y).sum(), xs, create_graph=True)

    for _ in range(3):
        inputs = _einsum_inputs(fresh_rng, operands)
        compare_with_torch(first_grads, inputs, fresh_rng, what=f"einsum second order {equation!r}")


def test_einsum_call_forms(fresh_rng):
    a, b = fresh_rng.standard_normal((2, 3)), fresh_rng.standard_normal((3, 4))
    compare_with_torch(lambda lib, x, y: lib.einsum("ij,jk->ik", [x, y]), [a, b], fresh_rng, what="operand list")
    compare_with_torch(lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2], [0, 2]), [a, b], fresh_rng, what="sublists")
    compare_with_torch(lambda lib, x, y: lib.einsum(x, [1, 0], y, [0, 30]), [a, b], fresh_rng, what="implicit sublists")
    batch = fresh_rng.standard_normal((5, 2, 3))
    compare_with_torch(lambda lib, x, y: lib.einsum(x, [Ellipsis, 0, 1], y, [1, 2]), [batch, b], fresh_rng,
                       what="sublists with ellipsis")
    path = ["einsum_path", (1, 2), (0, 1)]
    c = fresh_rng.standard_normal((4, 2))
    compare_with_torch(lambda lib, x, y, z: lib.einsum("ij,jk,kl->il", x, y, z, optimize=path), [a, b, c], fresh_rng,
                       torch_fn=lambda lib, x, y, z: lib.einsum("ij,jk,kl->il", x, y, z), what="explicit path")


def test_einsum_float32_and_integers(fresh_rng):
    a, b = (fresh_rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (4, 2)))
    compare_with_torch(lambda lib, x, y: lib.einsum("ij,jk->ki", x, y), [a, b], fresh_rng, rtol=1e-5, atol=1e-6)
    ints = fresh_rng.integers(-5, 5, (3, 3))
    compare_with_torch(lambda lib, x: lib.einsum("ii->i", x), [ints], fresh_rng, what="int64 einsum")


def test_einsum_graph_is_einsum():
    a = chainrule.randn(3, 4, requires_grad=True)
    out = chainrule.einsum("ij,jk->ik", a, chainrule.randn(4, 2))
    assert type(out.grad_fn).__name__ == "EinsumBackward0"
    assert type(chainrule.einsum("ii->i", chainrule.randn(3, 3, requires_grad=True)).grad_fn).__name__ == "EinsumBackward1"


def test_tensordot(fresh_rng):
    for _ in range(5):
        free_a, contracted, free_b = (random_shape(fresh_rng, max_dims=2) for _ in range(3))
        a = fresh_rng.standard_normal(free_a + contracted)
        b = fresh_rng.standard_normal(contracted + free_b)
        dims = len(contracted)
        compare_with_torch(lambda lib, x, y: lib.tensordot(x, y, dims=dims), [a, b], fresh_rng,
                           what=f"tensordot {a.shape} {b.shape} dims={dims}")
        # the same contraction with explicit, permuted dim lists
        perm_a = list(fresh_rng.permutation(a.ndim))
        perm_b = list(fresh_rng.permutation(b.ndim))
        a2, b2 = np.transpose(a, perm_a), np.transpose(b, perm_b)
        dims_a = [perm_a.index(len(free_a) + i) for i in range(dims)]
        dims_b = [perm_b.index(i) - b.ndim if fresh_rng.random() < 0.5 else perm_b.index(i) for i in range(dims)]
        compare_with_torch(lambda lib, x, y: lib.tensordot(x, y, dims=(dims_a, dims_b)), [a2, b2], fresh_rng,
                           what=f"tensordot {a2.shape} {b2.shape} dims={dims_a, dims_b}")


def test_trace(fresh_rng):
    for _ in range(5):
        x = fresh_rng.standard_normal((_size(fresh_rng), _size(fresh_rng)))
        compare_with_torch(lambda lib, t: lib.trace(t), [x], fresh_rng, what=f"trace {x.shape}")
        compare_with_torch(lambda lib, t: t.trace(), [x], fresh_rng, what=f"Tensor.trace {x.shape}")


# ------------------------------------------------------------------------------- inv, det, slogdet
def test_inv_det_slogdet(fresh_rng):
    for _ in range(5):
        n = _size(fresh_rng)
        A = _wellcond(fresh_rng, _batch(fresh_rng) + (n, n))
        compare_with_torch(lambda lib, a: lib.linalg.inv(a), [A], fresh_rng, what=f"inv {A.shape}")
        compare_with_torch(lambda lib, a: lib.inverse(a), [A], fresh_rng, what="inverse")
        compare_with_torch(lambda lib, a: a.inverse(), [A], fresh_rng, what="Tensor.inverse")
        compare_with_torch(lambda lib, a: lib.linalg.det(a), [A], fresh_rng, what=f"det {A.shape}")
        compare_with_torch(lambda lib, a: lib.det(a), [A], fresh_rng, what="torch.det")
        compare_with_torch(lambda lib, a: a.det(), [A], fresh_rng, what="Tensor.det")
        compare_with_torch(lambda lib, a: tuple(lib.linalg.slogdet(a)), [A], fresh_rng, what=f"slogdet {A.shape}")
        compare_with_torch(lambda lib, a: tuple(lib.slogdet(a)), [A], fresh_rng, what="torch.slogdet")
        compare_with_torch(lambda lib, a: tuple(a.slogdet()), [A], fresh_rng, what="Tensor.slogdet")
        positive = A @ np.swapaxes(A, -1, -2) + np.eye(n)
        compare_with_torch(lambda lib, a: lib.logdet(a), [positive], fresh_rng, what="logdet")
        compare_with_torch(lambda lib, a: a.logdet(), [positive], fresh_rng, what="Tensor.logdet")


def test_logdet_of_negative_and_zero_determinants(fresh_rng):
    negative = np.diag([-2.0, 1.0, 3.0]) + 0.1 * fresh_rng.standard_normal((3, 3))
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for A in (negative, singular):
        compare_with_torch(lambda lib, a: lib.logdet(a), [A], fresh_rng, grad=False, what=f"logdet {A.tolist()}")
        compare_with_torch(lambda lib, a: tuple(lib.linalg.slogdet(a)), [A], fresh_rng, grad=False, what="slogdet")
    compare_with_torch(lambda lib, a: lib.linalg.det(a), [singular], fresh_rng, grad=False, what="det of singular")


def test_det_second_derivatives(fresh_rng):
    def first_grads(lib, a):
        return lib.autograd.grad(lib.linalg.det(a).sum() + lib.linalg.slogdet(a).logabsdet.sum(), [a],
                                 create_graph=True)

    A = _wellcond(fresh_rng, (2, 3, 3))
    compare_with_torch(first_grads, [A], fresh_rng, what="det/slogdet second order")


def test_matrix_power(fresh_rng):
    for power in (-3, -2, -1, 0, 1, 2, 3, 5):
        n = _size(fresh_rng)
        A = _wellcond(fresh_rng, _batch(fresh_rng) + (n, n)) / (n + 1)
        compare_with_torch(lambda lib, a: lib.linalg.matrix_power(a, power), [A], fresh_rng,
                           what=f"matrix_power {A.shape} n={power}")
        compare_with_torch(lambda lib, a: lib.matrix_power(a, power), [A], fresh_rng, what="torch.matrix_power")
        compare_with_torch(lambda lib, a: a.matrix_power(power), [A], fresh_rng, what="Tensor.matrix_power")


# -------------------------------------------------------------------------------------------- solve
def test_solve(fresh_rng):
    for _ in range(8):
        n, k = _size(fresh_rng), _size(fresh_rng)
        batch_a, batch_b = broadcastable_shapes(fresh_rng, max_dims=2)
        A = _wellcond(fresh_rng, batch_a + (n, n))
        B = fresh_rng.standard_normal(batch_b + (n, k))
        compare_with_torch(lambda lib, a, b: lib.linalg.solve(a, b), [A, B], fresh_rng, what=f"solve {A.shape} {B.shape}")
        Bt = fresh_rng.standard_normal(batch_b + (k, n))
        if Bt.shape == A.shape[:-1]:  # that would be a batch of vectors (columns), which XA = B cannot take
            Bt = fresh_rng.standard_normal(batch_b + (k + 1, n))
        compare_with_torch(lambda lib, a, b: lib.linalg.solve(a, b, left=False), [A, Bt], fresh_rng,
                           what=f"solve left=False {A.shape} {Bt.shape}")
        vec = fresh_rng.standard_normal(n)
        compare_with_torch(lambda lib, a, b: lib.linalg.solve(a, b), [A, vec], fresh_rng, what=f"solve vector {A.shape}")
        batched_vec = fresh_rng.standard_normal(batch_a + (n,))
        compare_with_torch(lambda lib, a, b: lib.linalg.solve(a, b), [A, batched_vec], fresh_rng,
                           what=f"solve batch of vectors {A.shape} {batched_vec.shape}")


def test_solve_second_derivatives(fresh_rng):
    def first_grads(lib, a, b):
        x = lib.linalg.solve(a, b)
        return lib.autograd.grad((x * x).sum(), [a, b], create_graph=True)

    compare_with_torch(first_grads, [_wellcond(fresh_rng, (2, 3, 3)), fresh_rng.standard_normal((3, 2))], fresh_rng)


# ----------------------------------------------------------------------------------------- cholesky
def test_cholesky(fresh_rng):
    for _ in range(5):
        n = _size(fresh_rng)
        X = fresh_rng.standard_normal(_batch(fresh_rng) + (n, n))

        def chol(lib, x, upper=False):
            spd = x @ x.mT + lib.eye(n, dtype=x.dtype)  # gradients reach x through a symmetric A
            return lib.linalg.cholesky(spd, upper=upper)

        compare_with_torch(chol, [X], fresh_rng, what=f"cholesky {X.shape}")
        compare_with_torch(lambda lib, x: chol(lib, x, upper=True), [X], fresh_rng, what=f"cholesky upper {X.shape}")
        # a symmetric input directly: the gradient is symmetric, as PyTorch's
        A = X @ np.swapaxes(X, -1, -2) + np.eye(n)
        compare_with_torch(lambda lib, a: lib.linalg.cholesky(a), [A], fresh_rng, what=f"cholesky of SPD leaf {A.shape}")


def test_cholesky_second_derivatives(fresh_rng):
    def first_grads(lib, x):
        L = lib.linalg.cholesky(x @ x.mT + lib.eye(3, dtype=x.dtype))
        return lib.autograd.grad((L * L * L).sum(), [x], create_graph=True)

    compare_with_torch(first_grads, [fresh_rng.standard_normal((3, 3))], fresh_rng)


# --------------------------------------------------------------------------------------------- eigh
def _separated_symmetric(lib, x):
    """A symmetric matrix with eigenvalues about 0, 1, 2, …: a small symmetric part of x plus a diagonal ramp."""
    n = x.shape[-1]
    ramp = lib.tensor(np.diag(np.arange(n, dtype=np.float64)))
    return 0.1 * (x + x.mT) + ramp


def _gauge_invariant_eigh(lib, w, V):
    """The eigenvalues, the squared entries of V, and a spectral function V f(w) Vᵀ: unchanged by sign flips."""
    return w, V * V, (V * lib.exp(w).unsqueeze(-2)) @ V.mT


def test_eigh(fresh_rng):
    for _ in range(5):
        n = _size(fresh_rng)
        X = fresh_rng.standard_normal(_batch(fresh_rng) + (n, n))

        def decompose(lib, x, uplo="L"):
            w, V = lib.linalg.eigh(_separated_symmetric(lib, x), UPLO=uplo)
            return _gauge_invariant_eigh(lib, w, V)

        compare_with_torch(decompose, [X], fresh_rng, what=f"eigh {X.shape}")
        compare_with_torch(lambda lib, x: decompose(lib, x, "U"), [X], fresh_rng, what=f"eigh UPLO=U {X.shape}")
        compare_with_torch(lambda lib, x: lib.linalg.eigvalsh(_separated_symmetric(lib, x)), [X], fresh_rng,
                           what=f"eigvalsh {X.shape}")


def test_eigh_uses_the_symmetric_part(fresh_rng):
    A = np.diag([0.0, 1.0, 2.5]) + 0.2 * fresh_rng.standard_normal((3, 3))  # not symmetric

    def decompose(lib, a):
        return _gauge_invariant_eigh(lib, *lib.linalg.eigh(a))

    compare_with_torch(decompose, [A], fresh_rng, what="eigh of a non-symmetric input",
                       torch_fn=lambda lib, a: decompose(lib, (a + a.mT) / 2))


def test_eigh_gauge_and_orthonormality(fresh_rng):
    x = chainrule.tensor(fresh_rng.standard_normal((2, 4, 4)))
    w, V = chainrule.linalg.eigh(x + x.mT)
    data = V.numpy()
    largest = np.take_along_axis(data, np.abs(data).argmax(-2)[..., None, :], -2)
    assert np.all(largest > 0), "the largest-magnitude entry of each eigenvector must be positive"
    np.testing.assert_allclose(np.swapaxes(data, -1, -2) @ data, np.broadcast_to(np.eye(4), (2, 4, 4)), atol=1e-12)
    t_w, t_V = torch.linalg.eigh(torch.tensor(x.numpy() + np.swapaxes(x.numpy(), -1, -2)))
    np.testing.assert_allclose(w.numpy(), t_w.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.abs(data), np.abs(t_V.numpy()), rtol=1e-8, atol=1e-10)  # equal up to sign


def test_eigh_repeated_eigenvalues_give_finite_eigenvalue_gradients(fresh_rng):
    """eigenvalues alone have a gradient even where they repeat (the eigenvectors are not unique there)."""
    A = np.eye(3) * 2.0
    compare_with_torch(lambda lib, a: lib.linalg.eigvalsh(a), [A], fresh_rng, what="eigvalsh of 2·I")
    a = chainrule.tensor(A, requires_grad=True)
    (g,) = chainrule.autograd.grad(chainrule.linalg.eigh(a).eigenvalues.sum(), [a])
    np.testing.assert_allclose(g.numpy(), np.eye(3), atol=1e-12)


def test_eigh_second_derivatives(fresh_rng):
    def first_grads(lib, x):
        w, V = lib.linalg.eigh(_separated_symmetric(lib, x))
        loss = (w ** 3).sum() + ((V * V) * lib.arange(3, dtype=x.dtype)).sum()
        return lib.autograd.grad(loss, [x], create_graph=True)

    compare_with_torch(first_grads, [fresh_rng.standard_normal((3, 3))], fresh_rng, rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------------------------------------- svd
def _separated_matrix(lib, x):
    """x small plus a diagonal 3, 2, 1, …: well-separated, nonzero singular values."""
    m, n = x.shape[-2:]
    ramp = np.zeros((m, n))
    k = min(m, n)
    ramp[np.arange(k), np.arange(k)] = np.arange(k, 0, -1, dtype=np.float64)
    return 0.1 * x + lib.tensor(ramp)


def _gauge_invariant_svd(lib, U, S, Vh):
    k = S.shape[-1]
    return S, U[..., :k] * U[..., :k], Vh[..., :k, :] * Vh[..., :k, :], (U[..., :k] * S.unsqueeze(-2)) @ Vh[..., :k, :], \
        U[..., :k] @ Vh[..., :k, :]


def test_svd(fresh_rng):
    for _ in range(6):
        m, n = _size(fresh_rng), _size(fresh_rng)
        X = fresh_rng.standard_normal(_batch(fresh_rng) + (m, n))
        compare_with_torch(lambda lib, x: _gauge_invariant_svd(lib, *lib.linalg.svd(_separated_matrix(lib, x),
                                                                                    full_matrices=False)),
                           [X], fresh_rng, what=f"svd {X.shape}")
        compare_with_torch(lambda lib, x: lib.linalg.svdvals(_separated_matrix(lib, x)), [X], fresh_rng,
                           what=f"svdvals {X.shape}")
        # full_matrices=True (the default): the first min(m, n) vectors as above, gradients of the rest ignored
        compare_with_torch(lambda lib, x: _gauge_invariant_svd(lib, *lib.linalg.svd(_separated_matrix(lib, x))),
                           [X], fresh_rng, what=f"svd full_matrices {X.shape}")


def test_svd_full_matrices_are_orthogonal(fresh_rng):
    for shape in ((5, 2), (2, 5), (3, 4, 2)):
        x = chainrule.tensor(fresh_rng.standard_normal(shape))
        U, S, Vh = chainrule.linalg.svd(x)
        t_U, t_S, t_Vh = torch.linalg.svd(torch.tensor(x.numpy()))
        assert U.shape == tuple(t_U.shape) and Vh.shape == tuple(t_Vh.shape) and S.shape == tuple(t_S.shape)
        for Q in (U.numpy(), Vh.numpy()):
            np.testing.assert_allclose(np.swapaxes(Q, -1, -2) @ Q, np.broadcast_to(np.eye(Q.shape[-1]), Q.shape),
                                       atol=1e-12)
        k = min(shape[-2:])
        np.testing.assert_allclose((U.numpy()[..., :k] * S.numpy()[..., None, :]) @ Vh.numpy()[..., :k, :], x.numpy(),
                                   atol=1e-12)
        data = U.numpy()[..., :k]
        largest = np.take_along_axis(data, np.abs(data).argmax(-2)[..., None, :], -2)
        assert np.all(largest > 0), "the largest-magnitude entry of each left singular vector must be positive"


def test_svd_singular_values_of_rank_deficient_input(fresh_rng):
    """S alone has a gradient where singular values repeat or vanish."""
    A = np.outer([1.0, 2.0, 2.0], [1.0, 0.0, 1.0])
    compare_with_torch(lambda lib, a: lib.linalg.svdvals(a)[0], [A], fresh_rng, what="svdvals of rank 1")


def test_svd_second_derivatives(fresh_rng):
    def first_grads(lib, x):
        U, S, Vh = lib.linalg.svd(_separated_matrix(lib, x), full_matrices=False)
        loss = (S ** 3).sum() + ((U * U) * lib.arange(U.shape[-1], dtype=x.dtype)).sum() + (Vh * Vh)[..., 0, :].sum()
        return lib.autograd.grad(loss, [x], create_graph=True)

    for shape in ((3, 3), (4, 2), (2, 3)):
        compare_with_torch(first_grads, [fresh_rng.standard_normal(shape)], fresh_rng, rtol=1e-5, atol=1e-8,
                           what=f"svd second order {shape}")


# ----------------------------------------------------------------------------------------------- qr
def test_qr(fresh_rng):
    for _ in range(6):
        m, n = _size(fresh_rng), _size(fresh_rng)
        A = fresh_rng.standard_normal(_batch(fresh_rng) + (m, n)) + np.eye(m, n) * 3  # full rank
        compare_with_torch(lambda lib, a: tuple(lib.linalg.qr(a)), [A], fresh_rng, what=f"qr {A.shape}")
        # mode='r': PyTorch cannot differentiate it (it has no Q); chainrule computes Q anyway and can
        compare_with_torch(lambda lib, a: lib.linalg.qr(a, mode="r").R, [A], fresh_rng, grad=False,
                           what=f"qr mode=r {A.shape}")
        compare_with_torch(lambda lib, a: lib.linalg.qr(a, mode="r").R, [A], fresh_rng,
                           torch_fn=lambda lib, a: lib.linalg.qr(a).R, what=f"qr mode=r gradient {A.shape}")
        if m <= n:
            compare_with_torch(lambda lib, a: tuple(lib.linalg.qr(a, mode="complete")), [A], fresh_rng,
                               what=f"qr mode=complete {A.shape}")
        else:
            compare_with_torch(lambda lib, a: tuple(lib.linalg.qr(a, mode="complete")), [A], fresh_rng, grad=False,
                               what=f"qr mode=complete {A.shape} (values)")


def test_qr_second_derivatives(fresh_rng):
    def first_grads(lib, a):
        Q, R = lib.linalg.qr(a)
        return lib.autograd.grad((Q ** 3).sum() + (R ** 3).sum(), [a], create_graph=True)

    for shape in ((3, 3), (4, 2), (2, 4)):
        A = fresh_rng.standard_normal(shape) + np.eye(*shape) * 3
        compare_with_torch(first_grads, [A], fresh_rng, what=f"qr second order {shape}")


# ---------------------------------------------------------------------------------- float32 results
def test_float32(fresh_rng):
    A = _wellcond(fresh_rng, (2, 3, 3)).astype(np.float32)
    B = fresh_rng.standard_normal((3, 2)).astype(np.float32)
    compare_with_torch(lambda lib, a: lib.linalg.inv(a), [A], fresh_rng, rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, a: lib.linalg.det(a), [A], fresh_rng, rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, a, b: lib.linalg.solve(a, b), [A, B], fresh_rng, rtol=1e-4, atol=1e-5)
    X = fresh_rng.standard_normal((3, 3)).astype(np.float32)
    compare_with_torch(lambda lib, x: _gauge_invariant_eigh(lib, *lib.linalg.eigh(_separated_symmetric(lib, x).float())),
                       [X], fresh_rng, rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, x: _gauge_invariant_svd(lib, *lib.linalg.svd(_separated_matrix(lib, x).float())),
                       [X], fresh_rng, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------------------- errors
def _t(*shape, dtype=None):
    return chainrule.randn(*shape, dtype=dtype or chainrule.float64)


@pytest.mark.parametrize("call, error, words", [
    (lambda: chainrule.linalg.inv(_t(3, 4)), RuntimeError, "square"),
    (lambda: chainrule.linalg.inv(_t(3)), RuntimeError, "at least 2 dimensions"),
    (lambda: chainrule.linalg.inv(chainrule.ones(2, 2, dtype=chainrule.int64)), TypeError, "floating point"),
    (lambda: chainrule.linalg.inv(chainrule.zeros(2, 2)), chainrule.linalg.LinAlgError, "singular"),
    (lambda: chainrule.linalg.det(_t(2, 3)), RuntimeError, "square"),
    (lambda: chainrule.linalg.slogdet(_t(4)), RuntimeError, "at least 2 dimensions"),
    (lambda: chainrule.linalg.cholesky(-chainrule.eye(3)), chainrule.linalg.LinAlgError, "positive-definite"),
    (lambda: chainrule.linalg.solve(_t(3, 3), _t(4, 2)), RuntimeError, "Incompatible shapes"),
    (lambda: chainrule.linalg.solve(_t(3, 3), _t(3, 2, dtype=chainrule.float32)), TypeError, "same dtype"),
    (lambda: chainrule.linalg.solve(_t(3, 3), _t(3), left=False), RuntimeError, "XA = B"),
    (lambda: chainrule.linalg.solve(_t(2, 3, 3), _t(4, 3, 1)), RuntimeError, "broadcast"),
    (lambda: chainrule.linalg.solve(chainrule.zeros(2, 2, dtype=chainrule.float64), _t(2)), chainrule.linalg.LinAlgError,
     "singular"),
    (lambda: chainrule.linalg.eigh(_t(3, 3), UPLO="X"), ValueError, "UPLO"),
    (lambda: chainrule.linalg.qr(_t(3, 3), mode="full"), ValueError, "mode"),
    (lambda: chainrule.linalg.qr(chainrule.randn(4, 2, requires_grad=True), mode="complete"), RuntimeError,
     "not differentiable"),
    (lambda: chainrule.linalg.svd(_t(3)), RuntimeError, "at least 2 dimensions"),
    (lambda: chainrule.linalg.matrix_power(_t(3, 3), 1.5), TypeError, "integer"),
    (lambda: chainrule.linalg.matrix_power(_t(3, 2), 2), RuntimeError, "square"),
    (lambda: chainrule.trace(_t(2, 2, 2)), RuntimeError, "matrix"),
    (lambda: chainrule.outer(_t(2, 2), _t(2)), RuntimeError, "1-D"),
    (lambda: chainrule.linalg.multi_dot([_t(3, 3)]), RuntimeError, "at least 2"),
    (lambda: chainrule.linalg.multi_dot([_t(3, 3, 3), _t(3, 3)]), RuntimeError, "2D"),
    (lambda: chainrule.tensordot(_t(2, 3), _t(4, 2), dims=1), RuntimeError, "contracted dimensions need to match"),
    (lambda: chainrule.tensordot(_t(2, 3), _t(3, 2), dims=([0, 1], [0])), RuntimeError, "same length"),
    (lambda: chainrule.tensordot(_t(2, 3), _t(3, 2), dims=3), RuntimeError, "larger"),
    (lambda: chainrule.tensordot(_t(2, 3), _t(3, 2), dims=([5], [0])), IndexError, "out of range"),
    (lambda: chainrule.einsum("ij,jk->ik", _t(2, 3)), ValueError, "operand"),
    (lambda: chainrule.einsum("ij,jk->ik", _t(2, 3), _t(4, 2)), RuntimeError, "subscript j has size 4"),
    (lambda: chainrule.einsum("ij->i", _t(2, 3, 4)), ValueError, "number of subscripts"),
    (lambda: chainrule.einsum("i1->i", _t(2, 3)), ValueError, "invalid subscript"),
    (lambda: chainrule.einsum("ij->ii", _t(2, 2)), ValueError, "more than once"),
    (lambda: chainrule.einsum("ij->k", _t(2, 2)), ValueError, "does not appear"),
    (lambda: chainrule.einsum("ii->i", _t(2, 3)), RuntimeError, "repeated for operand 0"),
    (lambda: chainrule.einsum("....->", _t(2, 3)), ValueError, "ellipsis"),
    (lambda: chainrule.einsum("i->i->i", _t(2)), ValueError, "more than one '->'"),
    (lambda: chainrule.einsum("...i,...i->...", _t(2, 3), _t(4, 3)), RuntimeError, "do not broadcast"),
    (lambda: chainrule.einsum("i,i->i", _t(2), np.ones(2)), TypeError, "must be a Tensor"),
    (lambda: chainrule.einsum(_t(2), [60]), ValueError, "valid range"),
    (lambda: chainrule.einsum("i,i", _t(2), _t(2, dtype=chainrule.float32)), TypeError, "one dtype"),
    (lambda: chainrule.tensordot(_t(2), _t(2, dtype=chainrule.float32), dims=1), TypeError, "same dtype"),
])
def test_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_linalg_errors_are_runtime_errors():
    assert issubclass(chainrule.linalg.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="linalg.inv"):
        chainrule.linalg.inv(chainrule.zeros(3, 3))


def test_det_gradient_at_a_singular_matrix_raises():
    a = chainrule.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    d = chainrule.linalg.det(a)
    assert d.item() == 0.0
    with pytest.raises(chainrule.linalg.LinAlgError, match="singular"):
        d.backward()


def test_return_types():
    A = chainrule.randn(3, 3)
    w, V = result = chainrule.linalg.eigh(A + A.mT)
    assert result.eigenvalues is w and result.eigenvectors is V
    assert chainrule.linalg.svd(A)._fields == ("U", "S", "Vh")
    assert chainrule.linalg.qr(A)._fields == ("Q", "R")
    assert chainrule.linalg.slogdet(A)._fields == ("sign", "logabsdet")
    assert chainrule.linalg.qr(A, mode="r").Q.shape == (0,)
