"""The checks every file a family sends passes before anything is written (SECURITY.md 16–20).

`check_upload(name, data, max_bytes)` works on the bytes in memory and either returns what
may be stored or raises UploadRefused with a French message. In this order:

1. the file is not empty and not over `max_bytes` (a request over MAX_CONTENT_LENGTH never
   gets here: Flask answers 413 with a French page, app.py);
2. the name's LAST extension is on the allow-list: jpg/jpeg, png, pdf, docx, doc
   (`x.pdf.html` is an html file, `../../app.py` a py file: both refused);
3. whatever the name, the content is neither HTML nor SVG (a browser would run its script);
4. the type `filetype` sniffs from the bytes agrees with the extension: an HTML or PNG file
   named `.pdf` is refused;
5. each type's own check:
   - pdf: starts with `%PDF-`;
   - doc: an OLE2 compound file (its magic bytes), that filetype does not call something
     else (a spreadsheet), and that `olefile` reads as a Word document: a `WordDocument`
     stream (an .xls or an Outlook .msg is an OLE2 file too) and no macros (a `Macros`,
     `_VBA_PROJECT_CUR` or `VBA` storage anywhere in it);
   - docx: a zip read through its directory only (`zipfile.infolist`, nothing is
     decompressed): at most MAX_ZIP_ENTRIES entries, no absolute name and no `..`, at most
     MAX_UNCOMPRESSED_BYTES once uncompressed and no entry compressed more than MAX_RATIO
     times (zip bombs), no macros, and the Word document's own parts;
   - jpeg, png: Pillow reads the header first; over MAX_PIXELS pixels is a decompression
     bomb, refused before decoding. The image is then decoded and encoded again, turned
     upright as its EXIF said: the stored copy carries no EXIF (GPS position, camera) nor
     any other metadata.

The original name is kept as data only, cleaned for display (no folder, no control
character, at most 120 characters); the file is stored under a random name (`stored_name`).
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath

import filetype
import olefile
from PIL import Image, ImageOps, UnidentifiedImageError

# Extension → (what filetype may call its bytes, the content type stored and served).
KINDS = {
    "jpg": ({"jpg"}, "image/jpeg"),
    "jpeg": ({"jpg"}, "image/jpeg"),
    "png": ({"png"}, "image/png"),
    "pdf": ({"pdf"}, "application/pdf"),
    "doc": ({"doc", None}, "application/msword"),
    "docx": (
        {"docx", "zip"},
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}
ACCEPTED_WORDS = "photo (JPEG, PNG), PDF ou document Word (DOC, DOCX)"
# The `accept` attribute of the pages' file inputs.
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf,.doc,.docx"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_STREAM = "WordDocument"
# Where Office keeps a VBA project (Word 97–2003 in `Macros`, Excel in `_VBA_PROJECT_CUR`,
# both in `VBA`), compared upper-cased: OLE2 names are case-insensitive.
MACRO_STORAGES = frozenset({"MACROS", "_VBA_PROJECT_CUR", "VBA"})
# A phone's photo has 12 to 50 million pixels; past this, a small file that decodes into
# gigabytes of memory.
MAX_PIXELS = 60_000_000
MAX_ZIP_ENTRIES = 500
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100
WORD_PARTS = ("[Content_Types].xml", "word/document.xml")
# Looked for in the first bytes, lower-cased: what makes a browser render a page.
WEB_MARKERS = (b"<html", b"<!doctype", b"<svg", b"<script", b"<?xml", b"<body", b"<iframe")
HEAD_BYTES = 1024
MAX_DISPLAY_NAME = 120


class UploadRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check: the bytes to store (images re-encoded)."""

    content: bytes
    extension: str
    content_type: str
    display_name: str

    @property
    def size(self) -> int:
        return len(self.content)


def check_upload(name: str, data: bytes, max_bytes: int) -> CheckedFile:
    """The checks above, in order; the first that fails raises UploadRefused."""
    display_name = clean_name(name)
    _check_size(data, max_bytes)
    extension = extension_of(display_name)
    _check_not_web_content(data)
    _check_sniffed(extension, data)
    content = CONTENT_CHECKS[extension](data)
    return CheckedFile(content, extension, KINDS[extension][1], display_name)


def clean_name(name: str) -> str:
    """The name as sent, for display only: its last path part, no control character."""
    last = re.split(r"[/\\]", name or "")[-1]
    printable = "".join(c for c in last if unicodedata.category(c)[0] != "C")
    cleaned = " ".join(printable.split()).lstrip(".")
    return cleaned[-MAX_DISPLAY_NAME:] if cleaned else "document"


def extension_of(name: str) -> str:
    """The name's last extension, lower-cased, if on the allow-list."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if suffix not in KINDS:
        raise UploadRefused(f"Ce type de fichier n'est pas accepté : envoyez une {ACCEPTED_WORDS}.")
    return suffix


def stored_name() -> str:
    """A random name: nothing of the family's file name reaches the disk."""
    return secrets.token_hex(16)


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise UploadRefused("Le fichier est vide : choisissez-le à nouveau.")
    if len(data) > max_bytes:
        raise UploadRefused(f"Le fichier dépasse {max_bytes // (1024 * 1024)} Mo : réduisez-le.")


