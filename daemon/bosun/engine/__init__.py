"""bosun.engine."""
