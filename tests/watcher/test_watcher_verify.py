"""Importing responses: any mutation is refused with a ResponseError and changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from watcherlab import Lab, sign_parts, ur_lines

from shared.erc4527 import EthBatchSignature
from shared.ur import UR
from watcher.errors import ResponseError
from watcher.parts import read_ur
from watcher.state import Status, Store
from watcher.verify import Verifier

HEADER = "id,chain,asset,destination,amount,memo\n"


@pytest.fixture
def signed_batch(lab: Lab) -> tuple[Lab, EthBatchSignature]:
    lab.configure()
    lab.pair()
    rows = "".join(f"v{i},anvil,ETH,{lab.keys.address(2)},0.1,\n" for i in range(3))
    lab.ok("intake", str(lab.write("v.csv", HEADER + rows)))
    lab.ok("build")
    [request] = lab.request_files()
    lines = sign_parts(request.read_text().splitlines(), lab.keys)
    batch = EthBatchSignature.from_ur(
        read_ur(lines, frozenset({"eth-batch-signature"}), source="r")
    )
    return lab, batch


def test_a_partial_response_signs_only_what_it_answers(
    signed_batch: tuple[Lab, EthBatchSignature],
) -> None:
    lab, batch = signed_batch
    first_two = EthBatchSignature(batch.signatures[:2])
    lab.ok("import", str(lab.write("part.txt", "\n".join(ur_lines(first_two.to_ur())) + "\n")))
    assert sorted(lab.statuses().values()) == ["awaiting-signature", "signed", "signed"]
    rest = EthBatchSignature(batch.signatures[2:])
    lab.ok("import", str(lab.write("rest.txt", "\n".join(ur_lines(rest.to_ur())) + "\n")))
    assert set(lab.statuses().values()) == {"signed"}


def test_one_bad_signature_refuses_the_whole_response(
    signed_batch: tuple[Lab, EthBatchSignature],
) -> None:
    lab, batch = signed_batch
    good, bad = batch.signatures[0], batch.signatures[1]
    # The second signature answers the first request: it recovers to another key there.
    swapped = type(bad)(bad.r, bad.s, bad.v, good.request_id)
    mixed = EthBatchSignature((swapped, batch.signatures[2]))
    before = lab.dump()
    result = lab.cli("import", str(lab.write("mixed.txt", "\n".join(ur_lines(mixed.to_ur())))))
    assert result.code == 2 and "signature 1:" in result.err
    assert lab.dump() == before


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mutated_response_is_refused_or_identical(
    signed_batch: tuple[Lab, EthBatchSignature], data: st.DataObject
) -> None:
    lab, batch = signed_batch
    cbor = bytearray(batch.to_cbor())
    position = data.draw(st.integers(0, len(cbor) - 1))
    cbor[position] ^= data.draw(st.integers(1, 255))
    store = Store.open(lab.home / "watcher.db")
    try:
        before = store.dump()
        lines = ur_lines(UR("eth-batch-signature", bytes(cbor)))
        try:
            Verifier(store).import_lines(lines, source="fuzz")
        except ResponseError:
            assert store.dump() == before
        else:
            # Only a flip that leaves every signature valid can pass (none exists in
            # practice); then everything was stored and is consistent.
            assert store.requests_in(Status.AWAITING_SIGNATURE) == ()
    finally:
        store.close()
