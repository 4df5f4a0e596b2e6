"""`chainrule diff EXPR --at x=3 y=4`: derivative formulas, values by every method, differences; errors exit 2."""
import pytest

from chainrule import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_seed_gradient(capsys):
    code, out, err = run(capsys, "diff", "x*x*y + y + 2", "--at", "x=3", "y=4")
    assert code == 0 and err == ""
    assert "value  f = 42" in out
    assert "df/dx = 2*x*y" in out and "df/dy = x**2 + 1" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.startswith("df/d") and "=" not in line}
    assert rows["df/dx"] == ["24", "24", "24", "24"] and rows["df/dy"] == ["10", "10", "10", "10"]
    assert "reverse vs symbolic: 0" in out and "numerical vs symbolic" in out and "MISMATCH" not in out


def test_seed_hessian(capsys):
    code, out, _ = run(capsys, "diff", "x*x*y + y + 2", "--at", "x=3", "y=4", "--hessian")
    assert code == 0
    assert "d2f/dxdx = 2*y" in out and "d2f/dxdy = 2*x" in out and "d2f/dydy = 0" in out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()
             if line.startswith("d2f/") and "=" not in line}
    assert [table[k][0] for k in ("d2f/dxdx", "d2f/dxdy", "d2f/dydx", "d2f/dydy")] == ["8", "6", "6", "0"]
    assert all(len(set(v)) == 1 for v in table.values())  # every method prints the same (rounded) number


@pytest.mark.parametrize("method", ["reverse", "forward", "numerical", "symbolic"])
def test_one_method(capsys, method):
    code, out, _ = run(capsys, "diff", "sin(x)*exp(y)", "--at", "x=0.5", "y=1", "--method", method)
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("derivative"))
    assert header.split() == ["derivative", method]
    assert "largest difference" not in out  # nothing to compare with


def test_report_object_and_functions():
    import io
    report = cli.diff("exp(x) / (1 + x**2)", {"x": 0.3}, out=io.StringIO())
    assert report.ok and set(report.values) == {"reverse", "forward", "numerical", "symbolic"}


@pytest.mark.parametrize("argv, message", [
    (["x*x*", "--at", "x=1"], "cannot parse 'x*x*': column"),
    (["x.real", "--at", "x=1"], "column 1: attribute access is not allowed"),
    (["foo(x)", "--at", "x=1"], "unknown function 'foo'"),
    (["__import__('os')", "--at", "x=1"], "cannot parse"),
    (["lambda: x", "--at", "x=1"], "lambda"),
    (["x**100000", "--at", "x=1"], "column 4"),
    (["x*y", "--at", "x=3"], "no value for y (given: x); add it to --at, e.g. --at x=3 y=VALUE"),
    (["x*y"], "no value for x, y (given: none)"),
    (["2"], "the expression has no variables"),
    (["x", "--at", "x3"], "--at takes name=value pairs like x=3, got 'x3'"),
    (["x", "--at", "x=three"], "'three' is not a number"),
    (["x", "--at", "x=nan"], "give a finite number"),
])
def test_errors_are_one_line_with_exit_code_2(capsys, argv, message):
    code, out, err = run(capsys, "diff", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("chainrule diff: error: ")
    assert message in err


def test_plot_steps_writes_one_image_per_variable(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "steps.png"
    code, out, _ = run(capsys, "diff", "x*x*y + y + 2", "--at", "x=3", "y=4", "--plot-steps", str(path))
    assert code == 0
    for name in ("x", "y"):
        image = tmp_path / f"steps_{name}.png"
        assert f"wrote {image}" in out and image.read_bytes().startswith(b"\x89PNG")
    single = tmp_path / "one.png"
    assert cli.main(["diff", "sin(x)", "--at", "x=1", "--plot-steps", str(single)]) == 0
    assert single.read_bytes().startswith(b"\x89PNG")


def test_basics_and_version_still_work(capsys):
    assert cli.main(["version"]) == 0
    assert cli.main(["basics"]) == 0
    assert "f = 42" in capsys.readouterr().out


def test_explain_prints_seed_004_walk_and_graph_is_drawn(capsys, tmp_path):
    # seed 004: f = sqrt(y log x) + y log x at x = 3, y = 2; its derivation gives these (computed here with math)
    import math
    target = tmp_path / "graph.svg"
    code, out, _ = run(capsys, "diff", "sqrt(y*log(x)) + y*log(x)", "--at", "x=3", "y=2", "--explain",
                    "--graph", str(target))
    assert code == 0
    assert "step by step" in out and "SqrtBackward0" in out and "(via c)" in out
    df_db = 1 / (2 * math.sqrt(2 * math.log(3))) + 1
    df_dx = 1 / (3 * math.sqrt(2 * math.log(3))) + 2 / 3
    assert f"df/db = 1 (via f) + {df_db - 1:.6g} (via c) = {df_db:.6g}" in out
    assert f"df/dx = {df_dx:.6g}" in out
    assert target.read_bytes().lstrip().startswith((b"<?xml", b"<svg")) and f"wrote {target}" in out


def test_graph_with_an_unknown_format_is_one_line(capsys, tmp_path):
    code = cli.main(["diff", "x*x", "--at", "x=1", "--graph", str(tmp_path / "g.nope")])
    assert code == 2 and "chainrule diff: error:" in capsys.readouterr().err