def _check_not_web_content(data: bytes) -> None:
    head = data[:HEAD_BYTES].lower()
    if any(marker in head for marker in WEB_MARKERS):
        raise UploadRefused(
            "Ce fichier est une page web ou une image SVG, refusée pour votre sécurité : "
            f"envoyez une {ACCEPTED_WORDS}."
        )


def _check_sniffed(extension: str, data: bytes) -> None:
    guessed = filetype.guess(data)
    sniffed = guessed.extension if guessed else None
    if sniffed not in KINDS[extension][0]:
        raise UploadRefused(
            f"Le contenu du fichier ne correspond pas à son extension « .{extension} » : "
            f"envoyez une {ACCEPTED_WORDS}."
        )


def _pdf(data: bytes) -> bytes:
    if not data.startswith(b"%PDF-"):
        raise UploadRefused("Ce fichier n'est pas un PDF valide.")
    return data


def _doc(data: bytes) -> bytes:
    """Read through the compound file's directory: the names, no stream's content."""
    if not data.startswith(OLE2_MAGIC):
        raise UploadRefused(_NOT_A_DOC)
    is_word, paths = _ole_directory(data)
    if not is_word:
        raise UploadRefused(_NOT_A_DOC)
    if any(name.upper() in MACRO_STORAGES for path in paths for name in path):
        raise UploadRefused(
            "Ce fichier Word contient des macros : enregistrez-le en PDF ou en .docx sans "
            "macros, puis envoyez-le à nouveau."
        )
    return data


_NOT_A_DOC = "Ce fichier n'est pas un document Word (.doc) valide : enregistrez-le en PDF."


def _ole_directory(data: bytes) -> tuple[bool, list[list[str]]]:
    """Whether a `WordDocument` stream sits at the root (an .xls may embed one deeper
    down), and the path of each stream and storage."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            is_word = ole.get_type(WORD_STREAM) == olefile.STGTY_STREAM
            return is_word, ole.listdir(streams=True, storages=True)
    # A parser reading a hostile file may fail in many ways; each means "not a .doc".
    except Exception as error:
        raise UploadRefused(_NOT_A_DOC) from error


def _docx(data: bytes) -> bytes:
    """The zip's directory only: nothing decompressed, so a bomb never expands."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise UploadRefused("Ce fichier n'est pas un document Word (.docx) valide.") from error
    _check_zip_entries(entries)
    names = {entry.filename for entry in entries}
    if not all(part in names for part in WORD_PARTS):
        raise UploadRefused("Ce fichier n'est pas un document Word (.docx) valide.")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UploadRefused("Ce document Word contient des macros : enregistrez-le en PDF.")
    return data


def _check_zip_entries(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UploadRefused("Ce document Word contient trop d'éléments : enregistrez-le en PDF.")
    if any(_unsafe_entry_name(entry.filename) for entry in entries):
        raise UploadRefused("Ce document Word est mal formé : enregistrez-le en PDF.")
    total = sum(entry.file_size for entry in entries)
    squeezed = any(entry.file_size > MAX_RATIO * max(entry.compress_size, 1) for entry in entries)
    if total > MAX_UNCOMPRESSED_BYTES or squeezed:
        raise UploadRefused(
            "Ce document Word est anormalement compressé (il pourrait saturer le serveur) : "
            "enregistrez-le en PDF."
        )


def _unsafe_entry_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]


def _image(data: bytes, output_format: str) -> bytes:
    """Decoded and encoded again in the format its extension names (a phone's JPEG that
    Pillow reads as MPO stays a JPEG), upright, without EXIF or any other metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _reencoded(Image.open(io.BytesIO(data)), output_format)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadRefused(_TOO_MANY_PIXELS) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UploadRefused("Cette image est illisible ou abîmée : reprenez la photo.") from error


_TOO_MANY_PIXELS = (
    "Cette image est trop grande (trop de pixels) : reprenez la photo en qualité normale."
)


def _reencoded(image: Image.Image, output_format: str) -> bytes:
    if image.width * image.height > MAX_PIXELS:
        raise UploadRefused(_TOO_MANY_PIXELS)
    upright = ImageOps.exif_transpose(image)
    # Comments and profiles travel in `info` and would be written again: none is kept.
    upright.info = {}
    out = io.BytesIO()
    # No `optimize`: on a 12-megapixel photo it costs seconds of a worker for a few percent.
    if output_format == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=90)
    else:
        upright.save(out, "PNG")
    return out.getvalue()


CONTENT_CHECKS = {
    "jpg": partial(_image, output_format="JPEG"),
    "jpeg": partial(_image, output_format="JPEG"),
    "png": partial(_image, output_format="PNG"),
    "pdf": _pdf,
    "doc": _doc,
    "docx": _docx,
}
