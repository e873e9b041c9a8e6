"""The command line: a thin edge over ``strata.Workspace``."""
