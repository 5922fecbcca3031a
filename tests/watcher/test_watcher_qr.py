"""The round trip through real QR images: requests as GIF, responses read back from a GIF."""

from __future__ import annotations

from pathlib import Path

from watcherlab import Lab, sign_parts

from channel.media import write_message
from watcher.media import read_message
from watcher.parts import read_ur
from watcher.verify import RESPONSE_TYPES

HEADER = "id,chain,asset,destination,amount,memo\n"
REQUEST_TYPES = frozenset({"eth-sign-request", "eth-batch-sign-request"})


def test_requests_and_responses_travel_as_animated_qr_codes(lab: Lab) -> None:
    lab.configure()
    lab.pair()
    rows = "".join(f"q{i},anvil,ETH,{lab.keys.address(7)},0.5,\n" for i in range(2))
    lab.ok("intake", str(lab.write("q.csv", HEADER + rows)))
    out = lab.ok("build", "--qr", "gif", "--density", "high").out
    gif = Path(out.split("-> ")[1].strip())
    assert gif.suffix == ".gif" and gif.stat().st_size > 0
    [text] = lab.request_files()
    # What the camera reads from the GIF is exactly the request in the text file.
    from_text = read_ur(text.read_text().splitlines(), REQUEST_TYPES, source="text")
    assert read_message(str(gif), REQUEST_TYPES) == from_text
    response_lines = sign_parts(text.read_text().splitlines(), lab.keys)
    response = read_ur(response_lines, RESPONSE_TYPES, source="response")
    response_gif = write_message(response, lab.home.parent / "response.gif", density="high")
    lab.ok("import", str(response_gif))
    lab.ok("broadcast")
    lab.ok("status")
    assert set(lab.statuses().values()) == {"confirmed"}
