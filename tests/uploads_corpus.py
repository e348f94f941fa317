"""Files the upload tests send: good ones a phone or an office suite makes, and attacks."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from demo.load import tiny_pdf

GPS_IFD = 0x8825


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """A phone photo: EXIF with a GPS position (48° N, 1° W)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 7.0, 1.0), 3: "W", 4: (1.0, 40.0, 2.0)}
    out = io.BytesIO()
    comment = b"Pris au 12 rue des Exemples"
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG", exif=exif, comment=comment)
    return out.getvalue()


def multi_picture_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    """What many Android phones save as .jpg: a JPEG with a second picture (MPO)."""
    out = io.BytesIO()
    first, second = Image.new("RGB", size, (10, 10, 200)), Image.new("RGB", size, (0, 0, 0))
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 40)).save(out, "PNG")
    return out.getvalue()


def png_bomb() -> bytes:
    """A few kilobytes of PNG that decode into 10,000 × 10,000 pixels (100 million)."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    return tiny_pdf(["Attestation de quotient familial", "Quotient : 850"])


def zipped(entries: list[tuple[str, bytes | str]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


WORD_PARTS = [
    ("[Content_Types].xml", "<Types/>"),
    ("_rels/.rels", "<Relationships/>"),
    ("word/document.xml", "<w:document><w:body>Bonjour</w:body></w:document>"),
]


def docx() -> bytes:
    return zipped(WORD_PARTS)


def docx_bomb() -> bytes:
    """60 MB of zeros once uncompressed, about 60 KB sent."""
    return zipped([*WORD_PARTS, ("word/media/big.bin", b"\0" * 60_000_000)])


def docx_many_entries() -> bytes:
    return zipped([*WORD_PARTS, *((f"word/part{i}.xml", "x") for i in range(2_000))])


def docx_escaping() -> bytes:
    return zipped([*WORD_PARTS, ("../../app.py", "print('pwned')")])


def doc() -> bytes:
    """The start of a Word 97 file: the OLE2 signature and Word's sector marker."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    return head + b"\xec\xa5\xc1\x00" + b"\0" * 1000


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
