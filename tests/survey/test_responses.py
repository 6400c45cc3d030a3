"""The content hash that makes a resent response count once: one definition for every
channel, and the same text as the canonical JSON it was first defined by."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from survey.models import Channel
from survey.responses import content_digest

codes = st.text(min_size=1, max_size=12)
texts = st.one_of(st.none(), st.text(max_size=80))


def canonical(**content) -> str:
    """The definition: SHA-256 of json.dumps(..., sort_keys=True, ensure_ascii=False)."""
    document = {
        "desk": content["desk_id"],
        "questionnaire": content["questionnaire_id"],
        "channel": str(content["channel"]),
        "level": content["level"],
        "answers": content["answers"],
        "comment": content["comment"] or "",
        "dossier": content["dossier_code"] or "",
        "client_time": content["client_time"].isoformat() if content["client_time"] else "",
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@given(
    desk_id=st.integers(1, 10**9),
    questionnaire_id=st.integers(1, 10**6),
    channel=st.sampled_from(list(Channel)),
    level=codes,
    answers=st.dictionaries(codes, codes, max_size=10),
    comment=texts,
    dossier_code=texts,
    client_time=st.one_of(st.none(), st.datetimes(min_value=datetime(2000, 1, 1))),
)
def test_the_digest_is_the_hash_of_the_canonical_json(**content):
    assert content_digest(**content) == canonical(**content)


def test_the_digest_tells_apart_what_the_citizen_chose():
    base = {
        "desk_id": 1,
        "questionnaire_id": 1,
        "channel": Channel.PAPER,
        "level": "hai_long",
        "answers": {"attitude": "hai_long"},
        "comment": "Tốt",
        "dossier_code": None,
        "client_time": datetime(2026, 3, 2, 5),
    }
    digests = {
        content_digest(**base),
        content_digest(**{**base, "level": "rat_hai_long"}),
        content_digest(**{**base, "answers": {"attitude": "rat_hai_long"}}),
        content_digest(**{**base, "comment": "Tốt."}),
        content_digest(**{**base, "desk_id": 2}),
    }
    assert len(digests) == 5
    assert content_digest(**{**base, "comment": ""}) == content_digest(**{**base, "comment": None})
