"""One exception tree for everything Strata raises on purpose.

Every error carries a one-line message naming the thing, a hint that says what to do, and the
exit code the command line uses. Foreign errors (OSError, SQLAlchemy, git) are translated into
this tree inside the module that calls the foreign library, with ``raise ... from exc``.

    StrataError                      1
    ├── UserInputError               2   bad arguments or refs
    │   └── RefSyntaxError           2
    ├── ConfigError                  3
    ├── WorkspaceError               4
    │   ├── NotAWorkspaceError       4
    │   ├── PathOutsideWorkspaceError 4
    │   ├── NotTrackedError          4
    │   └── UncommittedChangesError  5   refusing to overwrite unsaved work
    ├── PointerError                 6   malformed, newer format, unsafe path
    ├── StorageError                 7
    │   ├── ObjectMissingError       8
    │   ├── ObjectCorruptError       9
    │   ├── DiskFullError            10
    │   └── RemoteError              13   unreachable, denied, missing bucket
    ├── ServerUnavailableError       14   the Strata server is unreachable or failed
    ├── AuthenticationError          15   no, wrong, expired or revoked token
    ├── PermissionDeniedError        16   the user's role does not allow it
    ├── GitError                     11
    │   └── RevisionNotFoundError    11
    ├── MetadataError                12
    │   └── MetadataUnavailableError 12   the database cannot be reached right now
    ├── TableError                   20
    │   ├── TableNotFoundError       20
    │   ├── TableExistsError         20   a table of that name is catalogued already
    │   ├── TablePinnedError         20   a pinned version refuses the change
    │   ├── TableVersionNotFoundError 20
    │   ├── TableConflictError       21   a concurrent commit won
    │   └── UnsupportedByFormatError 22   e.g. partition evolution on Delta
    ├── RegistryError                30
    │   ├── ModelNotFoundError       30
    │   ├── ModelVersionNotFoundError 30
    │   ├── PromotionRefusedError    31   a promotion gate failed
    │   ├── ProtectedAliasError      32   moving a protected alias needs --force and a reason
    │   └── UntrustedArtifactError   33   loading a pickle needs trust=True
    ├── LineageError                 40
    │   ├── RunNotFoundError         41
    │   └── LineageEndpointError     42   an OpenLineage endpoint failed
    ├── GuardError                   50
    │   └── MetricSourceError        51
    └── PipelineError                60
        ├── PipelineFileError        61   malformed strata.yaml, strata.lock or params file
        ├── PipelineGraphError       62   a cycle, or two stages writing one output
        ├── DependencyMissingError   63   a stage's dependency does not exist
        └── StageFailedError         64   a stage's command failed or left an output out
"""

from __future__ import annotations


class StrataError(Exception):
    """Root of every error Strata raises on purpose."""

    exit_code: int = 1
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def one_line(self) -> str:
        """The message and the hint as the single line the user sees."""
        if self.hint:
            return f"{self.message}: {self.hint}"
        return self.message


class UserInputError(StrataError):
    exit_code = 2


class RefSyntaxError(UserInputError):
    default_hint = "write refs as KIND:NAME@SELECTOR, e.g. table:deliveries@47"


class ConfigError(StrataError):
    exit_code = 3


class WorkspaceError(StrataError):
    exit_code = 4


class NotAWorkspaceError(WorkspaceError):
    default_hint = "run `strata init` in the project folder, or cd into a workspace"


class PathOutsideWorkspaceError(WorkspaceError):
    default_hint = "name a path inside the workspace"


class NotTrackedError(WorkspaceError):
    default_hint = "track it first with `strata add PATH`"


class UncommittedChangesError(WorkspaceError):
    exit_code = 5
    default_hint = "`strata add` them first to keep them, or pass --force to discard them"


class PointerError(StrataError):
    exit_code = 6
    default_hint = "restore the pointer file from git (`git checkout -- FILE.strata`)"


class StorageError(StrataError):
    exit_code = 7


class ObjectMissingError(StorageError):
    exit_code = 8
    default_hint = "`strata pull` may bring it from a remote"


class ObjectCorruptError(StorageError):
    exit_code = 9
    default_hint = "run `strata verify`, then `strata pull` to fetch a good copy"


