"""The offline dialogue engine: a livekit ``llm.LLM`` that needs no cloud model.

``build_local_llm(settings)`` picks the engine named by ``settings.local_llm_engine``
(``rules`` by default; ``needle`` and ``qwen`` load models that ship in PyPI packages).
"""

from __future__ import annotations

from .engine import DialogueEngine, DialogueStream, LocalDialogueLLM
from .factory import build_local_llm
from .rules import Decision, RulesEngine

__all__ = [
    "Decision",
    "DialogueEngine",
    "DialogueStream",
    "LocalDialogueLLM",
    "RulesEngine",
    "build_local_llm",
]
