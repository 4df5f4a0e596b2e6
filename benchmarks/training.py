"""Training workloads: one SGD step of an MLP 784-512-512-10 at batch 128, and ResNet-18 forward + backward on
1x3x64x64 (seed 001's workload) and 16x3x64x64, float32.

chainrule runs its own models (chainrule.nn.models.mlp and resnet18, chainrule.optim.SGD); PyTorch (CPU, 2
threads) runs the same networks written with torch.nn, loaded with the same weights; the MLP step also runs in
hand-written NumPy and in HIPS autograd (if installed). After checking (in this process) that all compute the
same loss and gradients (and, for the MLP, the same weights after the step), each library is timed in its own
spawned process, alternating in blocks; the medians of >= 10 repetitions are compared.

    python benchmarks/training.py [--repeat 20] [--write BENCHMARKS.md]
"""
import os
import platform
import statistics
import time
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)
import chainrule  # noqa: E402
from chainrule.nn.models import mlp, resnet18  # noqa: E402
from common import Result, Section, command_line, quartiles, repeats, time_once, with_notes  # noqa: E402

MLP_SIZES, MLP_BATCH, LR = (784, 512, 512, 10), 128, 0.01
RESNET_BATCHES, IMAGE = (1, 16), 64
SETTLE = 0.3  # seconds: OpenBLAS threads spin ~0.1 s after a call, Intel OpenMP's up to 0.2 s
MLP_TARGET, RESNET_TARGETS = 1.1, (1.5, 2.0)  # ResNet-18: the smaller batch, the larger
DEFAULT_REPEAT, MIN_REPEAT = 20, 10
# The sizes of a run; --quick (the suite's smoke run) takes tiny ones.
FULL = {"mlp_sizes": MLP_SIZES, "mlp_batch": MLP_BATCH, "resnet_batches": RESNET_BATCHES, "image": IMAGE,
        "classes": 1000}
QUICK = {"mlp_sizes": (32, 16, 16, 4), "mlp_batch": 8, "resnet_batches": (1, 2), "image": 64, "classes": 1000}
OTHERS = ("numpy (by hand)", "autograd")  # MLP-only contenders, beside chainrule and torch


def descriptions(config=FULL):
    mlp_text = f"MLP {'-'.join(map(str, config['mlp_sizes']))}, batch {config['mlp_batch']}: one SGD step"
    image = config["image"]
    return {"mlp": mlp_text, **{f"resnet18-{b}": f"ResNet-18, {b}x3x{image}x{image}: forward + backward"
                                for b in config["resnet_batches"]}}


def targets(config=FULL):
    return {"mlp": MLP_TARGET, **{f"resnet18-{b}": t for b, t in zip(config["resnet_batches"], RESNET_TARGETS)}}


TARGETS = targets()


