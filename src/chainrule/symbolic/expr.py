"""Expression nodes. Every node is hash-consed: building an equal expression twice returns the same
object, so equal subexpressions are one node and an expression is a DAG. The constructors (add, mul,
power, call) simplify as they build: constant folding, 0/1 identities, like terms and like powers."""
import itertools
import math
import weakref

_TABLE = weakref.WeakValueDictionary()
_SERIAL = itertools.count()
FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "sign", "sinh", "cosh",
             "asin", "acos", "atan", "log1p", "expm1")


class Expr:
    """A symbolic expression (one node of a DAG). Build with symbols(), numbers and operators."""
    __slots__ = ("op", "args", "payload", "key", "degree", "serial", "__weakref__")

    def __add__(self, other): return add(self, as_expr(other))
    def __radd__(self, other): return add(as_expr(other), self)
    def __sub__(self, other): return add(self, neg(as_expr(other)))
    def __rsub__(self, other): return add(as_expr(other), neg(self))
    def __mul__(self, other): return mul(self, as_expr(other))
    def __rmul__(self, other): return mul(as_expr(other), self)
    def __truediv__(self, other): return mul(self, power(as_expr(other), MINUS_ONE))
    def __rtruediv__(self, other): return mul(as_expr(other), power(self, MINUS_ONE))
    def __pow__(self, other): return power(self, as_expr(other))
    def __rpow__(self, other): return power(as_expr(other), self)
    def __neg__(self): return neg(self)
    def __pos__(self): return self
    def __abs__(self): return call("abs", self)
    def pow(self, other): return self ** other
    def square(self): return self ** 2
    def reciprocal(self): return 1 / self

    def __repr__(self):  # bounded: str() of a large DAG writes out every shared subexpression again
        size = self.tree_size()
        return f"Expr({self})" if size <= 2000 else f"Expr(<{self.node_count()} nodes, tree size {size}>)"

    def __str__(self):
        from .printing import to_str
        return to_str(self)

    def __bool__(self):
        raise TypeError("a symbolic expression has no truth value; compare numbers from .evaluate() instead")

    @property
    def is_constant(self):
        return self.op == "const"

    @property
    def value(self):
        """The number of a constant node."""
        if self.op != "const":
            raise ValueError(f"{self} is not a constant; call .evaluate(...) to get a number")
        return self.payload


def _method(name):
    def method(self):
        return call(name, self)
    method.__name__ = name
    return method


for _name in FUNCTIONS:  # x.sin(), x.exp(), ... like Tensor methods (so symbolic.trace sees them)
    setattr(Expr, _name, _method(_name))


def _chainrule_function(self, name):
    """chainrule.sin(x) on an expression (chainrule's unary functions call this): sin(x), or a clear error
    for a function the symbolic layer does not have."""
    if name not in FUNCTIONS:
        raise TypeError(f"chainrule.{name} has no symbolic form; the symbolic layer knows {', '.join(FUNCTIONS)}")
    return call(name, self)


Expr.__chainrule_function__ = _chainrule_function


def _short(text):
    return text if len(text) <= 60 else text[:60]


def _node(op, args=(), payload=None):
    table_key = (op, payload, args)
    node = _TABLE.get(table_key)
    if node is not None:
        return node
    node = object.__new__(Expr)
    node.op, node.args, node.payload, node.serial = op, args, payload, next(_SERIAL)
    if op == "const":
        node.key, node.degree = (0, repr(payload)), 0
    elif op == "sym":
        node.key, node.degree = (1, payload), 1
    else:
        node.key = (2, _short(op + "(" + ",".join(a.key[1] for a in args) + ")"))
        if op == "add":
            node.degree = max(a.degree for a in args)
        elif op == "mul":
            node.degree = sum(a.degree for a in args)
        elif op == "pow" and args[1].op == "const":
            node.degree = args[0].degree * args[1].payload
        else:
            node.degree = 1
    _TABLE[table_key] = node
    return node


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = value.item() if hasattr(value, "item") else value
        except (TypeError, ValueError):
            pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"cannot use {type(value).__name__} {value!r} in a symbolic expression; "
                            "use numbers, symbols or expressions")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        value = int(value)
    return value


def const(value):
    """A constant node; floats with an integer value become ints (2.0 -> 2)."""
    return _node("const", (), _number(value))


def as_expr(value):
    return value if isinstance(value, Expr) else const(value)


def symbol(name):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"symbol name must be an identifier like 'x', got {name!r}")
    return _node("sym", (), name)


def symbols(names):
    """symbols("x y") -> (x, y); also accepts "x,y" or a list of names."""
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    result = tuple(symbol(n) for n in names)
    if not result:
        raise ValueError("symbols() needs at least one name, e.g. symbols('x y')")
    return result


