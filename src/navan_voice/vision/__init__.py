"""Screen share → context for the agent (OCR or the image itself), and the agent's avatar."""
