"""bosun.server."""
