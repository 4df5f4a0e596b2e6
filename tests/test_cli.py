"""The `chainrule` command: `basics` prints f(x, y) = x²y + y + 2 at (3, 4) with its gradient and Hessian."""
import io
import os
import subprocess
import sys

import chainrule
from chainrule import cli


def test_basics_values_gradient_and_hessian():
    out = io.StringIO()
    value, gradient, hessian = cli.basics(out)
    # f = 9*4 + 4 + 2; grad = (2xy, x^2 + 1); Hessian = [[2y, 2x], [2x, 0]]
    assert value == 42.0
    assert gradient == (24.0, 10.0)
    assert hessian == [[8.0, 6.0], [6.0, 0.0]]
    text = out.getvalue()
    assert "f = 42" in text and "[24, 10]" in text and "[8, 6]" in text and "[6, 0]" in text


def run_module(*args):
    source = os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__)))  # works installed or not
    env = {**os.environ, "PYTHONPATH": source + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True, text=True, check=True, env=env)


def test_python_dash_m_runs_basics_and_version():
    demo = run_module("basics")
    assert "value     f = 42" in demo.stdout
    version = run_module("version")
    assert version.stdout.strip() == chainrule.__version__


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "demo" in capsys.readouterr().out
