"""navan_voice.services."""
