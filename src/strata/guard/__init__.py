"""Rollback guard: policies over serving metrics and drift, and the checks that act on them.

Importing this package imports neither pyarrow nor numpy; ``drift`` does when it runs.
"""

from strata.guard.policy import Condition, ModelPolicy, Policy, load_policy, parse_policy

__all__ = ["Condition", "ModelPolicy", "Policy", "load_policy", "parse_policy"]
