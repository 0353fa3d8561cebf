"""Bosun: a daemon that runs LLM coding agents on a git repository."""

__version__ = "0.1.0"
