"""File types we accept, decided by content as well as by name.

An upload is accepted only if its name's extension belongs to an allowed kind
AND its bytes are that kind: magic numbers for PDF and images, the ZIP central
directory for Office Open XML (a `.docx` must be a ZIP holding
`[Content_Types].xml` and `word/document.xml`), and for text the whole stream
must decode as UTF-8 or Shift_JIS (cp932) with no NUL or other control bytes.

Everything is checked while the upload streams (constant memory: a head of a
few KiB, a bounded tail for the ZIP central directory and two incremental
decoders), so no file is ever read twice or kept whole in memory.

HTML, SVG, XML, scripts and executables are never on the list: served from
our origin they could run script, and nothing in a dialogue with industry
needs them.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterable
from dataclasses import dataclass

HEAD_BYTES = 8192
#: a ZIP's end record plus its comment is at most 22 + 65535 bytes; Office
#: central directories are a few KiB. A document whose directory does not fit
#: in this tail is refused (no legitimate office file comes close).
ZIP_TAIL_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class FileKind:
    name: str
    extensions: tuple[str, ...]
    content_type: str
    #: "magic" (prefix check), "ooxml" (ZIP + required members) or "text"
    family: str
    magic: tuple[bytes, ...] = ()
    #: for ooxml: members that must be in the ZIP central directory
    members: tuple[str, ...] = ()


_OOXML = "application/vnd.openxmlformats-officedocument."
KINDS: dict[str, FileKind] = {
    k.name: k
    for k in (
        FileKind("pdf", (".pdf",), "application/pdf", "magic", (b"%PDF-",)),
        FileKind("png", (".png",), "image/png", "magic", (b"\x89PNG\r\n\x1a\n",)),
        FileKind("jpeg", (".jpg", ".jpeg"), "image/jpeg", "magic", (b"\xff\xd8\xff",)),
        FileKind("gif", (".gif",), "image/gif", "magic", (b"GIF87a", b"GIF89a")),
        FileKind("docx", (".docx",), _OOXML + "wordprocessingml.document", "ooxml",
                 members=("[Content_Types].xml", "word/document.xml")),
        FileKind("xlsx", (".xlsx",), _OOXML + "spreadsheetml.sheet", "ooxml",
                 members=("[Content_Types].xml", "xl/workbook.xml")),
        FileKind("pptx", (".pptx",), _OOXML + "presentationml.presentation", "ooxml",
                 members=("[Content_Types].xml", "ppt/presentation.xml")),
        FileKind("txt", (".txt",), "text/plain", "text"),
        FileKind("csv", (".csv",), "text/csv", "text"),
    )
}


class AllowList:
    """The kinds of file a place in the app accepts.

        AllowList.of("pdf", "docx", "xlsx")   # briefing attachments
        DEFAULT_ALLOWED                       # everything in KINDS
    """

    def __init__(self, kinds: Iterable[FileKind]) -> None:
        self.kinds: tuple[FileKind, ...] = tuple(kinds)
        self._by_ext = {ext: k for k in self.kinds for ext in k.extensions}

    @classmethod
    def of(cls, *names: str) -> AllowList:
        unknown = [n for n in names if n not in KINDS]
        if unknown:
            raise ValueError(f"unknown file kinds {unknown}; known: {sorted(KINDS)}")
        return cls(KINDS[n] for n in names)

    def for_filename(self, filename: str) -> FileKind | None:
        return self._by_ext.get(extension_of(filename))

    @property
    def extensions(self) -> list[str]:
        """For the `accept` attribute of an <input type=file> and for help texts."""
        return sorted(self._by_ext)

    def __contains__(self, name: str) -> bool:
        return any(k.name == name for k in self.kinds)

    def __repr__(self) -> str:
        return f"AllowList.of({', '.join(repr(k.name) for k in self.kinds)})"


DEFAULT_ALLOWED = AllowList(KINDS.values())


def extension_of(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def sniff_head(head: bytes) -> str | None:
    """The family a file's first bytes announce: a magic kind's name, "zip", "text" or None."""
    for kind in KINDS.values():
        if kind.family == "magic" and head.startswith(kind.magic):
            return kind.name
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if _looks_textual(head):
        return "text"
    return None


# C0 controls other than TAB, LF, CR (and FF, seen in old Shift_JIS exports).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _looks_textual(chunk: bytes) -> bool:
    return not any(c in chunk for c in _CONTROL)


_CP932_SINGLE_PUA = frozenset("\uf8f0\uf8f1\uf8f2\uf8f3")


class TextCheck:
    """Feeds the whole stream to incremental UTF-8 and cp932 decoders; the file
    is text if either accepts all of it and no control byte appears."""

    def __init__(self) -> None:
        self._decoders = {
            "utf-8": codecs.getincrementaldecoder("utf-8")(),
            "shift_jis": codecs.getincrementaldecoder("cp932")(),
        }
        self.ok = True

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if not self.ok:
            return
        if not _looks_textual(chunk):
            self.ok = False
            return
        for name, dec in list(self._decoders.items()):
            try:
                text = dec.decode(chunk, final)
            except UnicodeDecodeError:
                del self._decoders[name]
                continue
            if name == "shift_jis" and any(c in _CP932_SINGLE_PUA for c in text):
                # Python's cp932 maps the undefined single bytes 0xA0, 0xFD-0xFF to
                # private-use characters; no real Shift_JIS text contains them.
                del self._decoders[name]
        self.ok = bool(self._decoders)

    @property
    def charset(self) -> str | None:
        """"utf-8" when valid UTF-8 (also when plain ASCII), else "shift_jis"."""
        if not self.ok:
            return None
        return "utf-8" if "utf-8" in self._decoders else "shift_jis"


def zip_member_names(tail: bytes, total_size: int) -> set[str] | None:
    """Member names from the central directory found in the last bytes of a ZIP,
    or None if the end record or the directory is not within `tail`."""
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0 or len(tail) - eocd < 22:
        return None
    (_, _, _, _, count, cd_size, cd_offset, comment_len) = struct.unpack("<4sHHHHIIH", tail[eocd : eocd + 22])
    if eocd + 22 + comment_len != len(tail):
        return None  # trailing bytes after the comment: not a clean ZIP
    if cd_offset == 0xFFFFFFFF or count == 0xFFFF:
        return None  # ZIP64: no office document we accept needs it
    tail_start = total_size - len(tail)
    start = cd_offset - tail_start
    if start < 0 or start + cd_size > eocd:
        return None
    names: set[str] = set()
    pos = start
    for _ in range(count):
        if tail[pos : pos + 4] != b"PK\x01\x02" or pos + 46 > eocd:
            return None
        name_len, extra_len, comment = struct.unpack("<HHH", tail[pos + 28 : pos + 34])
        name = tail[pos + 46 : pos + 46 + name_len]
        try:
            names.add(name.decode("utf-8"))
        except UnicodeDecodeError:
            names.add(name.decode("cp437"))
        pos += 46 + name_len + extra_len + comment
    return names
