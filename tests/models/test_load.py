"""``strata.load_model``: known flavors come back loaded; a pickle needs trust=True."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

import strata
from factories import write
from strata import Workspace
from strata.errors import RegistryError, UntrustedArtifactError


def _sklearn_model(ws: Workspace) -> Path:
    from sklearn.linear_model import LogisticRegression
    from skops.io import dump

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    path = ws.root / "out" / "clf.skops"
    path.parent.mkdir(parents=True, exist_ok=True)
    dump(model, path)
    return path


def test_a_scikit_learn_model_saved_with_skops_comes_back_loaded(ws: Workspace) -> None:
    ws.models.register("clf", _sklearn_model(ws))
    ws.models.promote("model:clf@1", "production")
    model = strata.load_model("model:clf@production", workspace=ws.root)
    assert list(model.predict(np.array([[0.0], [3.0]]))) == [0, 1]
    assert ws.models.show("model:clf@1").flavor == "sklearn"


def test_a_safetensors_state_dict_comes_back_as_arrays(ws: Workspace) -> None:
    from safetensors.numpy import save_file

    path = ws.root / "out" / "weights.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3)}, str(path))
    ws.models.register("net", path)
    state = ws.models.load("model:net@1")
    assert state["layer.weight"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_a_pickle_is_refused_unless_trusted(ws: Workspace) -> None:
    path = write(ws.root / "out" / "model.pkl", pickle.dumps({"weights": [1, 2]}))
    ws.models.register("clf", path)
    with pytest.raises(UntrustedArtifactError, match="runs code from the file"):
        strata.load_model("model:clf@1", workspace=ws.root)
    assert not (ws.root / ".strata" / "tmp" / "models").exists(), "nothing was even copied"
    assert strata.load_model("model:clf@1", trust=True, workspace=ws.root) == {"weights": [1, 2]}


def test_an_unknown_flavor_gives_the_path_of_a_verified_copy(ws: Workspace) -> None:
    ws.models.register("clf", write(ws.root / "out" / "model.bin", b"\x00weights"))
    path = ws.models.load("model:clf@latest")
    assert isinstance(path, Path)
    assert path.name == "model.bin" and path.read_bytes() == b"\x00weights"


@pytest.mark.skipif(importlib.util.find_spec("onnx") is not None, reason="onnx is installed")
def test_a_flavor_whose_library_is_missing_names_the_package(ws: Workspace) -> None:
    ws.models.register("clf", write(ws.root / "out" / "model.onnx", b"not really onnx"))
    with pytest.raises(RegistryError) as missing:
        ws.models.load("model:clf@1")
    assert missing.value.one_line() == (
        "loading a model of flavor 'onnx' needs the onnx package: pip install onnx"
    )


def test_an_artifact_its_flavor_cannot_read_is_a_registry_error(ws: Workspace) -> None:
    ws.models.register("m", write(ws.root / "model.pkl", "not a pickle"))
    with pytest.raises(RegistryError, match=r"cannot load model:m@1 as flavor 'pickle'"):
        strata.load_model("model:m@1", trust=True, workspace=ws.root)
