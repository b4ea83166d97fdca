"""The per-call state every agent shares (defined in ``navan_voice.tools.state``)."""

from __future__ import annotations

from navan_voice.tools.state import (
    CallState,
    PendingChange,
    TransferHook,
    TransferRequest,
)

__all__ = ["CallState", "PendingChange", "TransferHook", "TransferRequest"]
