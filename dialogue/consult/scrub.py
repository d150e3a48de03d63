"""Metadata cleaning for the desk's uploads, in memory, before anything is stored.

A photo's GPS position, a PDF's author, a Word file's company name: any of
these could name the submitter. Every upload is rewritten without them and the
submitter is told what was removed (codes from taxonomy.REMOVED):

* JPEG, PNG, GIF — decoded and re-encoded by Pillow with no EXIF (GPS,
  camera, dates, owner), XMP, IPTC, comments, text chunks, thumbnails or
  colour profile; the EXIF orientation is applied to the pixels first so the
  picture stays the right way up;
* PDF — rewritten by pypdf from the document catalogue only: no document
  information dictionary, no XMP streams (anywhere), no /PieceInfo, no file
  identifier, no earlier revisions, and no author names or dates on comments;
* DOCX, XLSX, PPTX — the ZIP is rebuilt: docProps/core.xml and app.xml
  emptied (author, last editor, company, manager, dates, template…),
  custom.xml and thumbnails dropped, names and dates in comments and tracked
  changes neutralised, every member dated 1980-01-01; inflated a chunk at a
  time within limits on expansion ratio, total size and time, so a zip bomb
  is refused at once (``bomb``) instead of holding a worker;
* TXT, CSV — no metadata to remove.

Everything happens on bytes in memory; nothing touches the disk. A file that
cannot be cleaned is refused, never stored as it came.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree

MAX_PIXELS = 40_000_000
MAX_ZIP_MEMBERS = 3000
# Archive limits (zip bombs: a 190 KB DOCX that declared 190 MB once held a worker for 17.5 s and
# ~200 MB). Honest office files expand 1–20 times (XML compresses well, pictures hardly at all);
# a desk upload is at most 10 MB. Checked on the declared sizes before anything is inflated, and
# again on the bytes actually inflated (a central directory can lie), chunk by chunk.
MAX_ZIP_TOTAL = 40 * 1024 * 1024  # inflated bytes, all members together
MAX_ZIP_RATIO = 100  # inflated : archive size, for the archive as a whole …
ZIP_RATIO_FLOOR = 4 * 1024 * 1024  # … once it inflates to more than this (a tiny file may expand a lot harmlessly)
MAX_ZIP_SECONDS = 5.0  # wall-clock for one archive
_CHUNK = 1024 * 1024
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class CleaningRefused(Exception):
    """The file could not be cleaned; `reason` is a stable code for the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Cleaned:
    data: bytes
    removed: list[str] = field(default_factory=list)


def clean(data: bytes, kind: str) -> Cleaned:
    """Return the file without its metadata, or raise CleaningRefused."""
    if kind in ("jpeg", "png", "gif"):
        return _image(data, kind)
    if kind == "pdf":
        return _pdf(data)
    if kind in ("docx", "xlsx", "pptx"):
        return _ooxml(data)
    if kind in ("txt", "csv"):
        return Cleaned(data, [])
    raise CleaningRefused("unsupported")


def _ordered(found: set[str]) -> list[str]:
    from dialogue.consult.taxonomy import REMOVED

    return [code for code in REMOVED if code in found]


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_CAMERA_TAGS = {0x010F, 0x0110, 0xA431, 0xA433, 0xA434, 0xA435, 0xC62F}  # make, model, serials, lens
_DATE_TAGS = {0x0132, 0x9003, 0x9004, 0x9010, 0x9011}
_AUTHOR_TAGS = {0x013B, 0x8298, 0xA430, 0x9C9D}  # artist, copyright, camera owner, XP author
_SOFTWARE_TAGS = {0x0131, 0x000B}
_COMMENT_TAGS = {0x010E, 0x9286, 0x9C9C, 0x9C9B}


def _image(data: bytes, kind: str) -> Cleaned:
    from PIL import Image, ImageOps, UnidentifiedImageError

    found: set[str] = set()
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise CleaningRefused("too_many_pixels")
            fmt = (img.format or "").upper()
            if {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "GIF": "gif"}.get(fmt) != kind:
                raise CleaningRefused("unreadable")
            found |= _image_findings(img)
            if kind == "gif" and getattr(img, "n_frames", 1) > 1:
                out = _save_gif_frames(img)
            else:
                img.load()
                upright = ImageOps.exif_transpose(img) or img
                out = _save_plain(upright, kind, img.info)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise CleaningRefused("unreadable") from None
    return Cleaned(out, _ordered(found))


