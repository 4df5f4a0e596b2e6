"""The main job: `chainrule demo` trains an MLP on the embedded digits to >= 97% test accuracy and writes
weights, history and a plot; `chainrule train` trains every model on digits or MNIST files, checkpoints every
epoch, and a run killed mid-way and resumed ends with exactly the weights of an uninterrupted run."""
import io
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import chainrule
from chainrule import cli, training
from test_datasets import write_mnist


def command(*args):
    source = os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__)))  # works installed or not
    env = {**os.environ, "PYTHONPATH": source + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return [sys.executable, "-m", "chainrule", *args], env


def run_command(*args):
    argv, env = command(*args)
    return subprocess.run(argv, capture_output=True, text=True, env=env)


def test_demo_reaches_97_percent_and_writes_its_outputs(tmp_path):
    out = io.StringIO()
    result = training.run(training.TrainConfig(out=str(tmp_path)), progress=False, stream=out)
    assert result.test_accuracy >= 0.97, out.getvalue()
    text = out.getvalue()
    assert text.count("test accuracy") == training.TrainConfig().epochs + 1
    assert f"test accuracy {100 * result.test_accuracy:.2f}%" in text
    history = json.loads((tmp_path / training.HISTORY).read_text())
    assert history["epoch"] == list(range(1, 31)) and history["loss"][-1] < history["loss"][0]
    assert (tmp_path / training.PLOT).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the weights are a plain state dict: they load into a fresh MLP and give the reported accuracy
    weights = chainrule.load(tmp_path / training.WEIGHTS)
    model = chainrule.nn.models.mlp([64, 256, 128, 10])
    model.load_state_dict(weights)
    test = chainrule.utils.data.DataLoader(chainrule.datasets.digits("test", flatten=True), batch_size=100)
    assert training.evaluate(model, test) == result.test_accuracy


def test_demo_command_prints_epochs_and_where_it_wrote(tmp_path):
    done = run_command("demo", "--epochs", "2", "--out", str(tmp_path / "demo"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "epoch   2/2" in done.stdout and "weights " in done.stdout
    assert (tmp_path / "demo" / training.WEIGHTS).exists()


def test_progress_bar_goes_to_stderr(tmp_path):
    done = run_command("demo", "--epochs", "1", "--out", str(tmp_path))
    assert done.returncode == 0 and "epoch 1/1" in done.stderr and "batch" in done.stderr


@pytest.mark.parametrize("model, epochs, lr", [("lenet5", 5, 0.1), ("resnet18", 2, 0.01)])
def test_train_other_models_on_digits(tmp_path, model, epochs, lr):
    out = io.StringIO()
    config = training.TrainConfig(model=model, epochs=epochs, lr=lr, out=str(tmp_path))
    result = training.run(config, progress=False, stream=out)
    assert result.test_accuracy > 0.8, out.getvalue()  # chance is 0.1; seeds 0-2 give 0.91-0.94
    keys = set(chainrule.load(tmp_path / training.WEIGHTS))
    if model == "resnet18":
        assert "1.layer4.1.bn2.running_var" in keys  # torchvision's names, behind the grey-to-RGB step


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "adagrad"])
def test_train_with_each_optimizer(tmp_path, optimizer):
    config = training.TrainConfig(optimizer=optimizer, lr=1e-3 if optimizer != "adagrad" else 1e-2, epochs=2,
                                  momentum=0.0, out=str(tmp_path))
    result = training.run(config, progress=False, stream=io.StringIO())
    assert result.test_accuracy > 0.85


def test_train_reads_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    write_mnist(tmp_path, "train", count=64, size=28, compress=True, rng=rng)
    write_mnist(tmp_path, "t10k", count=16, size=28, rng=rng)
    done = run_command("train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "1",
                       "--hidden", "16", "--out", str(tmp_path / "run"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "64 train / 16 test" in done.stdout
    assert chainrule.load(tmp_path / "run" / training.WEIGHTS)["0.weight"].shape == (16, 784)


@pytest.mark.parametrize("args, message", [
    (["--dataset", "mnist"], "--data-dir"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent"], "train-images-idx3-ubyte"),
    (["--epochs", "0"], "epochs must be at least 1"),
    (["--lr", "-1"], "lr must be positive"),
])
def test_train_errors_are_one_line(tmp_path, args, message):
    done = run_command("train", "--out", str(tmp_path), *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_killed_run_resumed_ends_with_the_same_weights(tmp_path):
    common = ["train", "--epochs", "8", "--batch-size", "16", "--hidden", "64", "--no-progress"]
    reference = run_command(*common, "--out", str(tmp_path / "whole"))
    assert reference.returncode == 0, reference.stderr

    argv, env = command(*common, "--out", str(tmp_path / "killed"))
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in process.stdout:
        if line.startswith("epoch   3/8"):  # epochs 1 and 2 are checkpointed by now
            process.send_signal(signal.SIGKILL)
            break
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "killed" / training.WEIGHTS).exists()

    resumed = run_command(*common, "--out", str(tmp_path / "killed"), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout and "of 8 epochs done" in resumed.stdout
    whole = chainrule.load(tmp_path / "whole" / training.WEIGHTS)
    finished = chainrule.load(tmp_path / "killed" / training.WEIGHTS)
    assert list(whole) == list(finished)
    for name in whole:
        np.testing.assert_array_equal(whole[name].numpy(), finished[name].numpy(), err_msg=name)
    history = json.loads((tmp_path / "killed" / training.HISTORY).read_text())
    assert history["epoch"] == list(range(1, 9))


def test_resume_refuses_other_settings(tmp_path):
    constant = ["--schedule", "constant"]
    first = run_command("train", "--epochs", "1", "--hidden", "8", *constant, "--out", str(tmp_path), "--no-progress")
    assert first.returncode == 0
    done = run_command("train", "--epochs", "2", "--hidden", "16", *constant, "--out", str(tmp_path), "--resume")
    assert done.returncode == 2 and "cannot resume" in done.stderr and "hidden" in done.stderr
    more = run_command("train", "--epochs", "2", "--hidden", "8", *constant, "--out", str(tmp_path), "--resume",
                       "--no-progress")
    assert more.returncode == 0 and "1 of 2 epochs done" in more.stdout and "epoch   2/2" in more.stdout


def test_resume_with_a_cosine_schedule_keeps_the_epoch_count(tmp_path):
    assert run_command("train", "--epochs", "1", "--hidden", "8", "--out", str(tmp_path), "--no-progress").returncode == 0
    done = run_command("train", "--epochs", "2", "--hidden", "8", "--out", str(tmp_path), "--resume")
    assert done.returncode == 2 and "epochs=1 in the checkpoint, 2 now" in done.stderr


def test_cli_train_function_returns_the_result(tmp_path):
    args = cli.argparse.Namespace(out=str(tmp_path), epochs=1, seed=3, no_progress=True)
    result = cli.train(args)
    assert 0 <= result.test_accuracy <= 1 and os.path.exists(result.plot)


def test_demo_graph_draws_one_training_step_without_changing_the_run(tmp_path):
    plain = training.run(training.TrainConfig(model="lenet5", epochs=1, out=str(tmp_path / "plain")), progress=False,
                         stream=io.StringIO())
    out = io.StringIO()
    drawn = training.run(training.TrainConfig(model="lenet5", epochs=1, out=str(tmp_path / "drawn")),
                         progress=False, stream=out, graph=True)
    svg = (tmp_path / "drawn" / training.GRAPH).read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "ConvolutionBackward0" in svg and "features" in svg
    assert "graph    " in out.getvalue()
    assert drawn.history["loss"] == plain.history["loss"]  # drawing ran a forward pass but changed nothing


def test_graph_option_on_the_command_line(tmp_path):
    done = run_command("demo", "--epochs", "1", "--graph", "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "0.weight" in (tmp_path / training.GRAPH).read_text()  # parameters are named in the drawing
