"""navan_voice.speech."""
