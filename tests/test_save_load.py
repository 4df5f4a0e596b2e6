"""chainrule.save / chainrule.load: safetensors round trips, interop with safetensors.torch, atomic writes,
and refusal of pickles and damaged files."""
import collections
import io
import os
import pathlib
import pickle

import numpy as np
import pytest
import safetensors.numpy

import chainrule
import chainrule.serialization as serialization
from chainrule.serialization import LoadError, load, save

DTYPES = [chainrule.float16, chainrule.float32, chainrule.float64, chainrule.int8, chainrule.int16, chainrule.int32,
          chainrule.int64, chainrule.uint8, chainrule.bool]


def same(a, b):
    assert isinstance(b, chainrule.Tensor) and a.dtype is b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_tensor_round_trip_keeps_dtype(tmp_path, dtype):
    t = chainrule.tensor(np.random.default_rng(0).integers(0, 2, (3, 4))).to(dtype)
    save(t, tmp_path / "t.safetensors")
    same(t, load(tmp_path / "t.safetensors"))


@pytest.mark.parametrize("make", [lambda: chainrule.tensor(2.5), lambda: chainrule.tensor(7),
                                  lambda: chainrule.randn(3, 4).T, lambda: chainrule.arange(10.0)[::3],
                                  lambda: chainrule.zeros(0, 3), lambda: chainrule.randn(2, 3, requires_grad=True)],
                         ids=["0d-float", "0d-int", "transposed", "strided", "empty", "requires-grad"])
def test_odd_tensors_round_trip(tmp_path, make):
    t = make()
    save(t, str(tmp_path / "t.safetensors"))
    loaded = load(str(tmp_path / "t.safetensors"))
    same(t.detach(), loaded)
    assert not loaded.requires_grad
    loaded.add_(1)  # loaded tensors own writable memory


def test_state_dict_order_and_type_are_kept(tmp_path):
    names = ["z.weight", "a.bias", "m.running_mean", "m.num_batches_tracked"]
    sd = collections.OrderedDict((n, chainrule.randn(2, i + 1)) for i, n in enumerate(names[:3]))
    sd["m.num_batches_tracked"] = chainrule.tensor(5)
    save(sd, tmp_path / "sd.safetensors")
    loaded = load(tmp_path / "sd.safetensors")
    assert type(loaded) is collections.OrderedDict and list(loaded) == names
    for n in names:
        same(sd[n], loaded[n])
    plain = {"b": chainrule.ones(1), "a": chainrule.zeros(1)}
    save(plain, tmp_path / "p.safetensors")
    assert type(load(tmp_path / "p.safetensors")) is dict and list(load(tmp_path / "p.safetensors")) == ["b", "a"]


def test_checkpoint_with_optimizer_state_round_trips(tmp_path):
    model = collections.OrderedDict([("fc.weight", chainrule.randn(3, 2)), ("fc.bias", chainrule.zeros(3))])
    optimizer = {
        "state": {0: {"step": chainrule.tensor(4.0), "exp_avg": chainrule.randn(3, 2)},
                  1: {"step": chainrule.tensor(4.0)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                          "maximize": False, "foreach": None, "params": [0, 1], "name": "all"}],
    }
    checkpoint = {"model": model, "optimizer": optimizer, "epoch": 3, "best": float("inf"), "nan": float("nan"),
                  "history": [0.5, 0.25], "keys": {1.5: "x", None: True}, "array": np.arange(3)}
    save(checkpoint, tmp_path / "ckpt.safetensors")
    loaded = load(tmp_path / "ckpt.safetensors")
    assert list(loaded) == list(checkpoint) and loaded["epoch"] == 3 and loaded["best"] == float("inf")
    assert np.isnan(loaded["nan"]) and loaded["history"] == [0.5, 0.25] and loaded["keys"] == {1.5: "x", None: True}
    assert loaded["optimizer"]["param_groups"] == optimizer["param_groups"]  # tuple betas, None, ints stay as they were
    assert list(loaded["optimizer"]["state"]) == [0, 1]  # int keys stay ints
    same(optimizer["state"][0]["exp_avg"], loaded["optimizer"]["state"][0]["exp_avg"])
    same(model["fc.weight"], loaded["model"]["fc.weight"])
    assert isinstance(loaded["array"], np.ndarray) and loaded["array"].tolist() == [0, 1, 2]


def test_shared_tensor_is_stored_once(tmp_path):
    t = chainrule.randn(3)
    save({"a": t, "b": [t, t]}, tmp_path / "s.safetensors")
    loaded = load(tmp_path / "s.safetensors")
    assert loaded["b"][0] is loaded["a"] and loaded["b"][1] is loaded["a"]
    assert len(safetensors.numpy.load_file(tmp_path / "s.safetensors")) == 1


def test_file_objects_and_map_location(tmp_path):
    buffer = io.BytesIO()
    save({"w": chainrule.ones(2)}, buffer)
    buffer.seek(0)
    same(chainrule.ones(2), load(buffer, map_location="cpu")["w"])
    save(chainrule.ones(1), pathlib.Path(tmp_path / "x"))
    load(tmp_path / "x", map_location=chainrule.device("cpu"), weights_only=True)
    with pytest.raises(ValueError, match="map_location='cuda:0'.*cpu"):
        load(tmp_path / "x", map_location="cuda:0")


def test_unsavable_objects_are_named():
    with pytest.raises(TypeError, match=r"cannot save a object at obj\['model'\]\['f'\]"):
        save({"model": {"f": object()}}, io.BytesIO())
    with pytest.raises(TypeError, match="dict key"):
        save({(1, 2): chainrule.ones(1)}, io.BytesIO())


