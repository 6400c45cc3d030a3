"""Spoken prompts are checked from their bytes: type, structure, size and length."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from flask_babel import force_locale

from survey.languages.audio import MAX_BYTES, AudioProblem, check_audio
from tests.survey.languages.recordings import need_tools, opus

pytestmark = pytest.mark.skipif(not shutil.which("sox"), reason="needs sox to make recordings")


@pytest.fixture
def english(app):
    """The messages in English, to match them here."""
    with app.test_request_context("/"), force_locale("en"):
        yield app


def mp3(tmp_path, seconds: float, rate: int = 22050, bitrate: int = 32) -> bytes:
    path = tmp_path / "prompt.mp3"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            str(rate),
            "-C",
            str(bitrate),
            str(path),
            "synth",
            str(seconds),
            "sine",
            "440",
        ],
        check=True,
    )
    return path.read_bytes()


def test_a_short_mp3_is_accepted_with_its_length(tmp_path, english):
    info = check_audio(mp3(tmp_path, 2))
    assert info.kind == "mp3" and info.mimetype == "audio/mpeg"
    assert 1.8 < info.seconds < 2.3


def test_a_renamed_text_file_is_refused(english):
    with pytest.raises(AudioProblem, match="not an OGG Opus or MP3"):
        check_audio("Xin chào, đây là một tệp văn bản.".encode() * 50)


def test_an_unknown_format_is_refused(tmp_path, english):
    wav = tmp_path / "prompt.wav"
    subprocess.run(["sox", "-n", str(wav), "synth", "1", "sine", "440"], check=True)
    with pytest.raises(AudioProblem, match="not an OGG Opus or MP3"):
        check_audio(wav.read_bytes())


def test_a_file_that_only_starts_like_an_mp3_is_refused(english):
    with pytest.raises(AudioProblem, match="cannot be read"):
        check_audio(b"\xff\xfb" + b"not audio at all " * 400)


def test_a_damaged_ogg_is_refused(english):
    with pytest.raises(AudioProblem, match="cannot be read"):
        check_audio(b"OggS" + b"\x00" * 2000)


def test_a_ten_minute_recording_is_refused(tmp_path, english):
    data = mp3(tmp_path, 600, rate=8000, bitrate=8)
    assert len(data) < MAX_BYTES  # refused for its length, not its size
    with pytest.raises(AudioProblem, match="600 seconds"):
        check_audio(data)


def test_a_large_file_is_refused_before_it_is_parsed(english):
    with pytest.raises(AudioProblem, match="too large"):
        check_audio(b"ID3" + b"\x00" * (MAX_BYTES + 1))


@need_tools()
def test_spoken_ogg_opus_is_accepted_with_its_length(tmp_path, english):
    info = check_audio(opus(tmp_path))
    assert info.kind == "opus" and info.mimetype == "audio/ogg; codecs=opus"
    assert 0.5 < info.seconds < 5


def test_a_recording_shorter_than_the_minimum_is_refused_with_both_limits(tmp_path, english):
    with pytest.raises(AudioProblem, match=r"lasts 0\.1\d? seconds.*between 0\.2 and 30 seconds"):
        check_audio(mp3(tmp_path, 0.1))
