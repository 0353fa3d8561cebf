"""bosun.tools.mcp: tools of the MCP servers a workspace configures, behind Bosun's tool pipeline.

Each attempt connects to its servers (`AttemptMcp`): stdio servers are started in a
sandbox of the attempt's kind and stopped with the attempt, HTTP servers are reached
from the daemon. Their tools appear to the agent as `server__tool`, with their own
JSON schemas, and every call takes the same path as a built-in tool (docs/mcp.md).
"""
