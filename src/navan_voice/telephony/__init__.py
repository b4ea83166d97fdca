"""navan_voice.telephony."""
