"""Files the upload tests send: good ones a phone or an office suite makes, and attacks."""

from __future__ import annotations

import io
import struct
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


def truncated_jpeg() -> bytes:
    """A photo cut short in transfer: its header reads (256 × 256 pixels), decoding it fails."""
    out = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()[: len(out.getvalue()) * 6 // 10]


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


def ole2_header_only() -> bytes:
    """The start of a Word 97 file, the OLE2 signature and Word's marker, and nothing of a
    compound file after them."""
    head = OLE2_MAGIC + b"\0" * 504
    return head + WORD_FIB_START + b"\0" * 1000


# --- OLE2 compound files (MS-CFB version 3), the container of .doc, .xls and .msg ---------
# olefile reads them but cannot write them: `compound_file` lays out the smallest one.

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_FIB_START = b"\xec\xa5\xc1\x00"  # the first bytes of a Word document's text stream
SECTOR = 512
# A stream this long lives in ordinary sectors (shorter ones would need a mini stream).
STREAM_BYTES = 4096
FREE, END_OF_CHAIN, FAT_MARK, NO_ENTRY = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
ROOT, STORAGE, STREAM = 5, 1, 2


def compound_file(streams: dict[str, bytes]) -> bytes:
    """An OLE2 file holding `streams` by path ("Macros/VBA/dir" makes the storages on its
    way). Sectors in order: the streams (the first one's bytes at offset 512, as in a real
    Word file), one FAT sector, then the directory (four 128-byte entries a sector)."""
    entries = [{"name": "Root Entry", "kind": ROOT, "kids": [], "data": b""}]
    ids = {"": 0}
    for path, data in streams.items():
        parts = path.split("/")
        for depth in range(len(parts)):
            here, parent = "/".join(parts[: depth + 1]), "/".join(parts[:depth])
            if here not in ids:
                is_stream = depth == len(parts) - 1
                ids[here] = len(entries)
                entries.append(
                    {
                        "name": parts[depth],
                        "kind": STREAM if is_stream else STORAGE,
                        "kids": [],
                        "data": data.ljust(STREAM_BYTES, b"\0") if is_stream else b"",
                    }
                )
                entries[ids[parent]]["kids"].append(ids[here])
    _chain_siblings(entries)
    fat, body = [], b""
    for entry in entries:
        entry["start"] = len(fat) if entry["data"] else END_OF_CHAIN
        sectors = len(entry["data"]) // SECTOR
        fat += [len(fat) + i + 1 for i in range(sectors - 1)] + [END_OF_CHAIN] * (sectors > 0)
        body += entry["data"]
    fat_sector, directory_start = len(fat), len(fat) + 1
    directory = b"".join(_directory_entry(entry) for entry in entries)
    directory = directory.ljust(-(-len(directory) // SECTOR) * SECTOR, b"\0")
    directory_sectors = len(directory) // SECTOR
    fat += [FAT_MARK] + [directory_start + i + 1 for i in range(directory_sectors - 1)]
    fat += [END_OF_CHAIN]
    assert len(fat) <= SECTOR // 4, "one FAT sector only: keep the file small"
    fat_bytes = struct.pack(f"<{SECTOR // 4}I", *fat, *[FREE] * (SECTOR // 4 - len(fat)))
    header = struct.pack(
        "<8s16s5H6s9I",
        OLE2_MAGIC,
        b"",  # class id
        0x3E,  # minor version
        3,  # major version: 512-byte sectors
        0xFFFE,  # little-endian
        9,  # sector size 2**9
        6,  # mini sector size 2**6
        b"",
        0,  # directory sectors (always 0 in version 3)
        1,  # FAT sectors
        directory_start,
        0,  # transaction signature
        STREAM_BYTES,  # mini stream cutoff
        END_OF_CHAIN,  # no mini FAT
        0,
        END_OF_CHAIN,  # no DIFAT sector: the header's list names the one FAT sector
        0,
    )
    difat = struct.pack("<109I", fat_sector, *[FREE] * 108)
    return header + difat + body + fat_bytes + directory


def _chain_siblings(entries: list[dict]) -> None:
    """A storage's children, sorted as the format's search tree wants them (shorter name
    first, then by upper-cased name), each the right sibling of the one before."""
    for entry in entries:
        entry["kids"].sort(key=lambda i: (len(entries[i]["name"]), entries[i]["name"].upper()))
        for left, right in zip(entry["kids"], entry["kids"][1:], strict=False):
            entries[left]["right"] = right


def _directory_entry(entry: dict) -> bytes:
    """128 bytes: name, type, siblings, first child, first sector, size."""
    name = (entry["name"] + "\0").encode("utf-16-le")
    return struct.pack(
        "<64sHBB3I16sI2QIQ",
        name,
        len(name),
        entry["kind"],
        1,  # black
        NO_ENTRY,  # left sibling
        entry.get("right", NO_ENTRY),
        entry["kids"][0] if entry["kids"] else NO_ENTRY,  # first child
        b"",  # class id
        0,  # state bits
        0,  # created
        0,  # modified
        entry["start"],
        len(entry["data"]),
    )


def word_doc(extra: dict[str, bytes] | None = None) -> bytes:
    """A Word 97–2003 document's skeleton: its text stream and its table stream."""
    return compound_file({"WordDocument": WORD_FIB_START, "1Table": b"\0", **(extra or {})})


def word_doc_with_macros() -> bytes:
    """What Word 97–2003 saves for a document with a VBA project."""
    return word_doc({"Macros/PROJECT": b'ID="{0}"', "Macros/VBA/dir": b"\x01"})


def word_doc_with_excel_style_macros() -> bytes:
    return word_doc({"_VBA_PROJECT_CUR/VBA/dir": b"\x01"})


def spreadsheet() -> bytes:
    """An Excel 97–2003 workbook: an OLE2 file without Word's text stream."""
    return compound_file({"Workbook": b"\0" * 16, "\x05SummaryInformation": b"\0"})


def outlook_message() -> bytes:
    """An Outlook .msg: properties and a subject, in an OLE2 file."""
    return compound_file(
        {"__properties_version1.0": b"\0" * 32, "__substg1.0_0037001F": "Objet".encode("utf-16-le")}
    )


def word_doc_embedded_in_spreadsheet() -> bytes:
    """A workbook holding a Word document deeper down: not a Word document itself."""
    return compound_file({"Workbook": b"\0" * 16, "ObjectPool/_1/WordDocument": WORD_FIB_START})


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
