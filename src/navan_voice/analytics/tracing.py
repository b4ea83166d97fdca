"""OpenTelemetry traces of every call through livekit's telemetry, exported over OTLP/HTTP.

``setup_tracing(settings)`` does nothing when ``NAVAN_OTLP_ENDPOINT`` is empty. Conversation
content is stripped before export (``allow_pii=False``): spoken card numbers must not reach a
trace backend either.
"""

from __future__ import annotations

import logging
from typing import Any

from navan_voice.config import Settings

logger = logging.getLogger(__name__)


def setup_tracing(settings: Settings, *, exporter: Any = None) -> Any:
    """Install a tracer provider exporting to ``settings.otlp_endpoint``; returns it (or None)."""
    if not settings.otlp_endpoint and exporter is None:
        return None
    from livekit.agents.telemetry import set_tracer_provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": settings.agent_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    set_tracer_provider(provider, metadata={"service": settings.agent_name}, allow_pii=False)
    logger.info("traces exported over OTLP to %s", settings.otlp_endpoint or exporter)
    return provider