# ------------------------------------------------------------------------------------------- the models
def torch_mlp(torch, sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_resnet18(torch, num_classes=1000):
    """torchvision's resnet18 layout and names, in plain torch.nn (torchvision is not a dependency)."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                nn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + identity)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            for i, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
                inplanes = 64 if i == 1 else planes // 2
                setattr(self, f"layer{i}", nn.Sequential(Block(inplanes, planes, stride), Block(planes, planes, 1)))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


def model_pair(torch, kind, seed=0, sizes=MLP_SIZES, num_classes=1000):
    """chainrule's model and PyTorch's, with chainrule's (seeded) initial weights in both (chainrule's alone
    when ``torch`` is None)."""
    chainrule.manual_seed(seed)
    ours = mlp(list(sizes)) if kind == "mlp" else resnet18(num_classes=num_classes)
    if torch is None:
        return {"chainrule": ours}
    theirs = torch_mlp(torch, sizes) if kind == "mlp" else torch_resnet18(torch, num_classes)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    return {"chainrule": ours, "torch": theirs}


def make_data(kind, batch, seed=1, sizes=MLP_SIZES, classes=1000, image=IMAGE):
    rng = np.random.default_rng(seed)
    if kind == "mlp":
        x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
        return x, rng.integers(0, sizes[-1], batch)
    return rng.random((batch, 3, image, image), dtype=np.float32), rng.integers(0, classes, batch)


# --------------------------------------------------------------------------------------------- the steps
def mlp_step(lib, model, x_np, y_np, lr=LR):
    """One SGD step (zero_grad, forward, cross-entropy, backward, optimizer.step()); returns the loss."""
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    optimizer = lib.optim.SGD(model.parameters(), lr=lr)

    def step():
        optimizer.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def resnet_step(lib, model, x_np, y_np):
    """ResNet-18 forward + backward in training mode (batch statistics); returns the loss."""
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    model.train()

    def step():
        model.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    return step


def check(models, steps, after_step=False):
    """Both libraries compute the same loss and gradients (or, ``after_step``, the same updated weights).
    float32 through many layers: each array is compared as a whole (relative error of its norm), as
    PyTorch's own float32 ResNet-18 gradients are 4e-4 off its float64 ones."""
    losses = {name: float(step().item()) for name, step in steps.items()}
    assert abs(losses["chainrule"] - losses["torch"]) <= 1e-4 * max(1.0, abs(losses["torch"])), f"loss: {losses}"
    theirs = dict(models["torch"].named_parameters())
    for name, p in models["chainrule"].named_parameters():
        got, expected = (p.detach().numpy(), theirs[name].detach().numpy()) if after_step else \
            (p.grad.numpy(), theirs[name].grad.numpy())
        error = np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-12)
        assert error <= 2e-3, f"{'weights' if after_step else 'gradient'} of {name}: relative error {error:.1e}"
    return losses


def mlp_arrays(seed=0, sizes=MLP_SIZES):
    """chainrule's seeded MLP weights as [w1, b1, w2, b2, ...] arrays (PyTorch's layout: w is out x in)."""
    chainrule.manual_seed(seed)
    return [v.numpy().copy() for v in mlp(list(sizes)).state_dict().values()]


def numpy_mlp_step(params, x, y, lr=LR):
    """The MLP's SGD step by hand in NumPy (forward, softmax cross-entropy, backward, update of ``params`` in
    place): the floor for any NumPy-based framework. Returns the loss."""
    layers, rows = len(params) // 2, np.arange(len(y))

    def step():
        outputs = [x]
        for i in range(layers):
            h = outputs[-1] @ params[2 * i].T
            h += params[2 * i + 1]
            if i < layers - 1:
                np.maximum(h, 0, out=h)
            outputs.append(h)
        z = outputs[-1] - outputs[-1].max(axis=1, keepdims=True)
        e = np.exp(z)
        total = e.sum(axis=1, keepdims=True)
        loss = float(np.log(total).mean() - z[rows, y].mean())
        g = e / total
        g[rows, y] -= 1
        g /= len(y)
        for i in reversed(range(layers)):
            w, b = params[2 * i], params[2 * i + 1]
            grad_w, grad_b = g.T @ outputs[i], g.sum(axis=0)
            if i > 0:  # through the weight before it is updated, then through the ReLU
                g = g @ w
                g *= outputs[i] > 0
            grad_w *= lr  # in place: a temporary for lr * grad_w would cost a fresh 1.6 MB buffer per step
            w -= grad_w
            grad_b *= lr
            b -= grad_b
        return loss

    return step


def autograd_mlp_step(params, x, y, lr=LR):
    """The MLP's SGD step in HIPS autograd (updates ``params`` in place). Returns the loss."""
    import autograd
    import autograd.numpy as anp
    layers, rows = len(params) // 2, np.arange(len(y))

    def loss(ps):
        h = x
        for i in range(layers):
            h = anp.dot(h, anp.transpose(ps[2 * i])) + ps[2 * i + 1]
            if i < layers - 1:
                h = anp.maximum(h, 0.0)
        z = h - anp.max(h, axis=1, keepdims=True)
        return anp.mean(anp.log(anp.sum(anp.exp(z), axis=1))) - anp.mean(z[rows, y])

    value_and_grad = autograd.value_and_grad(loss)

    def step():
        value, grads = value_and_grad(params)
        for p, g in zip(params, grads):
            p -= lr * g
        return float(value)

    return step


