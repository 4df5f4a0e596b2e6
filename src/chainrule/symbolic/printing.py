"""str() and LaTeX for expressions, with the fewest parentheses that keep the meaning."""
from .expr import _split_coeff, const, mul, power

ADD, MUL, POW, ATOM = 1, 2, 3, 4
LATEX_NAMES = {"sigmoid": r"\sigma", "asin": r"\arcsin", "acos": r"\arccos", "atan": r"\arctan",
               "sign": r"\operatorname{sign}", "log1p": r"\operatorname{log1p}", "expm1": r"\operatorname{expm1}"}


def _number(value):
    return str(value) if isinstance(value, int) else repr(value)


def _precedence(node):
    if node.op == "add":
        return ADD
    if node.op == "mul" or (node.op == "const" and node.payload < 0):
        return MUL
    if node.op == "pow":
        return POW
    return ATOM


def _split_fraction(node):
    """(coefficient, numerator factors, denominator factors) of a product."""
    coeff, rest = _split_coeff(node)
    factors = rest.args if rest.op == "mul" else (() if rest.op == "const" else (rest,))
    num, den = [], []
    for f in factors:
        if f.op == "pow" and f.args[1].op == "const" and f.args[1].payload < 0:
            den.append(power(f.args[0], const(-f.args[1].payload)))
        else:
            num.append(f)
    return coeff, num, den


def to_str(node):
    """Python syntax: x**2*y + y + 2."""
    def wrap(child, level):
        text = to_str(child)
        return f"({text})" if _precedence(child) < level else text

    op = node.op
    if op == "const":
        return _number(node.payload)
    if op == "sym":
        return node.payload
    if op == "add":
        first, *rest = _terms(node)
        text = to_str(first)
        for term in rest:
            c, _ = _split_coeff(term)
            text += f" - {wrap(_negate(term), ADD + 1)}" if c < 0 else f" + {to_str(term)}"
        return text
    if op in ("mul", "pow"):
        coeff, num, den = _split_fraction(node)
        if op == "pow" and not den:
            base, exponent = node.args
            return f"{wrap(base, ATOM)}**{wrap(exponent, ATOM)}"
        parts = [wrap(f, MUL) if f.op != "pow" else to_str(f) for f in num]
        top = "*".join(parts)
        if coeff == -1 and top:
            sign, coeff = "-", 1
        else:
            sign = ""
        if coeff != 1 or not top:
            top = _number(coeff) + ("*" + top if top else "")
        if den:
            bottom = "*".join(wrap(f, MUL) if f.op != "pow" else to_str(f) for f in den)
            top = f"{top}/{bottom if len(den) == 1 and _precedence(den[0]) > MUL else '(' + bottom + ')'}"
        return sign + top
    return f"{op}({to_str(node.args[0])})"


def _terms(node):
    """The terms of a sum, starting with a positive one where there is one (1 - x rather than -x + 1)."""
    terms = list(node.args)
    for i, term in enumerate(terms):
        if _split_coeff(term)[0] > 0:
            return [term] + terms[:i] + terms[i + 1:]
    return terms


def _negate(term):
    return mul(const(-1), term)


def to_latex(node):
    """LaTeX: x^{2} y + y + 2, \\frac{x}{y}, \\sin\\left(x\\right)."""
    def wrap(child, level):
        text = to_latex(child)
        return rf"\left({text}\right)" if _precedence(child) < level else text

    op = node.op
    if op == "const":
        return _number(node.payload)
    if op == "sym":
        return node.payload if len(node.payload) == 1 else rf"\mathrm{{{node.payload}}}"
    if op == "add":
        first, *rest = _terms(node)
        text = to_latex(first)
        for term in rest:
            c, _ = _split_coeff(term)
            text += f" - {to_latex(_negate(term))}" if c < 0 else f" + {to_latex(term)}"
        return text
    if op in ("mul", "pow"):
        coeff, num, den = _split_fraction(node)
        if op == "pow" and not den:
            base, exponent = node.args
            if exponent.op == "const" and exponent.payload == 0.5:
                return rf"\sqrt{{{to_latex(base)}}}"
            return f"{wrap(base, ATOM)}^{{{to_latex(exponent)}}}"
        sign = "-" if coeff < 0 else ""
        coeff = abs(coeff)
        top = " ".join(wrap(f, MUL) for f in num)
        if coeff != 1 or not top:
            top = _number(coeff) + (" " + top if top else "")
        if den:
            return rf"{sign}\frac{{{top}}}{{{' '.join(wrap(f, MUL) for f in den)}}}"
        return sign + top
    arg = to_latex(node.args[0])
    if op == "sqrt":
        return rf"\sqrt{{{arg}}}"
    if op == "exp":
        return f"e^{{{arg}}}"
    if op == "abs":
        return rf"\left|{arg}\right|"
    name = LATEX_NAMES.get(op, "\\" + op)
    return rf"{name}\left({arg}\right)"
