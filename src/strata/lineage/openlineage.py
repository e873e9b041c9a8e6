"""OpenLineage out and in.

Out: each run emits a RunEvent when it starts (START) and when it ends (COMPLETE or FAIL), built
with the ``openlineage-python`` model classes: the job (with job-type and, from the run's git
state, source-code-location facets), the run (processing engine; the error message on FAIL;
the parent run when it ran inside another), and its inputs and outputs as datasets carrying
the dataset-version facet, plus the schema, data-quality and output-statistics facets when a
describer knows them (tables). They go out through the client's own transports: ``console``
(stderr, one JSON object a line), ``file`` (JSON Lines, appended to one file) and ``http``
(POST to ``URL/api/v1/lineage``, as Marquez takes them). The client's own environment settings
apply too (``OPENLINEAGE_DISABLED``, filters and tags from ``openlineage.yml``).

An event that cannot be sent is appended to a queue file and resent, in order, before the next
event, or by ``strata openlineage flush``: never lost, and never failing the run.

In: ``ingest`` reads events (RunEvents, DatasetEvents, JobEvents) written by Spark, Airflow, dbt or
Flink integrations into the same graph; each event is validated on its own and rejected with
its reason, the rest are stored.

``openlineage`` is imported only here, inside functions: a run with no transport never loads it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from strata import __version__
from strata.config import OPENLINEAGE_TRANSPORTS, OPTIONS
from strata.errors import (
    ConfigError,
    LineageEndpointError,
    RunNotFoundError,
    StrataError,
    UserInputError,
)
from strata.lineage.ids import run_id_to_uuid
from strata.refs import Version, parse_ref

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient
    from openlineage.client.client import Event
    from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent
    from openlineage.client.facet_v2 import DatasetFacet, JobFacet, RunFacet
    from openlineage.client.transport import Transport

    from strata.lineage.protocols import LineageView
    from strata.lineage.records import RunRecord
    from strata.lineage.runs import Run

PRODUCER = f"https://github.com/strata-ml/strata/tree/v{__version__}"
TRANSPORTS = OPENLINEAGE_TRANSPORTS
_DEFAULTS = {
    key.removeprefix("lineage.openlineage."): option.default
    for key, option in OPTIONS.items()
    if key.startswith("lineage.openlineage.")
}
_ERROR_TEXT = 300


@dataclass
class Emitter:
    """Builds the events of a run and hands them to an ``OpenLineageClient``, whose transport
    is a ``QueuedTransport``: the client does its part (its tags facet, its filters), the
    queue keeps what cannot be sent."""

    client: OpenLineageClient
    transport: QueuedTransport

    @property
    def failures(self) -> list[str]:
        """Why events could not be sent, one line each, in this process."""
        return self.transport.failures

    def run_started(self, lineage: LineageView, run: Run) -> None:
        record = lineage.run(run.ref)
        self.emit(run_event(lineage, record, "START", parent=_parent(lineage, run)))

    def run_finished(self, lineage: LineageView, run: Run) -> None:
        record = lineage.run(run.ref)
        state = "COMPLETE" if record.status == "completed" else "FAIL"
        self.emit(run_event(lineage, record, state, parent=_parent(lineage, run)))

    def emit(self, event: RunEvent) -> None:
        """Send ``event`` after the queued ones, or queue it; never raises."""
        try:
            self.client.emit(event)
        except Exception as exc:  # the client's own processing failed: keep the event as is
            self.transport.keep(event, exc)

    def flush(self) -> int:
        return self.transport.flush()


class QueuedTransport:
    """Store and forward in front of one of the client's transports: queued events are sent
    first, in order, and an event that cannot be sent is appended to the queue file with
    every one after it, never failing the run. The client uses a transport's ``kind``,
    ``emit`` and ``close`` only, which is all this implements."""

    name: str | None = None
    priority = 0

    def __init__(self, inner: Transport, queue: Path, target: str) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.queue = queue
        self.target = target  # where events go, for messages: stderr, a file, or a URL
        self.failures: list[str] = []

    def emit(self, event: Event) -> None:
        queued = self._queued()
        for index, item in enumerate(queued):
            try:
                self._resend(item)
            except Exception as exc:  # a transport fails in its own ways; none may fail a run
                self.keep(event, exc, waiting=queued[index:])
                return
        try:
            self.inner.emit(event)
        except Exception as exc:
            self.keep(event, exc)
            return
        if queued:
            self._write_queue([])

    def keep(
        self, event: Event, exc: Exception, *, waiting: Sequence[dict[str, Any]] | None = None
    ) -> None:
        """Queue ``event``, as the JSON it is sent as, after ``waiting`` (the events still
        queued; by default the whole queue)."""
        from openlineage.client.serde import Serde

        self.failures.append(self._failure(exc))
        rest = self._queued() if waiting is None else list(waiting)
        self._write_queue([*rest, Serde.to_dict(event)])

    def close(self, timeout: float = -1) -> bool:
        return self.inner.close(timeout)

    def flush(self) -> int:
        """Resend the queued events; how many were sent (LineageEndpointError on the first
        that cannot be, which stays queued with the ones after it)."""
        queued = self._queued()
        for index, item in enumerate(queued):
            try:
                self._resend(item)
            except Exception as exc:
                self._write_queue(queued[index:])
                raise LineageEndpointError(self._failure(exc)) from exc
        self._write_queue([])
        return len(queued)

    def _resend(self, event: dict[str, Any]) -> None:
        """A queued event, as it was first tried: kept as the JSON the client made, and the
        transports serialise with ``Serde.to_dict``, which takes such a dict as it is."""
        self.inner.emit(cast("Event", event))

    def _failure(self, exc: Exception) -> str:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return f"cannot send OpenLineage event to {self.target}: {reason[:_ERROR_TEXT]}"

    def _queued(self) -> list[dict[str, Any]]:
        try:
            lines = self.queue.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def _write_queue(self, events: list[dict[str, Any]]) -> None:
        if not events:
            self.queue.unlink(missing_ok=True)
            return
        tmp = self.queue.with_name(self.queue.name + ".tmp")
        tmp.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events), "utf-8")
        tmp.replace(self.queue)


def emitter_from_settings(
    settings: Mapping[str, str], *, root: Path, queue: Path
) -> Emitter | None:
    """The emitter ``[lineage.openlineage]`` configures, or None (transport none or unset)."""
    kind = settings.get("transport", "none").strip().lower() or "none"
    if kind not in TRANSPORTS:
        raise ConfigError(
            f"bad lineage.openlineage.transport {kind!r}",
            hint=f"use one of {', '.join(TRANSPORTS)}",
        )
    if kind == "none":
        return None
    from openlineage.client import OpenLineageClient

    inner: Transport
    if kind == "console":
        inner, target = _console_transport(), "stderr"
    elif kind == "file":
        inner, target = _file_transport(settings, root)
    else:
        inner, target = _http_transport(settings)
    transport = QueuedTransport(inner, queue, target)
    try:
        client = OpenLineageClient(transport=cast("Transport", transport))
    except ValueError as exc:  # its own settings (openlineage.yml, OPENLINEAGE__*) are bad
        raise ConfigError(
            f"cannot configure the OpenLineage client: {exc}",
            hint="fix openlineage.yml or the OPENLINEAGE__ environment variables",
        ) from None
    return Emitter(client, transport)


def _console_transport() -> Transport:
    """The client's ConsoleTransport, which logs each event at INFO on its own logger; that
    logger is pointed at stderr, one event a line."""
    from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport

    logger = logging.getLogger(ConsoleTransport.__module__)
    if not any(isinstance(h, _StderrLines) for h in logger.handlers):
        logger.addHandler(_StderrLines())
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the events are output, not log records for the application
    return ConsoleTransport(ConsoleConfig())


class _StderrLines(logging.Handler):
    """Writes each record's message as a line to the ``sys.stderr`` of the moment (so that
    redirecting it, as tests do, is seen)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(record.getMessage() + "\n")
        except Exception:
            self.handleError(record)


