"""Checking an uploaded spoken prompt: OGG Opus or MP3, short, and readable as such.

The type is read from the bytes, never from the file name. mutagen (pure Python) then parses
the stream: for OGG every page of the file (so a truncated or spliced file fails) and the Opus
header; for MP3 the frame headers, refusing files where it had to guess (`sketchy`). The length
comes from the stream itself. It does not decode the audio samples (no codec is installed):
a file whose pages and frame headers are right but whose payload is noise would pass.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

MAX_BYTES = 1024 * 1024  # a prompt of a few seconds is 20-100 KB
MAX_SECONDS = 30.0
MIN_SECONDS = 0.2
MIMETYPES = {"opus": "audio/ogg; codecs=opus", "mp3": "audio/mpeg"}


class AudioProblem(ValueError):
    """Why an upload is refused, in the administrator's language."""


@dataclass(frozen=True)
class AudioInfo:
    kind: str  # "opus" or "mp3"
    seconds: float

    @property
    def mimetype(self) -> str:
        return MIMETYPES[self.kind]


def _kind(head: bytes) -> str | None:
    if head.startswith(b"OggS"):
        return "opus"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _opus_length(data: bytes) -> float:
    from mutagen.ogg import OggPage
    from mutagen.oggopus import OggOpus

    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        OggPage(stream)  # raises on a damaged page anywhere in the file
    return OggOpus(io.BytesIO(data)).info.length


def _mp3_length(data: bytes) -> float:
    from mutagen.mp3 import MP3

    audio = MP3(io.BytesIO(data))
    if audio.info.sketchy:
        raise ValueError("no consistent MPEG frames")
    return audio.info.length


def check_audio(data: bytes) -> AudioInfo:
    """The prompt's type and length, or AudioProblem saying what is wrong."""
    if not data:
        raise AudioProblem(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise AudioProblem(
            _l(
                "The recording is too large (%(size)d KB); at most %(max)d KB is accepted. Record a shorter prompt or save it at a lower bitrate.",
                size=len(data) // 1024,
                max=MAX_BYTES // 1024,
            )
        )
    kind = _kind(data[:4])
    if kind is None:
        raise AudioProblem(
            _l("This is not an OGG Opus or MP3 recording. Save the prompt as .ogg (Opus) or .mp3.")
        )
    try:
        seconds = _opus_length(data) if kind == "opus" else _mp3_length(data)
    except Exception:  # mutagen raises many error types for damaged files
        raise AudioProblem(
            _l(
                "This recording cannot be read: the file is damaged or not really %(kind)s.",
                kind=kind.upper() if kind == "mp3" else "OGG Opus",
            )
        ) from None
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        from flask_babel import format_decimal

        raise AudioProblem(
            _l(
                "The recording lasts %(seconds)s seconds; a prompt must last between %(min)s and %(max)d seconds.",
                seconds=format_decimal(round(seconds, 2 if seconds < 10 else None)),
                min=format_decimal(MIN_SECONDS),
                max=int(MAX_SECONDS),
            )
        )
    return AudioInfo(kind, seconds)
