# The agent worker image. Scale out by running more containers: each registers with the same
# livekit-server (or LiveKit Cloud) under NAVAN_AGENT_NAME and the server spreads calls by load.
#   docker build -t navan-voice-worker .
#   docker run -e LIVEKIT_URL=wss://... -e LIVEKIT_API_KEY=... -e LIVEKIT_API_SECRET=... \
#              -e NAVAN_DATABASE_URL=postgresql+psycopg://... navan-voice-worker
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN apt-get update \
    && apt-get install -y --no-install-recommends libsndfile1 libgomp1 tesseract-ocr \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev

# 8081: the worker's health endpoint (GET / answers OK once connected)
ENV NAVAN_WORKER_HTTP_PORT=8081
EXPOSE 8081
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/')"
CMD [".venv/bin/navan-voice", "worker"]