def _file_transport(settings: Mapping[str, str], root: Path) -> tuple[Transport, str]:
    """The client's FileTransport in append mode: every event a line of one JSON Lines file
    (its default writes one file per event). Its folder is made when the first event comes."""
    from openlineage.client.transport.file import FileConfig, FileTransport

    path = Path(settings.get("path") or _DEFAULTS["path"]).expanduser()
    path = path if path.is_absolute() else root / path

    class FolderMakingFileTransport(FileTransport):
        def emit(self, event: Event) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            super().emit(event)

    return FolderMakingFileTransport(FileConfig(log_file_path=str(path), append=True)), str(path)


def _http_transport(settings: Mapping[str, str]) -> tuple[Transport, str]:
    """The client's HttpTransport. It raises on a non-2xx answer (``raise_for_status``) and on a
    connection error; its retries are off, so an endpoint that is down costs one attempt and
    the event is queued rather than the run waiting."""
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    url = settings.get("url", "").strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"bad lineage.openlineage.url {url!r}", hint="set an http:// or https:// URL"
        )
    timeout_text = settings.get("timeout") or _DEFAULTS["timeout"]
    try:
        timeout = float(timeout_text)
        if not timeout > 0:
            raise ValueError(timeout_text)
    except ValueError:
        raise ConfigError(
            f"bad lineage.openlineage.timeout {timeout_text!r}", hint="use seconds, e.g. 5"
        ) from None
    endpoint = (settings.get("endpoint") or _DEFAULTS["endpoint"]).strip("/")
    # The client joins URL and endpoint with urljoin, which drops the URL's last path segment
    # unless it ends in "/": https://host/marquez + api/v1/lineage must stay under /marquez.
    base = url.rstrip("/") + "/"
    config = HttpConfig(
        url=base,
        endpoint=endpoint,
        timeout=timeout,
        retry={"total": 0, "status_forcelist": []},
    )
    try:
        transport = HttpTransport(config)
    except ValueError as exc:
        raise ConfigError(f"bad lineage.openlineage.url {url!r}: {exc}") from None
    return transport, base + endpoint


