"""navan_voice.stack."""
