"""Draw docs/images/seed_graph.svg, the README's picture: seed 004's f = sqrt(y log x) + y log x at x = 3,
y = 2 (a = log x, b = y a, c = sqrt b, f = c + b), after backward, with each node's value and gradient.

    python tools/make_readme_graph.py [output.svg]

Needs Graphviz (the `dot` program and `pip install graphviz`)."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import chainrule as torch  # noqa: E402
from chainrule.viz.render import graph  # noqa: E402

TITLE = "f = sqrt(y log x) + y log x at x = 3, y = 2"


def seed_graph():
    """The Graph of seed 004's example after backward (values and gradients on every node)."""
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    a = torch.log(x)
    b = y * a
    c = torch.sqrt(b)
    f = c + b
    for t in (a, b, c, f):
        t.retain_grad()  # so the drawing shows df/da, df/db, df/dc as the seed writes them on the nodes
    f.backward()
    # Naming the intermediate tensors labels their nodes as the seed does and gives their values.
    return graph(f, params=dict(x=x, y=y, a=a, b=b, c=c, f=f), show_values=True, show_grads=True, title=TITLE)


def main(argv):
    out = pathlib.Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "images" / "seed_graph.svg"
    drawing = seed_graph()
    print(drawing.render(out))


if __name__ == "__main__":
    main(sys.argv)
