"""navan_voice.tools."""
