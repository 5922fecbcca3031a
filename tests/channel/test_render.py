"""QR rendering: alphanumeric mode, versions, one version per message, masks, presets, text."""

from __future__ import annotations

import numpy as np
import pytest
import qrcode
import qrcode.util
from pyzbar.pyzbar import ZBarSymbol, decode

from channel.density import (
    PRESETS,
    denser,
    part_length_bound,
    preset,
    sparser,
    stable_version,
)
from channel.errors import RenderError, SettingError
from channel.render import (
    ECLevel,
    Image,
    QRStyle,
    common_version,
    qr_modules,
    render_part,
    render_parts,
    version_for_length,
)
from channel.sequence import PartMaker
from channel.terminal import modules_text, qr_text
from shared.ur import UR, UREncoder, for_qr
from shared.ur.fountain import UINT32_MAX

PART = "UR:BYTES/1-3/LPADAXCFAXHLCYYNESOXFGHDCKJOJPJKISJYINJLJTJTDPVLGDRHGTKNUOBYFSE"


def zbar(image: Image) -> list[str]:
    height, width = image.shape
    found = decode((image.tobytes(), width, height), symbols=[ZBarSymbol.QRCODE])
    return [item.data.decode() for item in found]


def test_a_rendered_part_decodes_to_the_same_text() -> None:
    assert zbar(render_part(PART)) == [PART]


def test_image_is_grayscale_with_a_white_quiet_zone_and_chosen_module_size() -> None:
    style = QRStyle(module_px=3, quiet_zone=4)
    image = render_part(PART, style)
    modules = qr_modules(PART, ec=style.ec)
    assert image.dtype == np.uint8 and image.ndim == 2
    assert image.shape == ((modules.shape[0] + 8) * 3,) * 2
    border = 4 * 3
    assert (image[:border] == 255).all() and (image[:, -border:] == 255).all()
    # The top-left finder pattern starts right after the quiet zone, dark.
    assert image[border, border] == 0


def test_lower_case_or_byte_data_is_refused_so_the_mode_stays_alphanumeric() -> None:
    with pytest.raises(RenderError) as caught:
        render_part(PART.lower())
    assert caught.value.where == "payload"
    with pytest.raises(RenderError):
        render_part("UR:BYTES/\u00e9")
    with pytest.raises(RenderError):
        render_part("")


