"""parse("x*x*y + y + 2"): text to an expression through Python's ast, never eval. Only numbers, names,
+ - * / **, unary minus and calls of the known functions are accepted."""
import ast
import math

from .expr import FUNCTIONS, add, call, const, mul, neg, power, symbol

MAX_LENGTH, MAX_EXPONENT = 10_000, 1000


class ParseError(ValueError):
    """A bad expression; the message names the problem and its column (1-based)."""


def _fail(node, what):
    raise ParseError(f"column {getattr(node, 'col_offset', 0) + 1}: {what}")


def parse(text, names=None):
    """Turn a string into an expression. names: the allowed symbol names (default: any identifier)."""
    if not isinstance(text, str):
        raise ParseError(f"column 1: expected an expression string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"column {MAX_LENGTH + 1}: expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        if not error.offset:  # Python reports offset 0 when the expression ends too early ("x*x*")
            raise ParseError(f"column {len(text.strip()) + 1}: the expression ends too early ({error.msg})") from None
        raise ParseError(f"column {error.offset}: invalid syntax ({error.msg})") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ParseError(f"column 1: cannot parse this expression ({type(error).__name__})") from None
    allowed = None if names is None else set(names.replace(",", " ").split() if isinstance(names, str) else names)
    try:
        return _build(tree.body, allowed)
    except RecursionError:
        raise ParseError("column 1: expression nested too deeply") from None


BINARY = {ast.Add: add, ast.Mult: mul, ast.Sub: lambda a, b: add(a, neg(b)),
          ast.Div: lambda a, b: mul(a, power(b, const(-1)))}


def _build(node, allowed):
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(node, f"only numbers are allowed as constants, not {type(value).__name__} {value!r:.40}")
        if not math.isfinite(value) or abs(value) > 1e300:
            _fail(node, f"number {value!r:.40} is too large")
        return const(value)
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            _fail(node, f"function {node.id!r} must be called, e.g. {node.id}(x)")
        if allowed is not None and node.id not in allowed:
            _fail(node, f"unknown name {node.id!r}; expected one of: {', '.join(sorted(allowed))}")
        return symbol(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, allowed)
        return neg(operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = _build(node.left, allowed), _build(node.right, allowed)
        if exponent.op == "const" and abs(exponent.payload) > MAX_EXPONENT:
            _fail(node.right, f"exponent {exponent.payload} is too large (at most {MAX_EXPONENT})")
        return power(base, exponent)
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        return BINARY[type(node.op)](_build(node.left, allowed), _build(node.right, allowed))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)[:40]
            _fail(node, f"unknown function {what!r}; known: {', '.join(FUNCTIONS)}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            _fail(node, f"{node.func.id}() takes exactly one positional argument")
        return call(node.func.id, _build(node.args[0], allowed))
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        _fail(node, f"operator {type(node.op).__name__} is not allowed; use + - * / **")
    kind = type(node).__name__
    what = {"Attribute": "attribute access", "Subscript": "subscripts", "Lambda": "lambda",
            "Compare": "comparisons", "BoolOp": "and/or"}.get(kind, kind)
    _fail(node, f"{what} is not allowed; use numbers, names, + - * / ** and {', '.join(FUNCTIONS[:4])}, ...")

