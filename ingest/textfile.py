"""Decode plain-text files whose encoding nobody declared (GB18030, GBK, Big5, UTF-8/16).

UTF-8 validates itself, so it is tried strictly first. Otherwise charset-normalizer chooses
among the encodings Chinese offices actually produce. Short texts are ambiguous between
GB18030 and Big5 (two bytes can be a valid character in both); when both decode, mainland
GB18030 wins unless the detector is confident in Big5 on a longer sample. UTF-16 without a
BOM is believed only when the text holds some ASCII (its zero bytes give it away).

A file larger than :data:`SAMPLE_BYTES` is read in pieces (:func:`decode_file`): its
encoding is chosen from the first piece, every piece must decode in it, and only the first
``cap`` bytes of text are kept, so a 1 GiB text costs the memory of its cap, not of itself.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be"]
_BOMS = [
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
]
SHORT_SAMPLE = 64  # bytes under which GB18030/Big5 detection is a coin toss
SAMPLE_BYTES = 1 << 20  # a file up to this size is decoded whole; a larger one in pieces


class NotText(ValueError):
    """The bytes are not text in any encoding we accept."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    truncated: bool = False  # only the first ``cap`` bytes of the text were kept


def _decodes(data: bytes, encoding: str, complete: bool = True) -> bool:
    """Whether ``data`` decodes; a ``complete=False`` sample may end inside a character."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _private_use(text: str) -> int:
    return sum(1 for ch in text if "\ue000" <= ch <= "\uf8ff")


def decode_text(data: bytes) -> DecodedText:
    encoding = detect_encoding(data)
    return DecodedText(data.decode(encoding), encoding)


def decode_file(path: Path, cap: int) -> DecodedText:
    """The file's text, at most ``cap`` bytes of it (UTF-8), read in pieces; the whole file
    must still be text in one encoding, or :class:`NotText` is raised."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        whole = len(sample) < SAMPLE_BYTES
        encoding = detect_encoding(sample, complete=whole)
        decoder = codecs.getincrementaldecoder(encoding)()
        kept: list[str] = []
        room, piece, truncated = cap, sample, False
        try:
            while True:
                text = decoder.decode(piece, final=not piece)
                if text and not truncated:
                    encoded = text.encode("utf-8")
                    if len(encoded) > room:  # cut at a character boundary
                        text, truncated = encoded[:room].decode("utf-8", errors="ignore"), True
                    kept.append(text)
                    room -= len(encoded)
                if not piece:
                    break
                piece = handle.read(SAMPLE_BYTES)
        except UnicodeDecodeError as exc:
            raise NotText(f"the file is not {encoding} throughout ({exc.reason})") from None
    return DecodedText("".join(kept), encoding, truncated)


def detect_encoding(data: bytes, complete: bool = True) -> str:
    """The encoding of ``data`` (the whole text, or with ``complete=False`` its first part)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if not complete:  # end the sample where a character surely ends, so detectors judge it
        end = len(data) & ~1 if b"\x00" in data else data.rfind(b"\n") + 1
        data = data[:end] or data
    if b"\x00" not in data and _decodes(data, "utf_8", complete):
        return "utf_8"
    best = from_bytes(data, cp_isolation=CANDIDATES).best()
    if best is not None and str(best.encoding).startswith("utf_16") and b"\x00" not in data:
        # UTF-16 without a BOM and without one ASCII character is rarer than a short
        # legacy-encoded text that happens to pair up into valid UTF-16 code units.
        best = from_bytes(data, cp_isolation=CANDIDATES[:2]).best() or best
    if best is None:
        if b"\x00" not in data and _decodes(data, "gb18030", complete):
            return "gb18030"
        raise NotText("the file is not text in UTF-8, UTF-16, GB18030/GBK or Big5")
    encoding = str(best.encoding)
    # Mainland wins a short tie, unless GB18030 needs private-use code points to read it.
    if (
        encoding == "big5"
        and len(data) < SHORT_SAMPLE
        and _decodes(data, "gb18030")
        and _private_use(data.decode("gb18030")) <= _private_use(data.decode("big5"))
    ):
        encoding = "gb18030"
    return encoding
