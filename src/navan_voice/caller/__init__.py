"""navan_voice.caller."""
