"""What spans capabilities: rollback of a model with its data, releases, readiness, incidents."""

from strata.recovery.service import Recovery

__all__ = ["Recovery"]
