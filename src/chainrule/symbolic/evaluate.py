"""Numbers from expressions: evaluate() on NumPy, lambdify() to a function of chainrule tensors."""
import numpy as np

from .expr import Expr, topo

NUMPY = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
         "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "abs": np.abs, "sign": np.sign,
         "sinh": np.sinh, "cosh": np.cosh, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
         "log1p": np.log1p, "expm1": np.expm1}


def free_symbols(expr):
    """The names of the symbols in expr, sorted."""
    return sorted(n.payload for n in topo(expr) if n.op == "sym")


def _run(expr, values, table, power):
    """Compute every node once, children first; values maps symbol names to inputs."""
    done = {}
    for node in topo(expr):
        op, args = node.op, node.args
        if op == "const":
            out = node.payload
        elif op == "sym":
            out = values[node.payload]
        elif op == "add":
            out = done[args[0]]
            for a in args[1:]:
                out = out + done[a]
        elif op == "mul":
            out = done[args[0]]
            for a in args[1:]:
                out = out * done[a]
        elif op == "pow":
            out = power(done[args[0]], done[args[1]])
        else:
            out = table[op](done[args[0]])
        done[node] = out
    return done[expr]


def _check_values(expr, values):
    missing = [n for n in free_symbols(expr) if n not in values]
    if missing:
        raise ValueError(f"no value for symbol(s) {', '.join(missing)} in {expr}; pass them as "
                         f"evaluate({', '.join(m + '=...' for m in missing)})")


def evaluate(expr, **values):
    """The value of expr with symbols set to numbers or NumPy arrays (float64): a float or an array."""
    _check_values(expr, values)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    out = _run(expr, arrays, NUMPY, lambda b, e: np.power(np.asarray(b, dtype=np.float64), e))
    out = np.asarray(out, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def lambdify(expr, variables=None):
    """A function of chainrule tensors (positional, in the order of `variables`, default: sorted free
    symbols) that computes expr with chainrule ops, so reverse and forward mode run through it."""
    import chainrule
    from .expr import symbols
    if variables is None:
        names = free_symbols(expr)
    else:
        names = [v.payload if isinstance(v, Expr) else v for v in
                 (symbols(variables) if isinstance(variables, str) else variables)]
    table = {name: getattr(chainrule, name) for name in NUMPY}

    def function(*args):
        if len(args) != len(names):
            raise TypeError(f"this function takes {len(names)} argument(s) ({', '.join(names)}), "
                            f"got {len(args)}")
        tensors = [a if isinstance(a, chainrule.Tensor) else chainrule.tensor(a, dtype=chainrule.float64)
                   for a in args]
        _check_values(expr, dict(zip(names, tensors)))
        out = _run(expr, dict(zip(names, tensors)), table, lambda b, e: b ** e)
        if not isinstance(out, chainrule.Tensor):
            out = chainrule.tensor(out, dtype=chainrule.float64)
        return out
    function.__name__ = "lambdified"
    function.__doc__ = f"f({', '.join(names)}) = {expr}"
    return function
