"""Every ```python block of README.md and docs/*.md runs, in order, one namespace per file. The code is
compiled with the document's name and line numbers, so a failure points at the line in the document."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path):
    text = path.read_text()
    for match in BLOCK.finditer(text):
        first_line = text.count("\n", 0, match.start(1))
        yield first_line, match.group(1)


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_document_examples_run(path):
    blocks = list(python_blocks(path))
    assert blocks, f"{path.name} has no ```python examples"
    namespace = {"__name__": f"docs_{path.stem}"}
    for first_line, code in blocks:
        padded = "\n" * first_line + code  # keep the document's line numbers in tracebacks
        exec(compile(padded, str(path.relative_to(ROOT)), "exec"), namespace)


def test_docs_list_every_registered_op():
    from chainrule.ops import REGISTRY
    listed = (ROOT / "docs" / "ops.md").read_text()
    missing = [name for name in REGISTRY if f"`{name}`" not in listed]
    assert not missing, f"docs/ops.md does not list these registered ops: {missing}"
