"""Bytewords (BCR-2020-012): bytes as four-letter words or two-letter minimal codes, with CRC32."""

from __future__ import annotations

import enum
import zlib

from shared.errors import BytewordsError

# BCR-2020-012 §"The Bytewords": the 256 words, in byte order (0x00 "able" .. 0xff "zoom").
# Each word's first and last letters are unique, which is what makes the minimal form work.
# Written as one run of four-letter words; word n is letters 4n..4n+3.
_TABLE = (
    "ableacidalsoapexaquaarchatomauntawayaxisbackbaldbarnbeltbetabiasbluebody"
    "bragbrewbulbbuzzcalmcashcatschefcityclawcodecolacookcostcruxcurlcuspcyan"
    "darkdatadaysdelidicedietdoordowndrawdropdrumdulldutyeacheasyechoedgeepic"
    "evenexamexiteyesfactfairfernfigsfilmfishfizzflapflewfluxfoxyfreefrogfuel"
    "fundgalagamegeargemsgiftgirlglowgoodgraygrimgurugushgyrohalfhanghardhawk"
    "heathelphighhillholyhopehornhutsicedideaidleinchinkyintoirisironitemjade"
    "jazzjoinjoltjowljudojugsjumpjunkjurykeepkenokeptkeyskickkilnkingkitekiwi"
    "knoblamblavalazyleaflegsliarlimplionlistlogoloudloveluaulucklungmainmany"
    "mathmazememomenumeowmildmintmissmonknailnavyneednewsnextnoonnotenumbobey"
    "oboeomitonyxopenovalowlspaidpartpeckplaypluspoempoolposepuffpumapurrquad"
    "quizraceramprealredorichroadrockroofrubyruinrunsrustsafesagascarsetssilk"
    "skewslotsoapsolosongstubsurfswantacotasktaxitenttiedtimetinytoiltombtoys"
    "triptunatwinuglyundouniturgeuservastveryvetovialvibeviewvisavoidvowswall"
    "wandwarmwaspwavewaxywebswhatwhenwhizwolfworkyankyawnyellyogayurtzapszero"
    "zestzinczonezoom"
)
_WORDS: tuple[str, ...] = tuple(_TABLE[i : i + 4] for i in range(0, len(_TABLE), 4))
_MINIMAL: tuple[str, ...] = tuple(word[0] + word[3] for word in _WORDS)
_WORD_VALUE: dict[str, int] = {word: value for value, word in enumerate(_WORDS)}
_MINIMAL_VALUE: dict[str, int] = {code: value for value, code in enumerate(_MINIMAL)}
if len(_WORD_VALUE) != 256 or len(_MINIMAL_VALUE) != 256:
    raise RuntimeError("the Bytewords table must hold 256 distinct words and minimal codes")

# Minimal codes by byte value, as two 256-byte translation tables: first and last letters.
_FIRST_LETTERS = bytes(ord(code[0]) for code in _MINIMAL)
_LAST_LETTERS = bytes(ord(code[1]) for code in _MINIMAL)

# Minimal decoding in two C-level passes instead of a loop per pair: the ASCII text read as
# UTF-16-LE is one code point per letter pair (first + 256 * second, below 0x8000), and this
# table translates every such code point to its byte value, or to _NOT_A_CODE, which the final
# latin-1 encode refuses at the first pair that is not a minimal byteword (every byte value is
# below 256, _NOT_A_CODE is not).
_NOT_A_CODE = 0x100
_PAIR_TABLE: list[int] = [_NOT_A_CODE] * 0x8000
for _value, _code in enumerate(_MINIMAL):
    _PAIR_TABLE[ord(_code[0]) | ord(_code[1]) << 8] = _value

_CRC_LENGTH = 4
_FIELD = "bytewords"


class Style(enum.Enum):
    """The three Bytewords forms of BCR-2020-012."""

    STANDARD = "standard"  # words separated by one space
    URI = "uri"  # words separated by one hyphen
    MINIMAL = "minimal"  # first and last letter of each word, no separator (used in ``ur:``)


_SEPARATOR = {Style.STANDARD: " ", Style.URI: "-"}


def crc32_bytes(data: bytes) -> bytes:
    """The CRC32 (ISO-HDLC, as zlib) of ``data``, big-endian: the checksum Bytewords appends."""
    return zlib.crc32(data).to_bytes(_CRC_LENGTH, "big")


def bytewords_encode(data: bytes, style: Style) -> str:
    """Encode ``data`` followed by its big-endian CRC32 in the given style (lower case).

    ``data`` must not be empty: BCR-2020-012 decoders refuse a body of zero bytes.
    """
    if not data:
        raise ValueError("Bytewords cannot encode an empty byte string")
    framed = data + crc32_bytes(data)
    if style is Style.MINIMAL:
        return _encode_minimal(framed).decode("ascii")
    return _SEPARATOR[style].join([_WORDS[byte] for byte in framed])


def bytewords_decode(text: str, style: Style) -> bytes:
    """Decode Bytewords of the given style, case-insensitively; check and strip the CRC32.

    Raises :class:`BytewordsError` (field ``bytewords``, ``offset`` = character offset)
    for a non-ASCII character, an unknown word or letter pair, a bad length, a body
    shorter than one byte, or a CRC32 that does not match.
    """
    if not text.isascii():
        first = next(i for i, ch in enumerate(text) if not ch.isascii())
        raise BytewordsError(_FIELD, "non-ASCII character", offset=first)
    # ASCII only, so lower() maps one character to one character and offsets stay valid.
    lowered = text.lower()
    if style is Style.MINIMAL:
        framed = _decode_minimal(lowered)
    else:
        framed = _decode_words(lowered, _SEPARATOR[style])
    if len(framed) <= _CRC_LENGTH:
        raise BytewordsError(
            _FIELD,
            f"{len(framed)} bytes decoded; need at least one byte of data and a 4-byte CRC32",
        )
    body, checksum = framed[:-_CRC_LENGTH], framed[-_CRC_LENGTH:]
    if crc32_bytes(body) != checksum:
        raise BytewordsError(
            _FIELD,
            f"CRC32 {checksum.hex()} does not match the data (expected {crc32_bytes(body).hex()})",
        )
    return body


def _encode_minimal(framed: bytes) -> bytes:
    """The minimal codes of ``framed`` as ASCII: first letters at even offsets, last at odd."""
    out = bytearray(2 * len(framed))
    out[0::2] = framed.translate(_FIRST_LETTERS)
    out[1::2] = framed.translate(_LAST_LETTERS)
    return bytes(out)


def _decode_minimal(lowered: str) -> bytes:
    if len(lowered) % 2:
        raise BytewordsError(_FIELD, f"odd length {len(lowered)}; minimal bytewords come in pairs")
    pairs = lowered.encode("ascii").decode("utf-16-le").translate(_PAIR_TABLE)
    try:
        return pairs.encode("latin-1")
    except UnicodeEncodeError as exc:
        # exc.start is the first pair that is not a minimal byteword.
        i = 2 * exc.start
        raise BytewordsError(
            _FIELD, f"{lowered[i : i + 2]!r} is not a minimal byteword", offset=i
        ) from None


def _decode_words(lowered: str, separator: str) -> bytes:
    out = bytearray()
    offset = 0
    for word in lowered.split(separator):
        value = _WORD_VALUE.get(word)
        if value is None:
            shown = word if len(word) <= 8 else word[:8] + "..."
            raise BytewordsError(_FIELD, f"{shown!r} is not a byteword", offset=offset)
        out.append(value)
        offset += len(word) + len(separator)
    return bytes(out)
