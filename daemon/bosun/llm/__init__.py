"""bosun.llm."""
