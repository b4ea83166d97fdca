"""Travel services: pure Python over the repositories, no livekit.

Every function is keyword-only and takes ``db`` (a session factory) plus the identified
caller's ``traveler_id``; authorization lives here (a caller only touches their own trips),
as do all money, date and policy decisions. Errors come from ``navan_voice.domain.errors`` with
messages safe to speak. Modules: identity, trips, flights, hotels, policy, expenses, cases.
"""
