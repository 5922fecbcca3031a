"""RequestId's text form: the 8-4-4-4-12 lower-case hex text uuid.UUID gives, for any 16 bytes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.erc4527.request_id import RequestId


@given(st.binary(min_size=16, max_size=16))
def test_text_equals_uuid_text(raw: bytes) -> None:
    assert str(RequestId(raw)) == str(uuid.UUID(bytes=raw))


@given(st.binary(min_size=16, max_size=16))
def test_text_parses_back(raw: bytes) -> None:
    assert RequestId.parse(str(RequestId(raw))).raw == raw


def test_known_id() -> None:
    # RFC 9562 Appendix A.3 (UUIDv4 example value).
    text = "919108f7-52d1-4320-9bac-f847db4148a8"
    assert str(RequestId(bytes.fromhex(text.replace("-", "")))) == text
