"""What a request handler can reach: the workspace, settings, board and services.

Packages that serve requests add their service as a typed attribute here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bosun.config import Settings
from bosun.workspace import Workspace

if TYPE_CHECKING:
    from bosun.board.store import Store


@dataclass
class DaemonContext:
    """Shared by every connection of one daemon."""

    workspace: Workspace
    settings: Settings
    store: Store
    boot_id: str
    started_at: datetime
    client_count: Callable[[], int] = lambda: 0
    listeners: list[str] = field(default_factory=list)
    request_shutdown: Callable[[str], None] = lambda reason: None
    # Services registered by packages (git plane, engine…), by name.
    services: dict[str, Any] = field(default_factory=dict)
    # Set once every service has started; requests that need one wait for it.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
