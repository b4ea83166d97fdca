"""End-to-end benchmarks through a real livekit-server: latency, barge-in, concurrency."""
