"""navan-voice: Navan's voice AI support agent on the open-source LiveKit stack."""

__version__ = "0.1.0"
