"""The ``chainrule`` command (also ``python -m chainrule``)."""
import argparse
import sys


def basics(out=sys.stdout):
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


class CommandError(Exception):
    """A mistake in the command line: printed as one line, exit code 2."""


def _parse_at(pairs):
    """["x=3", "y=4"] -> {"x": 3.0, "y": 4.0}, in the order given."""
    values = {}
    for pair in pairs or ():
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise CommandError(f"--at takes name=value pairs like x=3, got {pair!r}")
        try:
            values[name] = float(text)
        except ValueError:
            raise CommandError(f"--at {pair}: {text!r} is not a number") from None
        if values[name] != values[name] or abs(values[name]) == float("inf"):
            raise CommandError(f"--at {pair}: give a finite number")
    return values


def diff(text, at, hessian=False, method="all", plot_steps=None, out=None, explain=False, graph=None):
    """The `diff` command: parse ``text`` into a symbolic expression (with ast, never eval), print its first
    (or, with ``hessian``, second) derivative formulas and their values at ``at`` (a dict name -> number) by
    each method, and the largest difference between each pair of methods. Returns the DerivativeReport."""
    from . import symbolic
    from .checking import check_derivatives, METHODS

    out = sys.stdout if out is None else out
    try:
        expression = symbolic.parse(text)
    except symbolic.ParseError as error:
        raise CommandError(f"cannot parse {text!r}: {error}") from None
    used = symbolic.free_symbols(expression)
    missing = [name for name in used if name not in at]
    if missing:
        given = ", ".join(at) or "none"
        raise CommandError(f"no value for {', '.join(missing)} (given: {given}); add it to --at, e.g. --at "
                           + " ".join([*(f"{n}={v:g}" for n, v in at.items()), *(f"{n}=VALUE" for n in missing)]))
    if not at:
        raise CommandError("the expression has no variables; give one with --at, e.g. --at x=1")
    names = list(at)
    variables = symbolic.symbols(" ".join(names))
    order = 2 if hessian else 1
    methods = METHODS if method == "all" else (method,)

    print(f"f = {expression}   at " + ", ".join(f"{n} = {v:g}" for n, v in at.items()), file=out)
    print(f"value  f = {expression.evaluate(**at):.10g}", file=out)
    for a, va in zip(names, variables):
        first = expression.diff(va)
        if not hessian:
            print(f"df/d{a} = {first}", file=out)
            continue
        for b, vb in zip(names, variables):
            print(f"d2f/d{a}d{b} = {first.diff(vb)}", file=out)
    function = symbolic.lambdify(expression, names)
    report = check_derivatives(function, *at.values(), order=order, methods=methods, names=names,
                               expression=expression)
    print(report, file=out)
    if plot_steps:
        _plot_steps(expression, names, at, plot_steps, out)
    if explain or graph:
        _explain_and_draw(function, at, explain, graph, out)
    return report


def _explain_and_draw(function, at, explain, graph, out):
    """Run the expression through chainrule once more with leaves named as on the command line: print the
    chain rule step by step (``--explain``) and/or render the graph with values and gradients (``--graph``)."""
    import chainrule
    from chainrule import viz

    leaves = {name: chainrule.tensor(value, dtype=chainrule.float64, requires_grad=True) for name, value in at.items()}
    f = function(*leaves.values())
    if explain:
        print(viz.explain(f, inputs=leaves), file=out)
    if graph:
        f.backward(retain_graph=True)  # so the drawing can show each leaf's gradient
        try:
            path = viz.render(f, graph, params=leaves, show_values=True, show_grads=True)
        except (RuntimeError, ValueError) as error:  # no Graphviz, or an unknown image format
            raise CommandError(str(error)) from None
        print(f"wrote {path}", file=out)


def _plot_steps(expression, names, at, path, out):
    """The finite-difference error against the step, one curve per method, for each variable in turn (the
    others fixed); several variables write one file each (out_x.png, out_y.png)."""
    import os
    from . import numerical, symbolic

    stem, ext = os.path.splitext(path)
    for name in names:
        target = path if len(names) == 1 else f"{stem}_{name}{ext}"

        def along(t, name=name):
            return symbolic.evaluate(expression, **{**at, name: t})
        try:
            numerical.plot_error_curve(along, at[name], target, title=f"d/d{name} of {expression}")
        except ImportError as error:
            raise CommandError(str(error)) from None
        print(f"wrote {target}", file=out)


