"""Files that carry identifying metadata, built in memory for the cleaning tests."""

from __future__ import annotations

import io
import zipfile

CANARY_AUTHOR = "CANARYAUTHOR Sato Hanako"
CANARY_COMPANY = "CANARYCOMPANY Kogyo KK"
CANARY_CAMERA = "CANARYCAM-X100"
CANARY_XMP = "CANARYXMP-creator"
CANARY_REVIEWER = "CANARYREVIEWER Suzuki"


def jpeg_with_gps(*, orientation: int | None = None) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CANARYMAKE"
    exif[0x0110] = CANARY_CAMERA
    exif[0x013B] = CANARY_AUTHOR
    exif[0x0132] = "2026:11:26 10:42:13"
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (35.0, 40.0, 12.5)
    gps[3] = "E"
    gps[4] = (139.0, 45.0, 3.25)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), comment=b"CANARYCOMMENT")
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", CANARY_AUTHOR)
    info.add_text("Software", "CANARYSOFT")
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def pdf_with_author() -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject, TextStringObject

    w = PdfWriter()
    page = w.add_blank_page(200, 200)
    w.add_metadata({"/Author": CANARY_AUTHOR, "/Creator": "CANARYWORD", "/Company": CANARY_COMPANY})
    xmp = StreamObject()
    xmp.set_data(f"<x:xmpmeta><dc:creator>{CANARY_XMP}</dc:creator></x:xmpmeta>".encode())
    xmp.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    w._root_object[NameObject("/Metadata")] = w._add_object(xmp)
    note = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Text"),
        NameObject("/T"): TextStringObject(CANARY_REVIEWER), NameObject("/Contents"): TextStringObject("see p.2"),
        NameObject("/Rect"): ArrayObject([]),
    })
    page[NameObject("/Annots")] = ArrayObject([w._add_object(note)])
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    '<Override PartName="/docProps/custom.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" '
    'Target="docProps/app.xml"/>'
    '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" '
    'Target="docProps/custom.xml"/>'
    "</Relationships>"
)
_DOC = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    '<w:p><w:r><w:t>Our customer asked for the drawings.</w:t></w:r></w:p>'
    f'<w:p><w:ins w:id="1" w:author="{CANARY_REVIEWER}" w:date="2026-11-20T09:13:00Z"><w:r><w:t>added</w:t></w:r></w:ins></w:p>'
    '<w:p><w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/></w:p>'
    "</w:body></w:document>"
)
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    f"<dc:creator>{CANARY_AUTHOR}</dc:creator><cp:lastModifiedBy>{CANARY_AUTHOR}</cp:lastModifiedBy>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">2026-11-20T09:00:00Z</dcterms:created>'
    "<dc:title>Draft for the customer</dc:title>"
    "</cp:coreProperties>"
)
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    f"<Application>Microsoft Office Word</Application><Company>{CANARY_COMPANY}</Company>"
    "<Manager>CANARYMANAGER</Manager><TotalTime>42</TotalTime>"
    "</Properties>"
)
_CUSTOM = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Department">'
    "<vt:lpwstr>CANARYDEPT</vt:lpwstr></property></Properties>"
)


def docx_with_author() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("word/document.xml", _DOC),
                           ("docProps/core.xml", _CORE), ("docProps/app.xml", _APP), ("docProps/custom.xml", _CUSTOM)):
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 20, 9, 13, 0)), text)
    return out.getvalue()


CANARIES = (CANARY_AUTHOR, CANARY_COMPANY, CANARY_CAMERA, CANARY_XMP, CANARY_REVIEWER, "CANARYMAKE",
            "CANARYCOMMENT", "CANARYWORD", "CANARYMANAGER", "CANARYDEPT", "CANARYSOFT")
