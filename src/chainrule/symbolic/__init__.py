"""chainrule.symbolic: symbolic expressions and derivatives on a hash-consed DAG.

    from chainrule import symbolic
    x, y = symbolic.symbols("x y")
    f = x * x * y + y + 2
    str(f.diff(x))          # '2*x*y'
    f.diff(y).evaluate(x=3, y=4)   # 10.0
"""
from .expr import FUNCTIONS, Expr, const, symbol, symbols, call
from .evaluate import evaluate, free_symbols, lambdify
from .parse import ParseError, parse
from .printing import to_latex, to_str
from .rules import RULES, diff, gradient, hessian
from .transform import from_sympy, node_count, subs, to_sympy, trace, tree_size

Expr.diff = diff
Expr.evaluate = evaluate
Expr.lambdify = lambdify
Expr.subs = subs
Expr.to_latex = to_latex
Expr.to_sympy = to_sympy
Expr.node_count = node_count
Expr.tree_size = tree_size
Expr.free_symbols = property(free_symbols)


def _function(name):
    def function(x):
        return call(name, x)
    function.__name__ = name
    function.__doc__ = f"Symbolic {name}(x)."
    return function


for _name in FUNCTIONS:  # symbolic.sin(x), symbolic.exp(x), ...
    globals()[_name] = _function(_name)

__all__ = ["Expr", "FUNCTIONS", "ParseError", "RULES", "const", "diff", "evaluate", "free_symbols",
           "from_sympy", "gradient", "hessian", "lambdify", "node_count", "parse", "subs", "symbol", "symbols",
           "to_latex", "to_str", "to_sympy", "trace", "tree_size", *FUNCTIONS]