# ------------------------------------------------------------------------------------------------ interop

def test_plain_state_dict_reads_in_safetensors_torch_with_the_same_names(tmp_path):
    st_torch = pytest.importorskip("safetensors.torch")
    pytest.importorskip("torch")
    sd = {"layer1.0.conv1.weight": chainrule.randn(4, 3, 3, 3), "bn1.num_batches_tracked": chainrule.tensor(0),
          "fc.bias": chainrule.randn(10, dtype=chainrule.float64)}
    save(sd, tmp_path / "m.safetensors")
    theirs = st_torch.load_file(str(tmp_path / "m.safetensors"))
    assert set(theirs) == set(sd)
    for name, t in sd.items():
        np.testing.assert_array_equal(theirs[name].numpy(), t.numpy())
        assert str(theirs[name].dtype).split(".")[-1] == t.dtype.name
    nested = {"model": sd, "epoch": 2}
    save(nested, tmp_path / "n.safetensors")
    assert set(st_torch.load_file(str(tmp_path / "n.safetensors"))) == {"model." + n for n in sd}


def test_torch_state_dict_written_by_safetensors_torch_loads_as_a_dict(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(2, 5))
    state = net.state_dict()
    st_torch.save_file(state, str(tmp_path / "torch.safetensors"))
    loaded = load(tmp_path / "torch.safetensors")
    assert type(loaded) is dict and set(loaded) == set(state)
    for name, t in state.items():
        assert loaded[name].shape == tuple(t.shape) and loaded[name].dtype.name == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(loaded[name].numpy(), t.numpy())


def test_unsupported_dtype_in_a_foreign_file(tmp_path):
    safetensors.numpy.save_file({"x": np.zeros(2, np.uint16)}, tmp_path / "u.safetensors")
    with pytest.raises(LoadError, match="'x' has dtype uint16"):
        load(tmp_path / "u.safetensors")


# ------------------------------------------------------------------------------------------------ atomic writes

def leftovers(directory):
    return [p.name for p in pathlib.Path(directory).iterdir() if p.name.endswith(".tmp")]


def test_failure_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save({"w": chainrule.ones(1000)}, path)
    before = path.read_bytes()

    def half_then_crash(out, data):
        out.write(memoryview(data)[: len(data) // 2])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization, "_write_all", half_then_crash)
    with pytest.raises(OSError, match="simulated"):
        save({"w": chainrule.zeros(1000)}, path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []
    same(chainrule.ones(1000), load(path)["w"])


def test_failure_before_rename_and_interrupts_leave_nothing_behind(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save(chainrule.ones(3), path)
    before = path.read_bytes()
    for error in (OSError("rename failed"), KeyboardInterrupt()):
        def fail(*args, error=error):
            raise error
        monkeypatch.setattr(serialization.os, "replace", fail)
        with pytest.raises(type(error)):
            save(chainrule.zeros(3), path)
        assert path.read_bytes() == before and leftovers(tmp_path) == []
    monkeypatch.undo()
    (tmp_path / "new").mkdir()
    with pytest.raises(TypeError):
        save(object(), tmp_path / "new" / "x.safetensors")  # encoding fails before any file is created
    assert list((tmp_path / "new").iterdir()) == []


def test_write_is_fsynced_then_renamed(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(serialization.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(serialization.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    save(chainrule.ones(2), tmp_path / "a.safetensors")
    assert events[:2] == ["fsync", "replace"]  # the data is on disk before it takes the target's name
    assert "fsync" in events[2:] or os.name == "nt"  # then the directory entry


def test_new_file_permissions_follow_the_umask(tmp_path):
    save(chainrule.ones(2), tmp_path / "a.safetensors")
    with open(tmp_path / "reference", "wb"):
        pass
    assert os.stat(tmp_path / "a.safetensors").st_mode == os.stat(tmp_path / "reference").st_mode


# ------------------------------------------------------------------------------------------------ refusal

class Payload:
    """Unpickling this would create a file: proof that load never unpickles."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(LoadError, match="not a safetensors file.*pickle.*never unpickles") as info:
        load(path)
    assert str(path) in str(info.value) and not marker.exists()
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
def test_torch_save_files_are_refused(tmp_path, zipfile):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=zipfile)
    with pytest.raises(LoadError, match="model.pt.*not a safetensors file.*never unpickles.*save_file"):
        load(path)


def corrupt_variants(good):
    header_size = int.from_bytes(good[:8], "little")
    header = good[8:8 + header_size]
    return {
        "empty": b"",
        "short": good[:5],
        "truncated-data": good[:-3],
        "truncated-header": good[:8 + header_size // 2],
        "huge-header-length": (2**40).to_bytes(8, "little") + good[8:],
        "text-file": b"hello world, this is not a model\n",
        "bad-json": good[:8] + header.replace(b'"', b"'", 1) + good[8 + header_size:],
        "bad-chainrule-metadata": good[:8] + header.replace(b'tree', b'tref') + good[8 + header_size:],
    }


@pytest.mark.parametrize("kind", list(corrupt_variants(b"\0" * 8)))
def test_damaged_files_are_refused_with_the_file_name(tmp_path, kind):
    buffer = io.BytesIO()
    save({"epoch": 1, "w": chainrule.ones(4)}, buffer)
    path = tmp_path / f"{kind}.safetensors"
    path.write_bytes(corrupt_variants(buffer.getvalue())[kind])
    with pytest.raises(LoadError) as info:
        load(path)
    assert path.name in str(info.value)