# -- building events --------------------------------------------------------------------------
def _parent(lineage: LineageView, run: Run) -> RunRecord | None:
    if run.parent_id is None:
        return None
    try:
        return lineage.run(f"run:{run.parent_id}")
    except RunNotFoundError:
        return None


def input_dataset(lineage: LineageView, ref_text: str) -> InputDataset:
    """A ref a run read, with the data-quality metrics of its stats when they are known."""
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as quality

    name, facets, described = _dataset_parts(lineage, ref_text)
    item = InputDataset(namespace=lineage.namespace, name=name, facets=facets)
    rows = _count(described, "row_count")
    if rows is not None:
        columns = described.get("column_metrics")
        item.inputFacets = {
            "dataQualityMetrics": quality.DataQualityMetricsInputDatasetFacet(
                rowCount=rows,
                bytes=_count(described, "size_bytes"),
                fileCount=_count(described, "file_count"),
                columnMetrics={
                    str(column): quality.ColumnMetrics(**_column_metrics(values))
                    for column, values in (columns if isinstance(columns, dict) else {}).items()
                },
                producer=PRODUCER,
            )
        }
    return item


def output_dataset(lineage: LineageView, ref_text: str) -> OutputDataset:
    """A ref a run wrote, with its output statistics when they are known: the rows the
    commit that made that version wrote (a table's total is in its schema and input facets)."""
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset as statistics

    name, facets, _ = _dataset_parts(lineage, ref_text)
    item = OutputDataset(namespace=lineage.namespace, name=name, facets=facets)
    rows = _rows_written(lineage, ref_text)
    if rows is not None:
        item.outputFacets = {
            "outputStatistics": statistics.OutputStatisticsOutputDatasetFacet(
                rowCount=rows, producer=PRODUCER
            )
        }
    return item


def _rows_written(lineage: LineageView, ref_text: str) -> int | None:
    if lineage.rows_written is None:
        return None
    try:
        ref = parse_ref(ref_text)
    except UserInputError:
        return None
    if ref.kind != "table" or not isinstance(ref.selector, Version):
        return None
    try:
        return lineage.rows_written(ref.name, ref.selector.number)
    except StrataError:  # the table is gone or unreadable: no statistics, the event still goes
        return None


