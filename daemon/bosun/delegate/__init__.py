"""bosun.delegate: `bosun mcp`, the workspace daemon offered to other agents as an MCP server."""
