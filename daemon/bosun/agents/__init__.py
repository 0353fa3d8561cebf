"""bosun.agents."""
