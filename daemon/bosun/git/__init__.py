"""bosun.git."""