ZERO, ONE, MINUS_ONE = const(0), const(1), const(-1)


def neg(a):
    return mul(MINUS_ONE, a)


def _is(node, number):
    return node.op == "const" and node.payload == number


def _split_coeff(term):
    """term -> (number, rest) with term == number * rest."""
    if term.op == "const":
        return term.payload, ONE
    if term.op == "mul" and term.args[0].op == "const":
        rest = term.args[1:]
        return term.args[0].payload, rest[0] if len(rest) == 1 else _node("mul", rest)
    return 1, term


def add(*terms):
    """Sum with flattening, constant folding and like terms (2*x + 3*x -> 5*x, x - x -> 0)."""
    flat = []
    for t in terms:
        flat.extend(t.args if t.op == "add" else (t,))
    number, coeffs = 0, {}
    for t in flat:
        c, rest = _split_coeff(t)
        if rest is ONE:
            number += c
        else:
            coeffs[rest] = coeffs.get(rest, 0) + c
    out = [mul(const(c), rest) for rest, c in coeffs.items() if c != 0]
    out.sort(key=lambda n: (-n.degree, _split_coeff(n)[1].key, n.serial))
    if number != 0:
        out.append(const(number))
    if not out:
        return ZERO
    return out[0] if len(out) == 1 else _node("add", tuple(out))


def _base_exp(factor):
    if factor.op == "pow":
        return factor.args
    return factor, ONE


def mul(*factors):
    """Product with flattening, constant folding and like powers (x*x -> x**2, x/x -> 1)."""
    flat = []
    for f in factors:
        flat.extend(f.args if f.op == "mul" else (f,))
    number, exps = 1, {}
    for f in flat:
        if f.op == "const":
            number = _fold(number * f.payload)
        else:
            base, e = _base_exp(f)
            exps[base] = add(exps[base], e) if base in exps else e
    if number == 0:
        return ZERO
    if len(exps) == 1 and number != 1:  # 2*(x + y) -> 2*x + 2*y, -(x - y) -> y - x
        (base, e), = exps.items()
        if base.op == "add" and e is ONE:
            return add(*(mul(const(number), t) for t in base.args))
    out = [power(b, e) for b, e in exps.items()]
    more = []
    for f in out:  # power() can fold to a constant or a product (x**0 -> 1)
        if f.op == "const":
            number = _fold(number * f.payload)
        elif f.op == "mul":
            return mul(const(number), *out)  # rare: re-collect
        else:
            more.append(f)
    more.sort(key=lambda n: (_base_exp(n)[0].key, n.serial))
    if number != 1 or not more:
        more.insert(0, const(number))
    return more[0] if len(more) == 1 else _node("mul", tuple(more))


def _fold(value):
    return _number(value) if isinstance(value, float) and math.isfinite(value) else value


def power(base, exponent):
    """base ** exponent with x**0 -> 1, x**1 -> x, (x**a)**n -> x**(a*n) for integer n, constants folded."""
    if _is(exponent, 0) or _is(base, 1):
        return ONE
    if _is(exponent, 1):
        return base
    if base.op == "const" and exponent.op == "const":
        b, e = base.payload, exponent.payload
        if isinstance(b, int) and isinstance(e, int) and 0 <= e <= 1000 and abs(b) < 2 ** 64:
            return const(b ** e)
        try:
            value = float(b) ** float(e)
        except (OverflowError, ZeroDivisionError):
            value = None
        if isinstance(value, float) and math.isfinite(value):
            return const(value)
    if base.op == "pow" and exponent.op == "const" and isinstance(exponent.payload, int):
        return power(base.args[0], mul(base.args[1], exponent))
    if base.op == "mul" and exponent.op == "const" and isinstance(exponent.payload, int):
        return mul(*(power(f, exponent) for f in base.args))
    return _node("pow", (base, exponent))


def call(name, arg):
    """A function node, folded when its argument is a constant and the value is an integer (sin(0) -> 0)."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; known: {', '.join(FUNCTIONS)}")
    arg = as_expr(arg)
    if arg.op == "const":
        from .evaluate import NUMPY
        try:
            value = float(NUMPY[name](float(arg.payload)))
        except (ValueError, ZeroDivisionError, OverflowError):
            value = math.nan
        if math.isfinite(value) and value.is_integer():
            return const(value)
    return _node(name, (arg,))


def topo(root):
    """The nodes under root, children before parents, each once (iterative: deep expressions are fine)."""
    seen, order, stack = set(), [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if id(a) not in seen)
    return order