def _add_training_options(parser, demo):
    from .training import TrainConfig, MODELS, DATASETS, OPTIMIZERS, SCHEDULES

    defaults = TrainConfig()
    parser.add_argument("--out", default="chainrule-demo" if demo else defaults.out,
                        help="folder for the checkpoint, weights, history and plot (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="initialisation and shuffling seed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (the per-epoch lines stay)")
    parser.add_argument("--graph", action="store_true",
                        help="also render the graph of one training step to graph.svg in the output folder (Graphviz)")
    if demo:
        return
    parser.add_argument("--model", choices=MODELS, default=defaults.model, help="default: %(default)s")
    parser.add_argument("--hidden", type=int, nargs="+", default=list(defaults.hidden), metavar="N",
                        help="hidden layer widths of the mlp (default: %(default)s)")
    parser.add_argument("--dataset", choices=DATASETS, default=defaults.dataset,
                        help="digits (embedded, 8x8) or mnist (read from --data-dir); default: %(default)s")
    parser.add_argument("--data-dir", help="folder with the MNIST IDX files (plain or .gz)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer, help="default: %(default)s")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="learning rate (default: %(default)s)")
    parser.add_argument("--momentum", type=float, default=defaults.momentum,
                        help="for sgd and rmsprop (default: %(default)s)")
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="default: %(default)s")
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing, help="default: %(default)s")
    parser.add_argument("--schedule", choices=SCHEDULES, default=defaults.schedule,
                        help="learning rate over the epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="default: %(default)s")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint in --out (after an interrupted run)")


def train(args):
    """The `train` (and `demo`) command: build a TrainConfig from the options and run it."""
    from .training import TrainConfig, run

    options = {key: getattr(args, key) for key in ("out", "epochs", "seed", "model", "dataset", "data_dir",
                                                   "optimizer", "lr", "momentum", "weight_decay", "label_smoothing",
                                                   "schedule", "batch_size") if hasattr(args, key)}
    if hasattr(args, "hidden"):
        options["hidden"] = tuple(args.hidden)
    try:
        config = TrainConfig(**options)
        config.check()
    except ValueError as error:
        raise CommandError(str(error)) from None
    try:
        return run(config, resume=getattr(args, "resume", False), progress=not args.no_progress,
                   graph=getattr(args, "graph", False))
    except (FileNotFoundError, ValueError, RuntimeError) as error:  # a dataset file, an incompatible resume, no dot
        raise CommandError(str(error)) from None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="chainrule", description="Automatic differentiation on NumPy.")
    commands = parser.add_subparsers(dest="command")
    demo_parser = commands.add_parser(
        "demo", help="train an MLP on the embedded 8x8 digits with SGD + momentum (the main job)",
        description="Train an MLP 64-256-128-10 on the embedded handwritten digits with SGD + momentum: a "
                    "progress bar per epoch, loss and test accuracy per epoch, then the weights (safetensors), "
                    "the history (JSON) and a plot (PNG) in the output folder.")
    _add_training_options(demo_parser, demo=True)
    train_parser = commands.add_parser(
        "train", help="train a model (mlp, lenet5, resnet18) on digits or MNIST, with checkpoints and --resume",
        description="Train a model; a checkpoint is written atomically after every epoch, and --resume continues "
                    "an interrupted run to the same weights as an uninterrupted one.")
    _add_training_options(train_parser, demo=False)
    commands.add_parser("basics", help="differentiate f(x, y) = x**2*y + y + 2 at (3, 4): value, gradient, Hessian")
    commands.add_parser("version", help="print the version")
    diff_parser = commands.add_parser(
        "diff", help="differentiate an expression by every method and compare",
        description='Differentiate an expression, e.g. chainrule diff "x*x*y + y + 2" --at x=3 y=4: the '
                    "derivative formulas, their values by reverse mode, forward mode, finite differences "
                    "and the symbolic layer, and the largest difference between each pair.")
    diff_parser.add_argument("expression", help='a Python-syntax expression, e.g. "x*x*y + y + 2" or "sin(x)*exp(y)"')
    diff_parser.add_argument("--at", nargs="+", metavar="NAME=VALUE", default=[],
                             help="the point: a value for every variable, e.g. --at x=3 y=4")
    diff_parser.add_argument("--hessian", action="store_true", help="second derivatives instead of first")
    diff_parser.add_argument("--method", choices=("all", "reverse", "forward", "numerical", "symbolic"),
                             default="all", help="which method(s) to compute (default: all)")
    diff_parser.add_argument("--plot-steps", metavar="PATH",
                             help="draw the finite-difference error against the step into an image (matplotlib)")
    diff_parser.add_argument("--explain", action="store_true",
                             help="print the chain rule step by step, as the engine runs it")
    diff_parser.add_argument("--graph", metavar="PATH",
                             help="render the computation graph with values and gradients (.svg, .png or .pdf; Graphviz)")
    args = parser.parse_args(argv)
    if args.command in ("demo", "train"):
        try:
            train(args)
        except CommandError as error:
            print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
            return 2
    elif args.command == "basics":
        basics(sys.stdout)
    elif args.command == "diff":
        try:
            report = diff(args.expression, _parse_at(args.at), args.hessian, args.method, args.plot_steps,
                          explain=args.explain, graph=args.graph)
        except CommandError as error:
            print(f"chainrule diff: error: {error}", file=sys.stderr)
            return 2
        return 0 if report.ok else 1
    elif args.command == "version":
        import chainrule
        print(chainrule.__version__)
    else:
        parser.print_help()
        return 2
    return 0


def run_main(argv=None):
    """The console script: main(), quiet when the reader of stdout goes away (``chainrule demo | head``)."""
    try:
        return main(argv)
    except BrokenPipeError:
        sys.stderr.close()  # nothing more can be written; silence Python's own report at exit
        return 1


if __name__ == "__main__":
    sys.exit(run_main())
