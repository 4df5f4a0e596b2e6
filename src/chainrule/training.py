"""The training loop behind ``chainrule demo`` and ``chainrule train``: a model, a dataset and an optimizer
from a TrainConfig, a tqdm bar per epoch, loss and test accuracy per epoch, an atomic checkpoint after every
epoch (``--resume`` continues from it), and at the end the weights (safetensors), the history (JSON) and a
plot (PNG) in the output folder.

Runs are reproducible: epoch ``e`` shuffles with a generator seeded by ``(seed, e)`` and reseeds chainrule's
global generator the same way, so a run resumed after being killed ends with the same weights as one that
was never interrupted.
"""
import dataclasses
import json
import os
import sys
import time

import numpy as np

import chainrule
import chainrule.datasets as datasets
import chainrule.nn as nn
import chainrule.nn.functional as F
import chainrule.optim as optim
from chainrule.utils.data import DataLoader

MODELS = ("mlp", "lenet5", "resnet18")
DATASETS = ("digits", "mnist")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("cosine", "constant")
CHECKPOINT = "checkpoint.safetensors"
WEIGHTS = "weights.safetensors"
HISTORY = "history.json"
PLOT = "training.png"
GRAPH = "graph.svg"
# Settings a resumed run must share with the checkpoint it continues (epochs may grow, out may move).
_MUST_MATCH = ("model", "dataset", "optimizer", "lr", "momentum", "weight_decay", "label_smoothing", "schedule",
               "batch_size", "seed", "hidden")


@dataclasses.dataclass
class TrainConfig:
    """What to train and how. The defaults are the demo: an MLP 64-256-128-10 on the embedded digits with SGD
    and momentum, cross entropy with label smoothing 0.1, and the learning rate annealed to 0 along a cosine
    over the epochs ("cosine"; "constant" keeps it)."""
    model: str = "mlp"
    dataset: str = "digits"
    data_dir: str = None
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    schedule: str = "cosine"
    epochs: int = 30
    batch_size: int = 32
    seed: int = 0
    hidden: tuple = (256, 128)
    out: str = "chainrule-run"

    def check(self):
        for name, value, allowed in (("model", self.model, MODELS), ("dataset", self.dataset, DATASETS),
                                     ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("schedule", self.schedule, SCHEDULES)):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
        if self.dataset == "mnist" and not self.data_dir:
            raise ValueError("the mnist dataset is read from the IDX files you have: give their folder with "
                             "--data-dir (files train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...)")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclasses.dataclass
class TrainResult:
    test_accuracy: float
    history: dict
    out: str
    weights: str
    plot: str
    seconds: float


def run(config, *, resume=False, progress=True, stream=None, graph=False):
    """Train as ``config`` says; print one line per epoch to ``stream``; return a TrainResult. With ``graph``,
    first render the graph of one training step (loss of the first batch) to ``graph.svg`` in the output folder."""
    stream = sys.stdout if stream is None else stream
    config.check()
    os.makedirs(config.out, exist_ok=True)
    started = time.perf_counter()
    train_set, test_set = _datasets(config)
    chainrule.manual_seed(config.seed)
    model = _model(config, train_set)
    optimizer = _optimizer(config, model.parameters())
    scheduler = (optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
                 if config.schedule == "cosine" else None)
    history = {"epoch": [], "loss": [], "test_accuracy": [], "seconds": []}
    first_epoch = 0
    checkpoint_path = os.path.join(config.out, CHECKPOINT)
    if resume:
        first_epoch, history = _restore(checkpoint_path, config, model, optimizer, scheduler, stream)

    print(f"training {_describe(config, model)} on {config.dataset} ({len(train_set)} train / {len(test_set)} "
          f"test images) for {config.epochs} epochs; output in {os.path.abspath(config.out)}", file=stream)
    test_loader = DataLoader(test_set, batch_size=512)
    if graph:
        print(f"graph    {draw_step(model, train_set, config, os.path.join(config.out, GRAPH))}", file=stream)
    for epoch in range(first_epoch, config.epochs):
        epoch_started = time.perf_counter()
        chainrule.manual_seed(_epoch_seed(config.seed, epoch))
        loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                            generator=np.random.default_rng([config.seed, epoch]))
        loss = _train_epoch(model, optimizer, loader, config.label_smoothing, progress,
                            f"epoch {epoch + 1}/{config.epochs}")
        if scheduler is not None:
            scheduler.step()
        accuracy = evaluate(model, test_loader)
        seconds = time.perf_counter() - epoch_started
        for key, value in (("epoch", epoch + 1), ("loss", loss), ("test_accuracy", accuracy), ("seconds", seconds)):
            history[key].append(value)
        print(f"epoch {epoch + 1:>3}/{config.epochs}  loss {loss:.4f}  test accuracy {100 * accuracy:6.2f}%  "
              f"({seconds:.1f} s)", file=stream, flush=True)
        chainrule.save({"config": _checkpointed(config), "epoch": epoch + 1, "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(), "history": history,
                        "scheduler": scheduler.state_dict() if scheduler is not None else None}, checkpoint_path)

    weights = os.path.join(config.out, WEIGHTS)
    chainrule.save(model.state_dict(), weights)
    with open(os.path.join(config.out, HISTORY), "w") as f:
        json.dump(history, f, indent=1)
    plot = plot_history(history, os.path.join(config.out, PLOT), title=_describe(config, model),
                        loss_label=f"training loss (cross entropy, label smoothing {config.label_smoothing:g})")
    accuracy = history["test_accuracy"][-1] if history["test_accuracy"] else evaluate(model, test_loader)
    seconds = time.perf_counter() - started
    print(f"test accuracy {100 * accuracy:.2f}% after {config.epochs} epochs ({seconds:.1f} s)", file=stream)
    print(f"weights  {weights}\nhistory  {os.path.join(config.out, HISTORY)}\nplot     {plot}", file=stream)
    return TrainResult(accuracy, history, config.out, weights, plot, seconds)