def test_the_symbol_size_is_the_alphanumeric_one_not_byte_mode() -> None:
    # Alphanumeric mode packs 11 bits per 2 characters, byte mode 8 per character: for
    # 1,000 characters the symbol sizes differ, and the module count tells which was used.
    text = "UR:BYTES/" + "AB" * 495 + "X"
    modules = qr_modules(text, ec=ECLevel.L)
    alphanumeric = version_for_length(len(text), ECLevel.L)
    as_bytes = qrcode.QRCode(error_correction=ECLevel.L.value)
    as_bytes.add_data(qrcode.util.QRData(text.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    as_bytes.make(fit=True)
    assert modules.shape[0] == 17 + 4 * alphanumeric
    assert alphanumeric < as_bytes.version
    assert zbar(render_part(text)) == [text]


@pytest.mark.parametrize(
    ("length", "ec", "version"),
    # ISO/IEC 18004:2015 table 7, alphanumeric capacities.
    [
        (25, ECLevel.L, 1),
        (26, ECLevel.L, 2),
        (20, ECLevel.M, 1),
        (10, ECLevel.H, 1),
        (4296, ECLevel.L, 40),
        (1852, ECLevel.H, 40),
        (1250, ECLevel.L, 21),
    ],
)
def test_version_for_length_matches_the_capacity_table(
    length: int, ec: ECLevel, version: int
) -> None:
    assert version_for_length(length, ec) == version


def test_a_payload_longer_than_version_40_is_refused() -> None:
    with pytest.raises(RenderError):
        version_for_length(4297, ECLevel.L)
    with pytest.raises(RenderError):
        qr_modules(PART, ec=ECLevel.L, version=1)


def test_fixed_and_evaluated_masks_both_decode_and_the_fixed_one_is_used() -> None:
    fixed = qr_modules(PART, ec=ECLevel.L, mask_pattern=0)
    best = qr_modules(PART, ec=ECLevel.L, mask_pattern=None)
    assert fixed.shape == best.shape
    assert zbar(render_part(PART, QRStyle(mask_pattern=0))) == [PART]
    assert zbar(render_part(PART, QRStyle(mask_pattern=None))) == [PART]
    other = qr_modules(PART, ec=ECLevel.L, mask_pattern=5)
    assert not np.array_equal(fixed, other)


def test_all_parts_of_a_message_render_at_one_version(batch_signatures: UR) -> None:
    density = PRESETS["normal"]
    maker = PartMaker(batch_signatures, density.max_fragment_length)
    version = stable_version("bytes", len(batch_signatures.cbor), density)
    # Sequence numbers from 1 to the uint32 maximum: longer numbers, longer parts.
    parts = [for_qr(maker.part(n)) for n in (1, 9, 10, 99, 100, 70_000, UINT32_MAX)]
    bound = part_length_bound("bytes", len(batch_signatures.cbor), density.max_fragment_length)
    assert max(len(part) for part in parts) <= bound
    assert common_version(parts, density.ec) <= version
    images = render_parts(parts, QRStyle(ec=density.ec), version=version)
    assert {image.shape for image in images} == {images[0].shape}
    assert zbar(images[-1]) == [parts[-1]]


def test_single_part_message_bound_is_exact() -> None:
    ur = UR("bytes", bytes.fromhex("4401020304"))
    encoder = UREncoder(ur, 100)
    assert encoder.is_single_part
    assert len(encoder.next_part()) == part_length_bound("bytes", 5, 100)


def test_density_presets_grow_and_switch_live() -> None:
    low, normal, high = preset("low"), preset("normal"), preset("high")
    assert low.max_fragment_length < normal.max_fragment_length < high.max_fragment_length
    assert denser(low) == normal and denser(high) == high
    assert sparser(high) == normal and sparser(low) == low
    versions = [stable_version("bytes", 40_000, p) for p in (low, normal, high)]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_unknown_preset_is_a_setting_error() -> None:
    with pytest.raises(SettingError) as caught:
        preset("ultra")
    assert caught.value.where == "density"


def rasterise(text: str, *, cell: int = 4, dark_ink: bool = True) -> Image:
    """Draw half-block text as a terminal would: each character a cell x 2*cell box."""
    lines = text.split("\n")
    width = len(lines[0])
    assert all(len(line) == width for line in lines)
    ink, paper = (0, 255) if dark_ink else (255, 0)
    image = np.full((len(lines) * 2 * cell, width * cell), paper, dtype=np.uint8)
    halves = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}
    for row, line in enumerate(lines):
        for column, char in enumerate(line):
            upper, lower = halves[char]
            box = image[row * 2 * cell : (row + 1) * 2 * cell, column * cell : (column + 1) * cell]
            if upper:
                box[:cell] = ink
            if lower:
                box[cell:] = ink
    return image


def test_half_block_text_rasterised_decodes_to_the_same_string() -> None:
    text = qr_text(PART)
    assert set(text) <= {"█", "▀", "▄", " ", "\n"}
    assert zbar(rasterise(text)) == [PART]


def test_half_block_text_for_light_on_dark_terminals() -> None:
    # Light ink: the characters draw the light modules; a dark-background terminal shows
    # the same picture, so rasterising with light ink on dark paper decodes too.
    text = qr_text(PART, dark_ink=False)
    assert zbar(rasterise(text, dark_ink=False)) == [PART]


def test_half_block_text_keeps_the_quiet_zone_and_two_rows_per_line() -> None:
    modules = qr_modules(PART, ec=ECLevel.L)
    text = modules_text(modules, quiet_zone=4)
    lines = text.split("\n")
    assert len(lines) == (modules.shape[0] + 8 + 1) // 2
    assert lines[0] == " " * (modules.shape[0] + 8)
    assert lines[2][:4] == "    " and lines[2][4] != " "
