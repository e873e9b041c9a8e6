"""Ground-layer helpers that every layer may use: safe parsing of untrusted input
(``safe_yaml``: YAML composed and loaded with bounds against alias bombs and deep nesting)."""
