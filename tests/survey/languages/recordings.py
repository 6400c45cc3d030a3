"""Recordings made for the tests: speech by espeak-ng, encoded by opusenc (OGG Opus) or sox
(MP3, WAV). CI installs them (.ci/run); tests skip with the reason when one is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS = ("espeak-ng", "sox", "opusenc")


def need_tools():
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    return pytest.mark.skipif(
        bool(missing), reason=f"needs {', '.join(missing)} (apt: espeak-ng sox opus-tools)"
    )


def speech(folder: Path, text: str, voice: str = "vi") -> Path:
    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
    return wav


def opus(folder: Path, text: str = "Ông/Bà có hài lòng không?") -> bytes:
    """A spoken OGG Opus prompt of a second or two."""
    out = folder / "prompt.ogg"
    subprocess.run(
        ["opusenc", "--quiet", "--bitrate", "24", str(speech(folder, text)), str(out)], check=True
    )
    return out.read_bytes()


def tone(folder: Path, seconds: float, suffix: str = "mp3", rate: int = 22050, bitrate: int = 32):
    """A sine tone made by sox: MP3 (`bitrate` kbit/s) or any format sox writes."""
    out = folder / f"tone.{suffix}"
    options = ["-C", str(bitrate)] if suffix == "mp3" else []
    subprocess.run(
        ["sox", "-n", "-r", str(rate), *options, str(out), "synth", str(seconds), "sine", "440"],
        check=True,
    )
    return out.read_bytes()
