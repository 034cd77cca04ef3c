"""Pure domain rules: incident phases, roles, errors, time; no I/O, no web framework."""
