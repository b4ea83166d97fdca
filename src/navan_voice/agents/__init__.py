"""navan_voice.agents."""