def _image_findings(img) -> set[str]:
    found: set[str] = set()
    exif = img.getexif()
    if exif:
        tags = set(exif)
        sub = exif.get_ifd(_EXIF_IFD) if _EXIF_IFD in exif else {}
        gps = exif.get_ifd(_GPS_IFD) if _GPS_IFD in exif else {}
        tags |= set(sub)
        if gps:
            found.add("gps")
        if tags & _CAMERA_TAGS:
            found.add("camera")
        if tags & _DATE_TAGS:
            found.add("datetime")
        if tags & _AUTHOR_TAGS:
            found.add("author")
        if tags & _SOFTWARE_TAGS:
            found.add("software")
        if tags & _COMMENT_TAGS:
            found.add("comment")
        if tags - {0x0112, _EXIF_IFD, _GPS_IFD} or not found:
            found.add("exif")
    info = img.info
    if "xmp" in info or "XML:com.adobe.xmp" in info:
        found.add("xmp")
    if "photoshop" in info or "iptc" in info:
        found.add("iptc")
    if info.get("comment"):
        found.add("comment")
    if "icc_profile" in info and info["icc_profile"]:
        found.add("icc")
    text = getattr(img, "text", None) or {}
    for key in text:
        k = key.lower()
        if k in ("author", "artist", "copyright"):
            found.add("author")
        elif k in ("creation time", "date:create", "date:modify", "date:timestamp"):
            found.add("datetime")
        elif k == "software":
            found.add("software")
        elif "xmp" in k:
            found.add("xmp")
        else:
            found.add("comment")
    return found


def _exif_findings(raw: bytes) -> set[str]:
    """What an EXIF block (from an embedded JPEG) says, in the codes we report."""
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(raw)
    except Exception:  # a malformed block is dropped all the same
        return set()
    tags = set(exif) | set(exif.get_ifd(_EXIF_IFD) if _EXIF_IFD in exif else {})
    found = {"gps"} if _GPS_IFD in exif else set()
    for codes, code in ((_CAMERA_TAGS, "camera"), (_DATE_TAGS, "datetime"), (_AUTHOR_TAGS, "author"),
                        (_SOFTWARE_TAGS, "software")):
        if tags & codes:
            found.add(code)
    return found


def _save_plain(img, kind: str, original_info: dict) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    clean_img = img.copy()
    clean_img.info = {}
    if kind == "jpeg":
        if clean_img.mode not in ("RGB", "L", "CMYK"):
            clean_img = clean_img.convert("RGB")
        clean_img.save(out, "JPEG", quality=92, optimize=True, exif=b"", icc_profile=None)
    elif kind == "png":
        params = {}
        if "transparency" in original_info and clean_img.mode in ("P", "L", "RGB"):
            params["transparency"] = original_info["transparency"]
        clean_img.save(out, "PNG", optimize=True, **params)
    else:
        params = {}
        if "transparency" in original_info:
            params["transparency"] = original_info["transparency"]
        clean_img.save(out, "GIF", **params)
    # Prove the result opens: a cleaner that writes garbage must refuse instead.
    with Image.open(io.BytesIO(out.getvalue())) as check:
        check.verify()
    return out.getvalue()


def _save_gif_frames(img) -> bytes:
    from PIL import ImageSequence

    frames = []
    durations = []
    for frame in ImageSequence.Iterator(img):
        durations.append(frame.info.get("duration", 100))
        copy = frame.copy()
        copy.info = {}
        frames.append(copy)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=img.info.get("loop", 0), disposal=2)
    return out.getvalue()


#: APPn segments kept in embedded JPEGs: APP0 (JFIF) and APP14 (Adobe colour transform) carry
#: no metadata and decoders need them; APP1 (EXIF, XMP), APP13 (IPTC) and the rest go, as do comments.
_KEEP_APP = {0xE0, 0xEE}


