"""navan_voice.db."""
