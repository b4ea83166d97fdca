"""navan_voice.web."""