def strip_jpeg_segments(data: bytes, found: set[str]) -> bytes:
    """Drop metadata segments from a JPEG without re-encoding it (for images inside documents)."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return data  # not a marker where one must be: leave the image alone rather than break it
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[pos:]
            return bytes(out)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        if 0xE1 <= marker <= 0xEF and marker not in _KEEP_APP:
            found.add("exif" if marker == 0xE1 else "iptc" if marker == 0xED else "xmp")
            if marker == 0xE1 and segment[4:10] == b"Exif\x00\x00":
                found |= _exif_findings(segment[4:])
        elif marker == 0xFE:
            found.add("comment")
        else:
            out += segment
        pos += 2 + length
    return bytes(out)


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------

_INFO_CODES = {
    "/Author": "author", "/Creator": "software", "/Producer": "software", "/CreationDate": "datetime",
    "/ModDate": "datetime", "/Title": "title", "/Subject": "title", "/Keywords": "title",
    "/Company": "company", "/Manager": "template", "/SourceModified": "datetime",
}
_MARKUP = {
    "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight", "/Underline",
    "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/FileAttachment", "/Sound", "/Redact", "/Popup",
}


def _pdf(data: bytes) -> Cleaned:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject

    found: set[str] = set()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise CleaningRefused("encrypted")
        info = reader.metadata or {}
        for key, value in info.items():
            if value not in (None, ""):
                found.add(_INFO_CODES.get(str(key), "doc_info"))
        if reader.trailer.get("/ID"):
            found.add("pdf_id")
        writer = PdfWriter()
        writer.clone_reader_document_root(reader)
        writer.metadata = None
        for obj in list(writer._objects):  # every object, not only those reachable from pages
            if not isinstance(obj, DictionaryObject):
                continue
            for key in ("/Metadata", "/PieceInfo", "/LastModified"):
                if key in obj:
                    found.add("xmp" if key == "/Metadata" else "doc_info")
                    del obj[key]
            if obj.get("/Filter") == "/DCTDecode" and hasattr(obj, "_data"):
                obj._data = strip_jpeg_segments(obj._data, found)
            if obj.get("/Subtype") in _MARKUP:
                for key, code in (("/T", "reviewers"), ("/M", "datetime"), ("/CreationDate", "datetime")):
                    if key in obj:
                        found.add(code)
                        del obj[key]
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
        result = out.getvalue()
        if len(PdfReader(io.BytesIO(result)).pages) != len(reader.pages):
            raise CleaningRefused("unreadable")
    except CleaningRefused:
        raise
    except Exception:  # pypdf raises many types on hostile input; none may become a 500
        raise CleaningRefused("unreadable") from None
    return Cleaned(result, _ordered(found))


# ---------------------------------------------------------------------------
# Office Open XML
# ---------------------------------------------------------------------------

EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    b'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    b"</cp:coreProperties>"
)
EMPTY_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>'
)
_CORE_CODES = {
    "creator": "author", "lastModifiedBy": "author", "created": "datetime", "modified": "datetime",
    "lastPrinted": "printer", "revision": "printer", "title": "title", "subject": "title", "keywords": "title",
    "description": "title", "category": "title",
}
_APP_CODES = {
    "Company": "company", "Manager": "template", "Template": "template", "Application": "software",
    "AppVersion": "software", "HyperlinkBase": "doc_info", "TotalTime": "doc_info",
}
_DROP = re.compile(r"^docProps/(custom\.xml|thumbnail\.[A-Za-z]+)$")
#: parts that carry names of reviewers and commenters
_PEOPLE_PARTS = re.compile(
    r"^(word/[^/]+\.xml|xl/comments\d*\.xml|xl/threadedComments/[^/]+\.xml|xl/persons/[^/]+\.xml|"
    r"ppt/comments/[^/]+\.xml|ppt/commentAuthors\.xml|ppt/authors\.xml)$"
)
_PERSON_ATTR = re.compile(rb'(\s(?:[A-Za-z0-9]+:)?(?:author|initials|userId|providerId)=")([^"]*)(")')
#: in lists of people only: elsewhere `name` is a font, a bookmark or a picture
_PEOPLE_LISTS = re.compile(r"^(xl/persons/[^/]+\.xml|ppt/commentAuthors\.xml|ppt/authors\.xml|word/people\.xml)$")
_NAME_ATTR = re.compile(rb'(\s(?:[A-Za-z0-9]+:)?(?:displayName|name)=")([^"]*)(")')
_DATE_ATTR = re.compile(rb'(\s(?:[A-Za-z0-9]+:)?(?:date|dateUtc|dT|dt)=")([^"]*)(")')
_AUTHOR_ELEMENT = re.compile(rb"(<author>)([^<]*)(</author>)")
_MEDIA = re.compile(r"^(word|xl|ppt)/media/[^/]+\.(jpe?g|png)$", re.IGNORECASE)
NEUTRAL_NAME = b"-"
NEUTRAL_DATE = b"1980-01-01T00:00:00Z"


def _ooxml(data: bytes) -> Cleaned:
    found: set[str] = set()
    budget = _InflateBudget(len(data))
    try:
        zin = zipfile.ZipFile(io.BytesIO(data))
        infos = zin.infolist()
        names = [i.filename for i in infos]
        if len(infos) > MAX_ZIP_MEMBERS:
            raise CleaningRefused("too_complex")
        budget.check_declared(sum(i.file_size for i in infos))
        if len(set(names)) != len(names) or any(n.startswith("/") or ".." in n.split("/") for n in names):
            raise CleaningRefused("unreadable")
        dropped = {n for n in names if _DROP.match(n)}
        if any(n.endswith("custom.xml") for n in dropped):
            found.add("custom")
        if any("thumbnail" in n for n in dropped):
            found.add("thumbnail")
        out = io.BytesIO()
        order = sorted(infos, key=lambda i: i.filename != "[Content_Types].xml")  # stable: keeps the rest in order
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zout:
            for info in order:
                if info.filename in dropped or info.is_dir():
                    continue
                if info.date_time != ZIP_EPOCH:
                    found.add("zip_times")
                content = budget.inflate(zin, info)
                content = _clean_part(info.filename, content, dropped, found)
                budget.tick()
                member = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = 0o600 << 16
                member.create_system = 0
                zout.writestr(member, content)
        result = out.getvalue()
        with zipfile.ZipFile(io.BytesIO(result)) as check:
            if check.testzip() is not None:
                raise CleaningRefused("unreadable")
    except CleaningRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError, EOFError, NotImplementedError):
        raise CleaningRefused("unreadable") from None
    return Cleaned(result, _ordered(found))


class _InflateBudget:
    """Expansion ratio, total size and time for one archive: a bomb is refused before it costs much."""

    def __init__(self, archive_size: int) -> None:
        self.archive_size = max(archive_size, 1)
        self.inflated = 0
        self.deadline = time.monotonic() + MAX_ZIP_SECONDS

    def _allowed(self, total: int) -> None:
        if total > ZIP_RATIO_FLOOR and total > MAX_ZIP_RATIO * self.archive_size:
            raise CleaningRefused("bomb")
        if total > MAX_ZIP_TOTAL:
            raise CleaningRefused("too_complex")

    def check_declared(self, declared_total: int) -> None:
        self._allowed(declared_total)

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise CleaningRefused("too_complex")

    def inflate(self, zin: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """The member's bytes, read a chunk at a time and counted as they come (not trusting its declared size)."""
        parts: list[bytes] = []
        with zin.open(info) as member:
            while chunk := member.read(_CHUNK):
                self.inflated += len(chunk)
                self._allowed(self.inflated)
                self.tick()
                parts.append(chunk)
        return b"".join(parts)