def _dataset_parts(
    lineage: LineageView, ref_text: str
) -> tuple[str, dict[str, DatasetFacet], dict[str, Any]]:
    """A Strata ref as an OpenLineage dataset: its name without the version, the version as
    a facet, the schema facet where a describer knows it; and what the describer said."""
    from openlineage.client.facet_v2 import dataset_version_dataset, schema_dataset

    name, _, version = ref_text.partition("@")
    facets: dict[str, DatasetFacet] = {}
    if version:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=version, producer=PRODUCER
        )
    described = _describe(lineage, ref_text)
    fields = described.get("schema_fields")
    if isinstance(fields, list) and fields:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(
                    name=str(f["name"]), type=str(f.get("type", ""))
                )
                for f in fields
            ],
            producer=PRODUCER,
        )
    return name, facets, described


def _count(described: Mapping[str, Any], key: str) -> int | None:
    value = described.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_COLUMN_METRICS = ("nullCount", "distinctCount", "sum", "count", "min", "max")


def _column_metrics(values: object) -> dict[str, Any]:
    """The metrics of one column that OpenLineage's ColumnMetrics has a field for."""
    if not isinstance(values, Mapping):
        return {}
    return {k: v for k, v in values.items() if k in _COLUMN_METRICS and v is not None}


def _describe(lineage: LineageView, ref_text: str) -> dict[str, Any]:
    try:
        ref = parse_ref(ref_text)
    except UserInputError:
        return {}
    if not isinstance(ref.selector, Version) and ref.kind != "file":
        return {}
    return lineage.describer.describe(ref) or {}


def run_event(
    lineage: LineageView, record: RunRecord, event_type: str, *, parent: RunRecord | None = None
) -> RunEvent:
    """The RunEvent of ``record`` at ``event_type`` (START, COMPLETE or FAIL)."""
    from openlineage.client.constants import __version__ as client_version
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        error_message_run,
        job_type_job,
        parent_run,
        processing_engine_run,
    )

    run_facets: dict[str, RunFacet] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=__version__,
            name="strata",
            openlineageAdapterVersion=client_version,
            producer=PRODUCER,
        )
    }
    if parent is not None:
        run_facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run_id_to_uuid(parent.id)),
            job=parent_run.Job(namespace=parent.namespace, name=parent.job),
            producer=PRODUCER,
        )
    if event_type == "FAIL" and record.error:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=record.error, programmingLanguage="PYTHON", producer=PRODUCER
        )
    job_facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="STRATA", jobType="JOB", producer=PRODUCER
        )
    }
    source = _source_code_location(record)
    if source is not None:
        job_facets["sourceCodeLocation"] = source
    when = record.ended_at if event_type != "START" and record.ended_at else record.started_at
    return RunEvent(
        eventType=RunState(event_type),
        eventTime=when.isoformat(),
        producer=PRODUCER,
        run=Run(runId=run_id_to_uuid(record.id), facets=run_facets),
        job=Job(namespace=record.namespace, name=record.job, facets=job_facets),
        inputs=[input_dataset(lineage, r) for r in record.inputs],
        outputs=[output_dataset(lineage, r) for r in record.outputs],
    )


def _source_code_location(record: RunRecord) -> JobFacet | None:
    """Where the code of the run is: its git repository and commit, when it ran in one."""
    from openlineage.client.facet_v2 import source_code_location_job

    git = record.environment.get("git") if isinstance(record.environment, dict) else None
    if not isinstance(git, dict) or not git.get("repository") or not git.get("commit"):
        return None
    repository = str(git["repository"])
    if Path(repository).is_absolute():  # a repository with no remote: its folder, as a URI
        repository = Path(repository).as_uri()
    return source_code_location_job.SourceCodeLocationJobFacet(
        type="git",
        url=repository,
        repoUrl=repository,
        version=str(git["commit"]),
        branch=git.get("branch") or None,
        producer=PRODUCER,
    )
