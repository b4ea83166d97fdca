"""The one error tree of navan-voice.

Every error the project raises on purpose derives from ``NavanError``. Each boundary translates
them: tools turn them into ``ToolError`` (the message is what the model sees), the web app into
HTTP errors, speech adapters into ``APIError``, the CLI into a red message and exit code 1.
Messages say what was wrong and what to do about it.
"""

from __future__ import annotations


class NavanError(Exception):
    """Base of every error navan-voice raises on purpose."""


# --- configuration and set-up ------------------------------------------------------------
class ConfigError(NavanError):
    """A setting is missing or has a value that is not allowed."""


class SetupError(NavanError):
    """A required program or file is missing, or could not be installed."""


class ServerNotRunningError(NavanError):
    """The LiveKit server (or another service we talk to) does not answer."""


class PortInUseError(NavanError):
    """A port we need is already taken by another process."""


# --- audio and speech --------------------------------------------------------------------
class AudioInputError(NavanError):
    """An audio file is missing, unreadable or not audio."""


class SpeechEngineError(NavanError):
    """A speech engine (STT, TTS, LLM) failed or timed out."""


# --- travel domain -------------------------------------------------------------------------
class DomainError(NavanError):
    """A request the travel services refuse; the message is safe to speak to the caller."""


class NotFoundError(DomainError):
    """A traveler, trip, booking or record does not exist."""


class CallerNotIdentifiedError(DomainError):
    """The caller could not be matched to a traveler."""


class NotAuthorizedError(DomainError):
    """The caller asked about or for something that belongs to someone else."""


class AmbiguousRequestError(DomainError):
    """The request matches several things (e.g. "my flight" with three flights booked)."""


class InvalidRequestError(DomainError):
    """A value is malformed or impossible (a date in the past, an unparseable date, ...)."""


class RequestExpiredError(InvalidRequestError):
    """An approval request can never be made: the flight it asked for has left."""


class PolicyViolationError(DomainError):
    """The company's travel policy does not allow the request."""


class ConflictError(DomainError):
    """The record changed under us (e.g. two simultaneous changes of one segment)."""


class PriceChangedError(ConflictError):
    """The price of a change moved between its read-back and the caller's yes."""


class DataUnavailableError(NavanError):
    """The database or another back end is down."""


# --- recording / storage -----------------------------------------------------------------
class StorageError(NavanError):
    """Recording storage failed (wrong credentials, bucket missing, disk full)."""


# --- telephony ---------------------------------------------------------------------------
class TelephonyError(NavanError):
    """A SIP call, transfer or provisioning step failed."""


class TransferFailedError(TelephonyError):
    """A transfer to a human did not go through (no answer, busy, rejected); the caller stays."""
