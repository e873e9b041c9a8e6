"""Reading an MLflow tracking server through its documented REST API (``/api/2.0/mlflow/…``
and the proxied artifacts of ``/api/2.0/mlflow-artifacts/…``), with httpx (the ``mlflow``
extra): registered models, their versions, the runs behind them and the versions' files.

The ``mlflow`` client package itself does not install beside Strata (it pins older pyarrow,
cryptography and cachetools), so this reads what the client would, over HTTP. Every transport
or HTTP failure becomes a Strata error here, in one place.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from strata.errors import (
    AuthenticationError,
    ObjectMissingError,
    RemoteError,
    ServerUnavailableError,
    UserInputError,
)
from strata.lineage.tracking_records import MetricPoint

if TYPE_CHECKING:
    import httpx

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
PROXIED = "mlflow-artifacts:"
PAGE = 1000


@dataclass(frozen=True)
class SourceVersion:
    """One registered version as MLflow keeps it."""

    number: int
    description: str
    tags: Mapping[str, str]
    stage: str
    aliases: tuple[str, ...]
    run_id: str | None
    source: str
    created_ms: int
    user: str


@dataclass(frozen=True)
class SourceModel:
    name: str
    description: str
    tags: Mapping[str, str]
    versions: tuple[SourceVersion, ...]
    """Oldest first."""


@dataclass(frozen=True)
class SourceRun:
    run_id: str
    experiment: str
    name: str
    user: str
    status: str
    start_ms: int
    end_ms: int | None
    params: Mapping[str, str]
    tags: Mapping[str, str]
    history: tuple[MetricPoint, ...]
    datasets: tuple[tuple[str, str, str], ...]
    """(name, digest, source) of each dataset the run logged as an input."""


def _pairs(items: Any) -> dict[str, str]:
    return {str(i["key"]): str(i.get("value", "")) for i in items or []}


class MlflowSource:
    """An MLflow tracking server at ``url`` (``http://`` or ``https://``), ``name`` as the
    user gave it (a database URI that ``mlflow_serve.served`` serves at ``url``)."""

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        token: str = "",
        name: str | None = None,
    ) -> None:
        try:
            import httpx
        except ImportError as exc:
            raise UserInputError(
                "reading MLflow needs httpx", hint="pip install 'strata-ml[mlflow]'"
            ) from exc
        if not url.startswith(("http://", "https://")):
            raise UserInputError(
                f"cannot read MLflow at {url!r}: give its tracking server's http:// URL "
                "or its database's URI (sqlite:///…, postgresql://…)"
            )
        self.url = url.rstrip("/")
        self.name = name or self.url
        """What the source is called in results and the audit trail (the URI given)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, auth=auth, headers=headers, timeout=60)
        self._httpx = httpx
        self._where: dict[tuple[str, int], str | Path] = {}

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        httpx = self._httpx
        try:
            answer = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ServerUnavailableError(
                f"cannot reach MLflow at {self.url}: {exc}",
                hint="check --tracking-uri and that the server is running",
            ) from exc
        if answer.status_code in (401, 403):
            raise AuthenticationError(
                f"MLflow at {self.url} refused the credentials (HTTP {answer.status_code})",
                hint="set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, "
                "or MLFLOW_TRACKING_TOKEN",
            )
        return answer

    def _json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        answer = self._get(API + path, params)
        try:
            found: dict[str, Any] = answer.json()
        except ValueError:
            found = {}
        if answer.status_code >= 400:
            message = str(found.get("message") or answer.text[:200]).splitlines()[0]
            raise RemoteError(f"MLflow at {self.url} answered {answer.status_code}: {message}")
        return found

    def _pages(self, path: str, key: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        token = ""
        while True:
            page = self._json(path, {**params, **({"page_token": token} if token else {})})
            yield from page.get(key, [])
            token = page.get("next_page_token", "")
            if not token:
                return

    # -- the registry ---------------------------------------------------------------------
    def model_names(self) -> list[str]:
        found = self._pages("/registered-models/search", "registered_models", {"max_results": 100})
        return sorted(m["name"] for m in found)

    def model(self, name: str) -> SourceModel:
        found = self._json("/registered-models/get", {"name": name})["registered_model"]
        aliases: dict[int, list[str]] = {}
        for pair in found.get("aliases", []):
            aliases.setdefault(int(pair["version"]), []).append(pair["alias"])
        query = {"filter": f"name='{name}'", "max_results": 200}
        versions = [
            SourceVersion(
                number=int(v["version"]),
                description=v.get("description", ""),
                tags=_pairs(v.get("tags")),
                stage=v.get("current_stage", "None"),
                aliases=tuple(sorted(aliases.get(int(v["version"]), []))),
                run_id=v.get("run_id") or None,
                source=v.get("source", ""),
                created_ms=int(v.get("creation_timestamp", 0)),
                user=v.get("user_id", ""),
            )
            for v in self._pages("/model-versions/search", "model_versions", query)
        ]
        versions.sort(key=lambda v: v.number)
        return SourceModel(
            name, found.get("description", ""), _pairs(found.get("tags")), tuple(versions)
        )

    # -- runs -----------------------------------------------------------------------------
    def run(self, run_id: str) -> SourceRun:
        found = self._json("/runs/get", {"run_id": run_id})["run"]
        info, data = found["info"], found.get("data", {})
        experiment = self._json("/experiments/get", {"experiment_id": info["experiment_id"]})
        history: list[MetricPoint] = []
        for key in sorted({m["key"] for m in data.get("metrics", [])}):
            query = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            points = self._pages("/metrics/get-history", "metrics", query)
            history += [
                MetricPoint(key, float(p["value"]), int(p["timestamp"]), int(p.get("step", 0)))
                for p in points
            ]
        datasets = tuple(
            (d["dataset"]["name"], d["dataset"].get("digest", ""), d["dataset"].get("source", ""))
            for d in found.get("inputs", {}).get("dataset_inputs", [])
        )
        return SourceRun(
            run_id=run_id,
            experiment=experiment["experiment"]["name"],
            name=info.get("run_name", ""),
            user=info.get("user_id", ""),
            status=info.get("status", "FINISHED"),
            start_ms=int(info.get("start_time", 0)),
            end_ms=int(info["end_time"]) if info.get("end_time") else None,
            params=_pairs(data.get("params")),
            tags=_pairs(data.get("tags")),
            history=tuple(history),
            datasets=datasets,
        )

    # -- artifacts ------------------------------------------------------------------------
    def files(self, model: str, version: SourceVersion) -> list[tuple[str, int]]:
        """(path, size) of each file of the version's artifacts, relative to their folder;
        ObjectMissingError when there are none (deleted, or never uploaded)."""
        where = self._artifacts(model, version)
        found = _local_files(where) if isinstance(where, Path) else self._listing(where)
        if not found:
            raise ObjectMissingError(
                f"the artifacts of model {model} version {version.number} are gone: "
                f"nothing at {version.source}"
            )
        return sorted(found)

    def _listing(self, root: str) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        folders = [""]
        while folders:
            folder = folders.pop()
            answer = self._get(ARTIFACTS, {"path": f"{root}/{folder}".rstrip("/")})
            listing = answer.json().get("files", []) if answer.status_code < 400 else []
            for entry in listing:
                rel = f"{folder}/{entry['path']}".lstrip("/")
                if entry.get("is_dir"):
                    folders.append(rel)
                else:
                    found.append((rel, int(entry.get("file_size", 0))))
        return found

    def download(self, model: str, version: SourceVersion, rel: str, size: int, into: Path) -> None:
        """One file of the version's artifacts, its size checked against the listing."""
        if PurePosixPath(rel).is_absolute() or ".." in PurePosixPath(rel).parts:
            raise RemoteError(f"MLflow listed an unsafe artifact path {rel!r}")
        where = self._artifacts(model, version)
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(where, Path):
            shutil.copyfile(where / rel, target)
        else:
            self._fetch(f"{ARTIFACTS}/{where}/{rel}", target, f"{rel} of model {model}")
        if target.stat().st_size != size:
            raise ObjectMissingError(
                f"{rel} of model {model} version {version.number} is "
                f"{target.stat().st_size} bytes; MLflow listed {size}"
            )

    def _fetch(self, path: str, target: Path, what: str) -> None:
        try:
            with self._http.stream("GET", path) as answer, open(target, "wb") as out:
                if answer.status_code >= 400:
                    raise ObjectMissingError(
                        f"{what} cannot be downloaded (HTTP {answer.status_code})"
                    )
                for chunk in answer.iter_bytes(1 << 20):
                    out.write(chunk)
        except self._httpx.HTTPError as exc:
            raise ServerUnavailableError(f"cannot download {what} from {self.url}: {exc}") from exc

    def _artifacts(self, model: str, version: SourceVersion) -> str | Path:
        """Where the version's files are: a path of the server's proxied artifacts, or a
        local folder (what MLflow records when a client logs straight to a database)."""
        key = (model, version.number)
        if key not in self._where:
            self._where[key] = self._locate(model, version)
        return self._where[key]

    def _locate(self, model: str, version: SourceVersion) -> str | Path:
        uri: str = self._json("/model-versions/get-download-uri", {
            "name": model, "version": str(version.number)
        }).get("artifact_uri", version.source)  # fmt: skip
        if uri.startswith(PROXIED):
            return uri.removeprefix(PROXIED).strip("/")
        if uri.startswith(("file://", "/")):
            return Path(uri.removeprefix("file://"))
        raise ObjectMissingError(
            f"the artifacts of model {model} version {version.number} are at {uri}, "
            "which this MLflow server does not serve",
            hint="run `mlflow server` with --serve-artifacts over that store",
        )


def _local_files(root: Path) -> list[tuple[str, int]]:
    if not root.is_dir():
        return []
    return [
        (path.relative_to(root).as_posix(), path.stat().st_size)
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink()
    ]
