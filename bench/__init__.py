"""Benchmarks of navan-voice (never timed tests): `python -m bench [e2e|standin|bargein|...]`."""
