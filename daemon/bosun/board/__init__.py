"""bosun.board."""
