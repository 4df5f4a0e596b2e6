"""The ``chainrule`` command (also ``python -m chainrule``)."""
import argparse
import sys


def demo(out=sys.stdout):
    """Differentiate f(x, y) = x²y + y + 2 at (3, 4): value, gradient (reverse mode) and Hessian
    (reverse mode applied twice, through create_graph=True)."""
    import chainrule as torch

    x = torch.tensor(3.0, requires_grad=True)
    y = torch.tensor(4.0, requires_grad=True)
    f = x * x * y + y + 2
    df_dx, df_dy = torch.autograd.grad(f, (x, y), create_graph=True)
    hessian = [[h.item() if h is not None else 0.0
                for h in torch.autograd.grad(d, (x, y), retain_graph=True, allow_unused=True)]
               for d in (df_dx, df_dy)]
    print("f(x, y) = x**2 * y + y + 2   at x = 3, y = 4", file=out)
    print(f"value     f = {f.item():g}", file=out)
    print(f"gradient  [df/dx, df/dy] = [{df_dx.item():g}, {df_dy.item():g}]   (2xy, x**2 + 1)", file=out)
    print("Hessian   [[d2f/dx2, d2f/dxdy], [d2f/dydx, d2f/dy2]] =", file=out)
    for row in hessian:
        print("          [" + ", ".join(f"{v:g}" for v in row) + "]", file=out)
    print("          (exact: [[2y, 2x], [2x, 0]] = [[8, 6], [6, 0]])", file=out)
    print(f"graph     f.grad_fn = {f.grad_fn.name()}", file=out)
    return f.item(), (df_dx.item(), df_dy.item()), hessian


def main(argv=None):
    parser = argparse.ArgumentParser(prog="chainrule", description="Automatic differentiation on NumPy.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("demo", help="differentiate f(x, y) = x**2*y + y + 2 at (3, 4): value, gradient, Hessian")
    commands.add_parser("version", help="print the version")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo()
    elif args.command == "version":
        import chainrule
        print(chainrule.__version__)
    else:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