def _train_epoch(model, optimizer, loader, label_smoothing, progress, description):
    from tqdm import tqdm  # imported here: only training shows a progress bar

    model.train()
    total, count = 0.0, 0
    bar = tqdm(loader, desc=description, unit="batch", leave=False, disable=not progress, file=sys.stderr)
    for images, labels in bar:
        loss = F.cross_entropy(model(images), labels, label_smoothing=label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.item()
        total += value * len(labels)
        count += len(labels)
        bar.set_postfix(loss=f"{value:.4f}", refresh=False)
    bar.close()
    return total / count


def draw_step(model, train_set, config, path):
    """Render the graph of one training step's loss (a small batch; parameters named, repeated blocks collapsed
    by module) without changing the model: the batch-norm statistics it touches are put back."""
    from . import viz

    saved = {name: buffer.detach().clone() for name, buffer in model.named_buffers()}
    images, labels = train_set[:min(config.batch_size, 8)]
    model.train()
    with viz.trace_modules(model) as trace:
        loss = F.cross_entropy(model(images), labels, label_smoothing=config.label_smoothing)
    path = viz.render(loss, path, params=dict(model.named_parameters()), collapse=trace)
    with chainrule.no_grad():
        for name, buffer in model.named_buffers():
            buffer.copy_(saved[name])
    return path


def evaluate(model, loader):
    """The fraction of ``loader``'s samples whose arg-max logit is the label (model in eval mode, no graph)."""
    model.eval()
    correct = total = 0
    with chainrule.no_grad():
        for images, labels in loader:
            correct += int((model(images).argmax(1) == labels).sum().item())
            total += len(labels)
    return correct / total


def plot_history(history, path, title="", loss_label="training loss"):
    """Loss and test accuracy per epoch, side by side, as a PNG (matplotlib without a display)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(history["epoch"], history["loss"], marker="o")
    left.set(xlabel="epoch", ylabel=loss_label, yscale="log")
    right.plot(history["epoch"], [100 * a for a in history["test_accuracy"]], marker="o", color="tab:green")
    right.set(xlabel="epoch", ylabel="test accuracy (%)")
    for axes in (left, right):
        axes.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


# ------------------------------------------------------------------------------------------ building blocks
def _datasets(config):
    flatten = config.model == "mlp"
    if config.dataset == "digits":
        return datasets.digits("train", flatten=flatten), datasets.digits("test", flatten=flatten)
    return (datasets.mnist(config.data_dir, train=True, flatten=flatten),
            datasets.mnist(config.data_dir, train=False, flatten=flatten))


def _model(config, train_set):
    images = train_set.tensors[0]
    classes = 10
    if config.model == "mlp":
        return nn.models.mlp([images.shape[1], *config.hidden, classes], activation="relu")
    if config.model == "lenet5":
        return nn.models.lenet5(num_classes=classes, in_channels=images.shape[1], input_size=images.shape[-1])
    # ResNet-18 keeps torchvision's layout (3 input channels): grey images are repeated to 3 channels.
    return nn.Sequential(GreyToRGB(), nn.models.resnet18(num_classes=classes))


def _optimizer(config, parameters):
    if config.optimizer == "sgd":
        return optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad}[config.optimizer]
    return cls(parameters, lr=config.lr, weight_decay=config.weight_decay)


class GreyToRGB(nn.Module):
    """Repeats a one-channel image to three channels (a broadcast view, no copy)."""

    def forward(self, x):
        return x.expand(x.shape[0], 3, *x.shape[2:])


def _describe(config, model):
    count = sum(p.numel() for p in model.parameters())
    shape = "-".join(str(n) for n in config.hidden) if config.model == "mlp" else ""
    name = f"{config.model} ({shape + ', ' if shape else ''}{count:,} parameters)"
    return f"{name} with {config.optimizer} lr={config.lr:g}"


def _epoch_seed(seed, epoch):
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def _checkpointed(config):
    values = dataclasses.asdict(config)
    keys = _MUST_MATCH + (("epochs",) if config.schedule == "cosine" else ())  # the cosine spans all epochs
    return {key: list(values[key]) if key == "hidden" else values[key] for key in keys}


def _restore(path, config, model, optimizer, scheduler, stream):
    """Load the checkpoint at ``path`` into model and optimizer; return (epochs done, history)."""
    if not os.path.exists(path):
        print(f"no checkpoint at {path}: starting from scratch", file=stream)
        return 0, {"epoch": [], "loss": [], "test_accuracy": [], "seconds": []}
    saved = chainrule.load(path)
    differences = [f"{key}={saved['config'][key]!r} in the checkpoint, {value!r} now"
                   for key, value in _checkpointed(config).items() if saved["config"].get(key) != value]
    if differences:
        raise ValueError(f"cannot resume from {path}: the run used other settings ({'; '.join(differences)}); "
                         "resume with the same settings or choose another --out folder")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(saved["scheduler"])
    print(f"resuming from {path}: {saved['epoch']} of {config.epochs} epochs done", file=stream)
    return saved["epoch"], {key: list(value) for key, value in saved["history"].items()}
