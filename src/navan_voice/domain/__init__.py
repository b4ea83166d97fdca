"""Domain types and errors; imports neither livekit nor SQL."""
