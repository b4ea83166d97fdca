"""Thin ``@function_tool`` wrappers over the travel services, shared by the agents.

Each tool's Google-style ``Args:`` docstring is the schema the model sees; each returns a short
speakable string; domain errors become ``ToolError`` (their messages are safe to speak).
Hand-off tools live in ``navan_voice.agents.handoffs`` because they return agents.
"""
