"""Ticket tokens made in bulk are the tokens itsdangerous makes."""

from __future__ import annotations


def test_the_bulk_token_maker_writes_the_same_tokens_as_itsdangerous(app):
    from survey.dossiers.tokens import TokenMaker
    from survey.security import hash_token
    from survey.tickets.service import _serializer

    maker = TokenMaker(1_790_000_000)
    for ticket_id in (1, 7, 12345, 10**9 + 3):
        token = _serializer().dumps([ticket_id, 1_790_000_000])
        assert maker.token(ticket_id) == token
        assert maker.digest(ticket_id) == hash_token(token)


def test_the_short_compressor_measures_tokens_as_zlib_does(app):
    """`compressed_length` decides, as itsdangerous does with zlib.compress, whether a token
    is compressed: the same length for ordinary ids and for repetitive ones that compress."""
    import random
    import zlib

    from survey.dossiers.tokens import TokenMaker, compressed_length
    from survey.tickets.service import _serializer

    rng = random.Random(15)
    stamps = [1_790_000_000, 1_111_111_111, 1_796_083_200, rng.randrange(10**10)]
    ids = [*range(1, 400), *(int(str(d) * k) for d in range(1, 10) for k in range(1, 19))]
    ids += [rng.randrange(10**18) for _ in range(400)] + [i * 111_111 for i in range(1, 400)]
    compressible = 0
    for stamp in stamps:
        for ticket_id in ids:
            text = f"[{ticket_id},{stamp}]".encode()
            assert compressed_length(text) == len(zlib.compress(text)), text
            compressible += len(zlib.compress(text)) < len(text) - 1
    assert compressible > 10  # the test reaches the branch where itsdangerous compresses
    maker = TokenMaker(1_111_111_111)
    assert maker.token(11_111_111_111) == _serializer().dumps([11_111_111_111, 1_111_111_111])
    assert maker.token(11_111_111_111).startswith(".")  # compressed, as itsdangerous marks it