def check_arrays(name, params, loss, torch_model, torch_loss):
    """An array-based MLP step computed the same loss and updated weights as PyTorch's step."""
    assert abs(loss - torch_loss) <= 1e-4 * max(1.0, abs(torch_loss)), f"{name}: loss {loss}, torch {torch_loss}"
    for (key, expected), got in zip(torch_model.named_parameters(), params):
        expected = expected.detach().numpy()
        error = np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-12)
        assert error <= 2e-3, f"{name}: weights of {key} after the step: relative error {error:.1e}"


ARRAY_STEPS = {"numpy (by hand)": numpy_mlp_step, "autograd": autograd_mlp_step}


def libraries():
    """Every contender installed: chainrule and torch, hand-written NumPy, HIPS autograd if importable."""
    names = ["chainrule", "torch", "numpy (by hand)"]
    try:
        import autograd  # noqa: F401
        names.append("autograd")
    except ImportError:
        pass
    return tuple(names)


DESCRIPTIONS = descriptions()


def workloads(torch, libraries=("chainrule", "torch"), batches=None, checked=True, config=FULL):
    """key -> {library: step} with the same weights and data for every library (ResNet-18: chainrule and torch
    only); with ``checked`` (torch among the libraries) every library is checked against torch first."""
    batches = config["resnet_batches"] if batches is None else batches
    sizes, result = config["mlp_sizes"], {}
    frameworks = [name for name in libraries if name in ("chainrule", "torch")]
    x, y = make_data("mlp", config["mlp_batch"], sizes=sizes)
    result["mlp"] = steps = {}
    if frameworks:
        libs = {"chainrule": chainrule, "torch": torch}
        models = model_pair(torch, "mlp", sizes=sizes)
        steps.update({name: mlp_step(libs[name], models[name], x, y) for name in frameworks})
        if checked:
            losses = check(models, steps, after_step=True)
    for name in libraries:
        if name in ARRAY_STEPS:
            params = mlp_arrays(sizes=sizes)
            steps[name] = ARRAY_STEPS[name](params, x, y)
            if checked:  # torch has taken one step from the same weights in check()
                check_arrays(name, params, steps[name](), models["torch"], losses["torch"])
    if frameworks:
        models = model_pair(torch, "resnet18", num_classes=config["classes"])
        for batch in batches:
            x, y = make_data("resnet18", batch, classes=config["classes"], image=config["image"])
            result[f"resnet18-{batch}"] = steps = {name: resnet_step(libs[name], models[name], x, y)
                                                    for name in frameworks}
            if checked:
                check(models, steps)
    return result


def _timing_worker(connection, library, config=FULL):
    """One library's timing process: builds its steps, then runs ``(key, count)`` requests (an untimed call,
    then ``count`` timed ones) and sends the times back, until it receives None."""
    torch = None  # imported by torch's process only
    if library == "torch":
        import torch
        torch.set_num_threads(2)
    steps = {key: pair[library] for key, pair in workloads(torch, (library,), checked=False, config=config).items()
             if library in pair}
    connection.send(sorted(steps))
    while (request := connection.recv()) is not None:
        key, count = request
        steps[key]()
        connection.send([time_once(steps[key]) for _ in range(count)])


