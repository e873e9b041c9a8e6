"""Loading a model artifact by its flavor; each library is optional and imported on use.

Flavors: ``sklearn`` (skops files), ``onnx``, ``xgboost``, ``lightgbm``, ``safetensors``
(state dicts: torch tensors when PyTorch is installed, else numpy arrays), ``pickle``
(runs code from the file, so it needs ``trust=True``) and ``none`` (the path is returned).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from strata.errors import RegistryError, UntrustedArtifactError

FLAVORS = ("sklearn", "onnx", "xgboost", "lightgbm", "safetensors", "pickle", "none")
_BY_SUFFIX = {
    ".skops": "sklearn",
    ".onnx": "onnx",
    ".xgb": "xgboost",
    ".ubj": "xgboost",
    ".lgb": "lightgbm",
    ".safetensors": "safetensors",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
}
_PACKAGES = {
    "sklearn": "skops",
    "onnx": "onnx",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "safetensors": "safetensors",
}


def check_flavor(flavor: str) -> str:
    if flavor not in FLAVORS:
        raise RegistryError(f"unknown flavor {flavor!r}", hint=f"use one of {', '.join(FLAVORS)}")
    return flavor


def infer_flavor(name: str, kind: str) -> str:
    """The flavor an artifact's file name suggests; ``none`` for folders and unknown names."""
    return _BY_SUFFIX.get(Path(name).suffix.lower(), "none") if kind == "file" else "none"


def _module(name: str, flavor: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        package = _PACKAGES.get(flavor, name)
        raise RegistryError(
            f"loading a model of flavor {flavor!r} needs the {package} package",
            hint=f"pip install {package}",
        ) from exc


def load(path: Path, flavor: str, *, trust: bool, what: str) -> Any:
    """The loaded model at ``path``; the path itself for flavor ``none``. A file the flavor's
    library cannot read is a RegistryError, not that library's exception."""
    try:
        return _load(path, flavor, trust=trust, what=what)
    except RegistryError:
        raise
    except Exception as exc:  # each loader library raises its own kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RegistryError(
            f"cannot load {what} as flavor {flavor!r}: {first}",
            hint="check the artifact, or register it with the right --flavor",
        ) from exc


def _load(path: Path, flavor: str, *, trust: bool, what: str) -> Any:
    if flavor == "none":
        return path
    if flavor == "pickle":
        return _load_pickle(path, trust=trust, what=what)
    if flavor == "sklearn":
        return _load_skops(path, trust=trust, what=what)
    if flavor == "onnx":
        return _module("onnx", flavor).load(str(path))
    if flavor == "xgboost":
        booster = _module("xgboost", flavor).Booster()
        booster.load_model(str(path))
        return booster
    if flavor == "lightgbm":
        return _module("lightgbm", flavor).Booster(model_file=str(path))
    return _load_safetensors(path)


def check_trusted(flavor: str, *, trust: bool, what: str) -> None:
    """Refuse a pickle unless the caller trusts it: loading one runs code from the file."""
    if flavor == "pickle" and not trust:
        raise UntrustedArtifactError(
            f"{what} is a pickle, and loading a pickle runs code from the file; refused"
        )


def _load_pickle(path: Path, *, trust: bool, what: str) -> Any:
    check_trusted("pickle", trust=trust, what=what)
    if path.suffix == ".joblib":
        return _module("joblib", "pickle").load(path)
    import pickle

    with open(path, "rb") as fh:
        return pickle.load(fh)  # the caller passed trust=True


def _load_skops(path: Path, *, trust: bool, what: str) -> Any:
    sio = _module("skops.io", "sklearn")
    untrusted = sio.get_untrusted_types(file=path)
    if untrusted and not trust:
        listed = ", ".join(untrusted[:3]) + (" …" if len(untrusted) > 3 else "")
        raise UntrustedArtifactError(f"{what} holds types skops does not trust: {listed}")
    return sio.load(path, trusted=untrusted)


def _load_safetensors(path: Path) -> Any:
    try:
        importlib.import_module("torch")
    except ImportError:
        return _module("safetensors.numpy", "safetensors").load_file(str(path))
    return _module("safetensors.torch", "safetensors").load_file(str(path))