class DiskFullError(StorageError):
    exit_code = 10
    default_hint = (
        "free some space (or move the cache with `strata config set cache.dir`) and retry"
    )


class RemoteError(StorageError):
    exit_code = 13
    default_hint = "check the remote with `strata remote list` and your credentials"


class GitError(StrataError):
    exit_code = 11


class RevisionNotFoundError(GitError):
    default_hint = "check the name with `git log --oneline` or `git branch -a`"


class ServerUnavailableError(StrataError):
    exit_code = 14
    default_hint = "check STRATA_SERVER (or --server) and that `strata server` runs there"


class AuthenticationError(StrataError):
    exit_code = 15
    default_hint = "set STRATA_TOKEN (or --token) to a token from `strata token create NAME`"


class PermissionDeniedError(StrataError):
    exit_code = 16
    default_hint = "ask an admin for a role or a grant (`strata grant USER KIND:NAME --role ROLE`)"


class MetadataError(StrataError):
    exit_code = 12


class MetadataUnavailableError(MetadataError):
    """The database cannot be reached right now (down, restarting, unreachable, or busy past
    the timeout); the same request may succeed once it is back."""


class TableError(StrataError):
    exit_code = 20


class TableNotFoundError(TableError):
    default_hint = "see the catalog with `strata table list`"


class TableExistsError(TableError):
    """A table of that name is in the catalog already."""


class TablePinnedError(TableError):
    """A pinned version refuses the change (drop, rename, expiring it)."""


class TableVersionNotFoundError(TableError):
    default_hint = "see the versions with `strata table history NAME`"


class TableConflictError(TableError):
    exit_code = 21
    default_hint = "another writer committed first; run the command again"


class UnsupportedByFormatError(TableError):
    exit_code = 22


class RegistryError(StrataError):
    exit_code = 30


class ModelNotFoundError(RegistryError):
    default_hint = "see the registered models with `strata model list`"


class ModelVersionNotFoundError(RegistryError):
    default_hint = "see the versions with `strata model versions NAME`"


class PromotionRefusedError(RegistryError):
    exit_code = 31
    default_hint = "meet the gates, or pass --force with --reason to override (recorded)"


class ProtectedAliasError(RegistryError):
    exit_code = 32
    default_hint = "pass --force with --reason to move a protected alias (recorded)"


class UntrustedArtifactError(RegistryError):
    exit_code = 33
    default_hint = "load it with trust=True only if you trust who registered it"


class LineageError(StrataError):
    exit_code = 40


class RunNotFoundError(LineageError):
    exit_code = 41
    default_hint = "list runs with `strata runs`"


class ExperimentNotFoundError(LineageError):
    exit_code = 43
    default_hint = "list experiments with an MLflow client's search_experiments()"


class LoggedModelNotFoundError(LineageError):
    exit_code = 44
    default_hint = "list them with an MLflow client's search_logged_models()"


class AlreadyExistsError(UserInputError):
    """A create of something that exists already (an experiment, a registered model)."""


class LineageEndpointError(LineageError):
    exit_code = 42
    default_hint = "events stay queued; the next run or `strata openlineage flush` resends them"


class GuardError(StrataError):
    exit_code = 50


class GuardEventNotFoundError(GuardError):
    exit_code = 52
    default_hint = "see the guard's checks with `strata guard history`"


class MetricSourceError(GuardError):
    """A metric source could not be read or answered garbage: never a reason to roll back."""

    exit_code = 51
    default_hint = "check the policy's metrics source; no rollback was made on missing data"


class PipelineError(StrataError):
    exit_code = 60


class PipelineFileError(PipelineError):
    exit_code = 61
    default_hint = "fix the file at that line"


class PipelineGraphError(PipelineError):
    exit_code = 62
    default_hint = "change the stages' deps or outs in strata.yaml"


class DependencyMissingError(PipelineError):
    exit_code = 63
    default_hint = "create it, or add the stage that produces it to strata.yaml"


class StageFailedError(PipelineError):
    exit_code = 64
    default_hint = "fix the stage and run `strata repro` again; finished stages are kept"