def samples(repeat, config=FULL, names=None, settle=SETTLE):
    """Check every library in this process; then time each library in its own (spawned) process, alternating
    between them in blocks of 5, so neither library's thread pools or heap are disturbed by the other's.
    Returns {(key, library): [seconds, ...]}."""
    import multiprocessing
    import torch
    torch.set_num_threads(2)
    names = libraries() if names is None else names
    context = multiprocessing.get_context("spawn")
    workers, keys = {}, {}
    for library in names:  # started first: they import and build while this process checks
        ours, theirs = context.Pipe()
        process = context.Process(target=_timing_worker, args=(theirs, library, config), daemon=True)
        process.start()
        workers[library] = (process, ours)
    try:
        workloads(torch, names, config=config)  # the correctness checks
        for library, (_, connection) in workers.items():
            keys[library] = connection.recv()
        times = {(key, library): [] for key in descriptions(config) for library in workers if key in keys[library]}
        block = min(5, repeat)
        for _ in range(-(-repeat // block)):
            for key in descriptions(config):
                for library, (_, connection) in workers.items():
                    if key not in keys[library]:
                        continue
                    time.sleep(settle)  # the other process's BLAS/OpenMP threads stop spinning first
                    connection.send((key, block))
                    times[(key, library)].extend(connection.recv())
    finally:
        for process, connection in workers.values():
            if process.is_alive():
                connection.send(None)
            process.join(timeout=30)
    return times


def run(repeat, config=FULL, names=None):
    import torch
    medians = {k: statistics.median(v) for k, v in samples(repeat, config, names).items()}
    return descriptions(config), medians, torch.__version__


def report(descriptions, medians, torch_version, repeat, targets=TARGETS, classes=1000):
    rows, ratios = [], {}
    for key, description in descriptions.items():
        ours, theirs = medians[(key, "chainrule")], medians[(key, "torch")]
        ratios[key] = ours / theirs
        rows.append(f"| {description} | {ours * 1e3:.1f} ms | {theirs * 1e3:.1f} ms | **{ratios[key]:.2f}** | "
                    f"<= {targets[key]} |")
    others = [f"{name} {medians[('mlp', name)] * 1e3:.1f} ms (chainrule / {name}: "
              f"{medians[('mlp', 'chainrule')] / medians[('mlp', name)]:.2f})"
              for name in OTHERS if ("mlp", name) in medians]
    text = [
        "## Training: MLP SGD step and ResNet-18 forward + backward",
        "",
        "Command: `python benchmarks/training.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, PyTorch {torch_version} (2 threads). Median of {repeat} runs or more, float32. Each "
        "library runs in its own process, and they alternate in blocks of 5 timed calls (each block after a 0.3 s "
        "pause, so the other process's spinning BLAS/OpenMP threads are asleep, and an untimed call). chainrule runs "
        "chainrule.nn.models.mlp / resnet18 and chainrule.optim.SGD, PyTorch the same networks in torch.nn with the "
        "same weights; losses and gradients (for the MLP, the weights after the step) are checked against PyTorch "
        f"first. ResNet-18 runs in training mode (batch statistics) with a cross-entropy loss over {classes} classes.",
        "",
        "| workload | chainrule | torch | chainrule / torch | target |",
        "| --- | --- | --- | --- | --- |",
        *rows,
    ]
    if others:
        text += ["", "The MLP step in other libraries (same weights, checked against PyTorch's updated weights): "
                 + "; ".join(others) + "."]
    return with_notes("training", "\n".join(text) + "\n"), ratios


def suite(scale=1.0, quick=False):
    """The suite's entry: this benchmark's section and one result per workload (chainrule / torch)."""
    import torch
    config = QUICK if quick else FULL
    repeat = repeats(DEFAULT_REPEAT, MIN_REPEAT, scale, quick)
    times = samples(repeat, config, settle=0.02 if quick else SETTLE)
    medians = {k: statistics.median(v) for k, v in times.items()}
    goals = targets(config)
    text, ratios = report(descriptions(config), medians, torch.__version__, repeat, goals, config["classes"])
    results = []
    for key, description in descriptions(config).items():
        names = [name for k, name in times if k == key]
        results.append(Result(key, description, {name: medians[(key, name)] for name in names}, ratios[key],
                              goals[key], spread={name: quartiles(times[(key, name)]) for name in names}))
    return Section("training", text, results)


def main(argv=None):
    return command_line(__doc__, DEFAULT_REPEAT, MIN_REPEAT, lambda repeat: report(*run(repeat), repeat)[0], argv)


if __name__ == "__main__":
    sys.exit(main())
