"""navan_voice.analytics."""