def _clean_part(name: str, content: bytes, dropped: set[str], found: set[str]) -> bytes:
    if name == "docProps/core.xml":
        found |= _xml_fields(content, _CORE_CODES)
        return EMPTY_CORE
    if name == "docProps/app.xml":
        found |= _xml_fields(content, _APP_CODES)
        return EMPTY_APP
    if name == "[Content_Types].xml" and dropped:
        for part in dropped:
            content = re.sub(rb'<Override[^>]*PartName="/' + re.escape(part.encode()) + rb'"[^>]*/>', b"", content)
        return content
    if name == "_rels/.rels" and dropped:
        for part in dropped:
            content = re.sub(rb'<Relationship[^>]*Target="/?' + re.escape(part.encode()) + rb'"[^>]*/>', b"", content)
        return content
    if _MEDIA.match(name):
        return strip_jpeg_segments(content, found) if name.lower().endswith((".jpg", ".jpeg")) else _png_media(content, found)
    if _PEOPLE_PARTS.match(name):
        return _neutralise_people(content, found, names=bool(_PEOPLE_LISTS.match(name)))
    return content


def _png_media(content: bytes, found: set[str]) -> bytes:
    """A PNG inside a document: text chunks and EXIF removed by re-encoding (lossless for PNG)."""
    try:
        cleaned = _image(content, "png")
    except CleaningRefused:
        return content if not content.startswith(b"\x89PNG") else _refuse()
    found.update(c for c in cleaned.removed if c != "icc")
    return cleaned.data


def _refuse() -> bytes:
    raise CleaningRefused("unreadable")


def _xml_fields(content: bytes, codes: dict[str, str]) -> set[str]:
    """Which known fields carry a value. Refuses DTDs: no entity tricks reach the parser."""
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise CleaningRefused("unreadable")
    found: set[str] = set()
    try:
        root = ElementTree.fromstring(content)  # noqa: S314 - DTDs are refused above: no entity can expand
    except ElementTree.ParseError:
        raise CleaningRefused("unreadable") from None
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if el is root or not ((el.text or "").strip() or len(el)):
            continue
        found.add(codes.get(local, "doc_info"))
    return found


def _neutralise_people(content: bytes, found: set[str], *, names: bool) -> bytes:
    def name(m: re.Match) -> bytes:
        if m.group(2) and m.group(2) != NEUTRAL_NAME:
            found.add("reviewers")
        return m.group(1) + NEUTRAL_NAME + m.group(3)

    def date(m: re.Match) -> bytes:
        if m.group(2) and m.group(2) != NEUTRAL_DATE:
            found.add("datetime")
        return m.group(1) + NEUTRAL_DATE + m.group(3)

    content = _PERSON_ATTR.sub(name, content)
    if names:
        content = _NAME_ATTR.sub(name, content)
    content = _DATE_ATTR.sub(date, content)
    return _AUTHOR_ELEMENT.sub(name, content)
