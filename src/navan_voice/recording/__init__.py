"""navan_voice.recording."""
