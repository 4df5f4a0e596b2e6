"""Whole-expression tools: subs, node counts, trace, SymPy conversion."""
from .expr import Expr, add, as_expr, call, const, mul, power, symbol, symbols, topo


def rebuild(expr, leaf):
    """Rebuild expr bottom-up through the simplifying constructors; leaf(node) may replace a symbol."""
    done = {}
    for node in topo(expr):
        a = [done[x] for x in node.args]
        if node.op in ("const", "sym"):
            out = leaf(node)
        elif node.op == "add":
            out = add(*a)
        elif node.op == "mul":
            out = mul(*a)
        elif node.op == "pow":
            out = power(*a)
        else:
            out = call(node.op, a[0])
        done[node] = out
    return done[expr]


def subs(expr, mapping=None, **values):
    """Replace symbols by numbers or expressions: e.subs(x=2), e.subs({x: y + 1})."""
    table = {}
    for key, value in {**(mapping or {}), **values}.items():
        name = key.payload if isinstance(key, Expr) and key.op == "sym" else key
        if not isinstance(name, str):
            raise TypeError(f"subs() keys must be symbols or names, got {key!r}")
        table[name] = as_expr(value)
    return rebuild(expr, lambda n: table.get(n.payload, n) if n.op == "sym" else n)


def node_count(expr):
    """Distinct nodes in the DAG (what memory holds)."""
    return len(topo(expr))


def tree_size(expr):
    """Nodes of the same expression written out as a tree, with no sharing (what it would take without
    hash-consing); can be astronomically larger than node_count."""
    size = {}
    for node in topo(expr):
        size[node] = 1 + sum(size[a] for a in node.args)
    return size[expr]


def trace(fn, names):
    """Run fn on symbols and return the expression it builds. fn may use operators, tensor methods
    (x.sin()) and chainrule's unary functions (chainrule.sin(x)); other chainrule functions need tensors."""
    syms = symbols(names)
    try:
        out = fn(*syms)
    except TypeError as error:
        if "Expr" not in str(error):
            raise
        raise TypeError(f"trace(): {error}. Only operators, tensor methods (x.sin(), x.exp()) and chainrule's "
                        "unary functions (chainrule.sin, chainrule.exp, ...) work on symbols") from None
    if isinstance(out, Expr):
        return out
    try:
        return as_expr(out)
    except TypeError:
        raise TypeError(f"trace(): {getattr(fn, '__name__', fn)} returned {type(out).__name__}, not an "
                        "expression; it can use +, -, *, /, ** and methods like x.exp(), x.sin()") from None


def to_sympy(expr):
    """The same expression as a SymPy object (needs `pip install sympy`)."""
    sympy = _sympy()
    funcs = {"sigmoid": lambda u: 1 / (1 + sympy.exp(-u)), "abs": sympy.Abs,
             "log1p": lambda u: sympy.log(1 + u), "expm1": lambda u: sympy.exp(u) - 1}
    done = {}
    for node in topo(expr):
        a = [done[x] for x in node.args]
        if node.op == "const":
            p = node.payload
            out = sympy.Integer(p) if isinstance(p, int) else sympy.Float(p)
        elif node.op == "sym":
            out = sympy.Symbol(node.payload, real=True)  # chainrule works on real numbers
        elif node.op == "add":
            out = sympy.Add(*a)
        elif node.op == "mul":
            out = sympy.Mul(*a)
        elif node.op == "pow":
            out = sympy.Pow(*a)
        else:
            out = funcs.get(node.op, getattr(sympy, node.op, None))(a[0])
        done[node] = out
    return done[expr]


def from_sympy(obj):
    """A SymPy expression (numbers, symbols, + * **, the known functions) as a chainrule expression."""
    sympy = _sympy()
    names = {sympy.Abs: "abs"}
    if obj.is_Symbol:
        return symbol(obj.name)
    if obj.is_Integer:
        return const(int(obj))
    if obj.is_Number:
        return const(float(obj))
    args = [from_sympy(a) for a in obj.args]
    if obj.is_Add:
        return add(*args)
    if obj.is_Mul:
        return mul(*args)
    if obj.is_Pow:
        return power(*args)
    name = names.get(obj.func, getattr(obj.func, "__name__", ""))
    from .expr import FUNCTIONS
    if name in FUNCTIONS and len(args) == 1:
        return call(name, args[0])
    raise ValueError(f"from_sympy: {obj.func} is not supported; supported are numbers, symbols, + * ** "
                     f"and {', '.join(FUNCTIONS)}")


def _sympy():
    try:
        import sympy
    except ImportError:
        raise ImportError("this needs SymPy, an optional dependency: pip install sympy") from None
    return sympy
