"""The examples of the source documents (../shared/seeds/000-002, PyTorch autograd tutorials) run with
`import chainrule as torch` and print the documents' numbers.

Seed 000 draws x with torch.randn and shows values from several different runs, so its printed numbers
are not one consistent computation; each test below starts from the x that the shown output implies
(derived by hand in the test's comment) and checks the printed line exactly.
"""
import pytest

import chainrule as torch


# ------------------------------------------------------------------------------------------- seed 000
def test_seed000_requires_grad_and_grad_fn_names(capsys):
    x = torch.tensor([-1.0475, 0.2038, 0.2971], requires_grad=True)
    print(x)
    y = x + 2
    print(y)
    z = y * y * 2
    print(z)
    z = z.mean()
    print(z)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "tensor([-1.0475,  0.2038,  0.2971], requires_grad=True)"
    # y = x + 2 by hand: 0.9525, 2.2038, 2.2971
    assert lines[1] == "tensor([0.9525, 2.2038, 2.2971], grad_fn=<AddBackward0>)"
    # z = 2 y^2: 1.81451..., 9.71347..., 10.55334...
    assert lines[2] == "tensor([ 1.8145,  9.7135, 10.5533], grad_fn=<MulBackward0>)"
    # mean = (1.814513 + 9.713469 + 10.553342) / 3 = 7.360441
    assert lines[3] == "tensor(7.3604, grad_fn=<MeanBackward0>)"


def test_seed000_backward_prints_the_seeds_gradient(capsys):
    # d mean(2 (x+2)^2) / dx = 4 (x+2) / 3. The seed prints tensor([0.0160, 3.3650, 4.5153]), which is
    # that gradient at x + 2 = 3/4 * [0.0160, 3.3650, 4.5153] = [0.012, 2.52375, 3.386475].
    x = torch.tensor([0.012 - 2, 2.52375 - 2, 3.386475 - 2], requires_grad=True)
    y = x + 2
    z = (y * y * 2).mean()
    z.backward()  # dz/dx
    print(x.grad)
    assert capsys.readouterr().out.strip() == "tensor([0.0160, 3.3650, 4.5153])"


def test_seed000_vector_output_needs_a_gradient_argument(capsys):
    # With r = [1, 0, 0] the gradient is [4 y_0, 0, 0]; the seed's 5.0823 means y_0 = 1.270575.
    x = torch.tensor([1.270575 - 2, 0.3, -0.4], requires_grad=True)
    y = x + 2
    z = y * y * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        z.backward()
    r = torch.tensor([1.0, 0, 0], dtype=torch.float32)
    z.backward(r)
    print(x.grad)
    assert capsys.readouterr().out.strip() == "tensor([5.0823, 0.0000, 0.0000])"


# ------------------------------------------------------------------------------------------- seed 001
def test_seed001_one_element(capsys):
    x = torch.tensor(2.0, requires_grad=True)
    y = 2 * x ** 2 + 1
    print(x)
    print(y)
    assert x.grad is None
    assert y.backward() is None
    print(x.grad)
    assert capsys.readouterr().out.splitlines() == [
        "tensor(2., requires_grad=True)", "tensor(9., grad_fn=<AddBackward0>)", "tensor(8.)"]


def test_seed001_without_requires_grad_there_is_no_grad_fn(capsys):
    x = torch.tensor(2.0, requires_grad=False)
    y = 2 * x ** 2 + 1
    print(x)
    print(y)
    assert y.grad_fn is None
    assert capsys.readouterr().out.splitlines() == ["tensor(2.)", "tensor(9.)"]


def test_seed001_several_elements_two_layers(capsys):
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    print(x)
    y = 2 * x + 1
    print(y)
    z = y ** 2
    print(z)
    out = z.mean()
    print(out)
    out.backward()
    print(x.grad)
    assert capsys.readouterr().out == (
        "tensor([[1., 2., 3.],\n        [4., 5., 6.]], requires_grad=True)\n"
        "tensor([[ 3.,  5.,  7.],\n        [ 9., 11., 13.]], grad_fn=<AddBackward0>)\n"
        "tensor([[  9.,  25.,  49.],\n        [ 81., 121., 169.]], grad_fn=<PowBackward0>)\n"
        "tensor(75.6667, grad_fn=<MeanBackward0>)\n"
        # d/dx mean((2x+1)^2) = 4 (2x + 1) / 6
        "tensor([[2.0000, 3.3333, 4.6667],\n        [6.0000, 7.3333, 8.6667]])\n")


def test_seed001_graph_records_every_operation():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    out = ((2 * x + 1) ** 2).mean()
    names = []
    node = out.grad_fn
    while node is not None:
        names.append(node.name())
        node = next((fn for fn, _ in node.next_functions if fn is not None), None)
    assert names == ["MeanBackward0", "PowBackward0", "AddBackward0", "MulBackward0", "AccumulateGrad"]
    assert x.is_leaf and not out.is_leaf


# ------------------------------------------------------------------------------------------- seed 002
def test_seed002_data_grad_grad_fn_and_leaves():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    loss = (w * w).sum()
    assert w.grad is None  # None until backprop
    assert w.grad_fn is None and w.is_leaf
    assert loss.grad_fn.name() == "SumBackward0"  # "which operation made this tensor"
    loss.backward()
    assert w.grad.tolist() == [2.0, -4.0]
    assert w.data.tolist() == [1.0, -2.0]


def test_seed002_no_grad_builds_no_graph():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.no_grad():
        prediction = w * 3
    assert prediction.requires_grad is False and prediction.grad_fn is None


def test_seed002_graph_is_freed_after_backward():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w.exp() * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_seed002_autograd_grad_differentiates_with_respect_to_one_variable():
    a = torch.tensor(3.0, requires_grad=True)
    b = torch.tensor(5.0, requires_grad=True)
    f = a * a * b
    (df_da,) = torch.autograd.grad(f, a)
    assert df_da.item() == 30.0  # 2ab
    assert a.grad is None and b.grad is None  # grad() leaves .grad alone
