"""bosun.tools."""
