"""Derivative rules: one table, function name -> derivative of f(u) with respect to u."""
from .expr import ONE, ZERO, add, call, const, mul, power, topo, symbol, Expr

RULES = {
    "sin": lambda u: call("cos", u),
    "cos": lambda u: -call("sin", u),
    "tan": lambda u: 1 + call("tan", u) ** 2,
    "exp": lambda u: call("exp", u),
    "log": lambda u: 1 / u,
    "sqrt": lambda u: 1 / (2 * call("sqrt", u)),
    "tanh": lambda u: 1 - call("tanh", u) ** 2,
    "sigmoid": lambda u: call("sigmoid", u) * (1 - call("sigmoid", u)),
    "abs": lambda u: call("sign", u),
    "sign": lambda u: ZERO,
    "sinh": lambda u: call("cosh", u),
    "cosh": lambda u: call("sinh", u),
    "asin": lambda u: (1 - u ** 2) ** const(-0.5),
    "acos": lambda u: -(1 - u ** 2) ** const(-0.5),
    "atan": lambda u: 1 / (1 + u ** 2),
    "log1p": lambda u: 1 / (1 + u),
    "expm1": lambda u: call("exp", u),
}


def _derivative(expr, var):
    """d expr / d var over the DAG: each node's derivative is built once and shared."""
    d = {}
    for node in topo(expr):
        op, args = node.op, node.args
        if op == "const":
            out = ZERO
        elif op == "sym":
            out = ONE if node is var else ZERO
        elif op == "add":
            out = add(*(d[a] for a in args))
        elif op == "mul":
            out = add(*(mul(d[a], *args[:i], *args[i + 1:]) for i, a in enumerate(args) if d[a] is not ZERO))
        elif op == "pow":
            b, e = args
            if d[e] is ZERO:
                out = mul(e, power(b, add(e, const(-1))), d[b]) if d[b] is not ZERO else ZERO
            else:
                out = mul(node, add(mul(d[e], call("log", b)), mul(e, d[b], power(b, const(-1)))))
        else:
            out = mul(RULES[op](args[0]), d[args[0]]) if d[args[0]] is not ZERO else ZERO
        d[node] = out
    return d[expr]


def diff(expr, *variables):
    """expr.diff(x), expr.diff(x, y) (mixed), expr.diff(x, 3) (third derivative); names work too."""
    if not variables:
        raise TypeError("diff() needs a variable: expr.diff(x) or expr.diff('x')")
    last = None
    for v in variables:
        if isinstance(v, int) and not isinstance(v, bool):
            if last is None or v < 1:
                raise ValueError("diff(x, n): the order n must follow a variable and be >= 1")
            for _ in range(v - 1):
                expr = _derivative(expr, last)
            continue
        last = symbol(v) if isinstance(v, str) else v
        if not isinstance(last, Expr) or last.op != "sym":
            raise TypeError(f"can only differentiate with respect to a symbol, got {v!r}")
        expr = _derivative(expr, last)
    return expr


def gradient(expr, variables):
    """[d expr/d v for v in variables]; variables: symbols or a string like "x y"."""
    from .expr import symbols
    variables = symbols(variables) if isinstance(variables, str) else variables
    return [diff(expr, v) for v in variables]


def hessian(expr, variables):
    """The matrix (list of lists) of second derivatives."""
    from .expr import symbols
    variables = symbols(variables) if isinstance(variables, str) else variables
    return [gradient(g, variables) for g in gradient(expr, variables)]

