"""The commune's published files: menus, tariffs, the règlement intérieur, forms.

Staff publish a file by category, for one school or every school (`school_id` None), with a
validity period (either end open). The file is checked before anything is written: a `.pdf`,
`.png`, `.jpg` or `.jpeg` name, not empty and at most MAX_BYTES, then every content check
a family's upload gets (services.uploads: the type read from the bytes must be the one the
name says, no HTML or SVG, images decoded within a pixel limit and encoded again without
their EXIF, GPS included). It is stored under a random name in
UPLOAD_FOLDER, never under the name it came with; a refused file leaves neither a file nor a
row. A family sees a file while it is published, valid today, and for every school or the
school of one of its children; any other id is not found for it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from extensions import db
from models import Child, Family, Resource, School, StaffUser
from services import audit, uploads
from vocabulary import RESOURCE_CATEGORIES, label

MAX_BYTES = 8 * 1024 * 1024
MAX_TITLE = 200
FILE_TYPES = frozenset({".pdf", ".png", ".jpg", ".jpeg"})
MENUS = "menus"


class ResourceRefused(Exception):
    """A file or a field the rules refuse; `message` is the French sentence for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Upload:
    """A file as a form sent it: the name the sender gave and its contents."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Details:
    """What staff say about a file: its title, category, school and validity."""

    title: str
    category: str
    school_id: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    is_published: bool = True


# --- Checks -------------------------------------------------------------------------------


def checked_file(upload: Upload) -> uploads.CheckedFile:
    """The file to store once every check passed (images encoded again); else refused."""
    extension = Path(upload.filename or "").suffix.lower()
    if extension not in FILE_TYPES:
        raise ResourceRefused("Type de fichier refusé : envoyez un PDF, un PNG ou un JPEG.")
    if not upload.content:
        raise ResourceRefused("Le fichier est vide.")
    if len(upload.content) > MAX_BYTES:
        raise ResourceRefused(f"Fichier trop volumineux : {MAX_BYTES // 1024 // 1024} Mo au plus.")
    try:
        return uploads.check_upload(upload.filename, upload.content, MAX_BYTES)
    except uploads.UploadRefused as refused:
        raise ResourceRefused(refused.message) from refused


def check_details(details: Details) -> None:
    """A title, a known category, an existing school, a validity in order."""
    if not details.title.strip() or len(details.title.strip()) > MAX_TITLE:
        raise ResourceRefused(f"Donnez un titre (au plus {MAX_TITLE} caractères).")
    if details.category not in RESOURCE_CATEGORIES:
        raise ResourceRefused("Choisissez une catégorie de la liste.")
    if details.school_id is not None and db.session.get(School, details.school_id) is None:
        raise ResourceRefused("Cette école n'existe pas.")
    if details.valid_from and details.valid_to and details.valid_to < details.valid_from:
        raise ResourceRefused("La fin de validité doit suivre (ou égaler) son début.")


# --- Staff: publish, replace, edit, unpublish ---------------------------------------------


def publish_resource(
    details: Details, upload: Upload, staff: StaffUser, ip: str | None
) -> Resource:
    """Check, store under a random name, record and journal; one transaction. A refusal
    (ResourceRefused) writes nothing; a failed commit removes the stored file."""
    check_details(details)
    checked = checked_file(upload)
    resource = Resource(original_name=_display_name(upload.filename))
    _apply(resource, details)
    stored = _store(checked.content)
    resource.stored_name, resource.content_type = stored.name, checked.content_type
    resource.size_bytes = len(checked.content)
    db.session.add(resource)
    _commit_or_remove(resource, staff, ip, created=True, written=stored)
    return resource


def update_resource(
    resource: Resource, details: Details, upload: Upload | None, staff: StaffUser, ip: str | None
) -> Resource:
    """New details, and a new file when one is sent (the old one is removed once the change
    is committed); checked like a publication, journaled, one transaction."""
    check_details(details)
    checked = checked_file(upload) if upload else None
    _apply(resource, details)
    if upload is None:
        _commit_or_remove(resource, staff, ip, created=False, written=None)
        return resource
    old = folder() / resource.stored_name
    stored = _store(checked.content)
    resource.stored_name, resource.content_type = stored.name, checked.content_type
    resource.original_name = _display_name(upload.filename)
    resource.size_bytes = len(checked.content)
    _commit_or_remove(resource, staff, ip, created=False, written=stored)
    old.unlink(missing_ok=True)
    return resource


def set_published(resource: Resource, published: bool, staff: StaffUser, ip: str | None) -> None:
    """Unpublish (families no longer see it; the file stays for the record) or publish."""
    resource.is_published = published
    _commit_or_remove(resource, staff, ip, created=False, written=None)


def _apply(resource: Resource, details: Details) -> None:
    resource.title = details.title.strip()
    resource.category = details.category
    resource.school_id = details.school_id
    resource.valid_from, resource.valid_to = details.valid_from, details.valid_to
    resource.is_published = details.is_published


def _commit_or_remove(
    resource: Resource, staff: StaffUser, ip: str | None, *, created: bool, written: Path | None
) -> None:
    try:
        audit.record_change(staff, resource, created, ip)
        db.session.commit()
    except Exception:
        db.session.rollback()
        if written is not None:
            written.unlink(missing_ok=True)
        raise


def folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _store(content: bytes) -> Path:
    """Written under a random name that no sender chooses (never reused: exclusive open)."""
    folder().mkdir(parents=True, exist_ok=True)
    path = folder() / secrets.token_hex(16)
    with path.open("xb") as stored:
        stored.write(content)
    return path


def _display_name(filename: str) -> str:
    """The sender's base name, kept for the download's name only (never a path)."""
    name = Path((filename or "").replace("\\", "/")).name.strip()
    return name[-255:] or "document"


# --- Families ------------------------------------------------------------------------------


def _current(family: Family, today: date):
    """Published, valid on `today`, and for every school or one of the family's children's."""
    return _published_for(family).where(_valid_on(today))


def _published_for(family: Family):
    schools = select(Child.school_id).where(Child.family_id == family.id)
    return select(Resource).where(
        Resource.is_published.is_(True),
        or_(Resource.school_id.is_(None), Resource.school_id.in_(schools)),
    )


def _valid_on(day: date):
    return and_(
        or_(Resource.valid_from.is_(None), Resource.valid_from <= day),
        or_(Resource.valid_to.is_(None), Resource.valid_to >= day),
    )


@dataclass(frozen=True)
class CommuneFile:
    """A file as DOCUMENTS lists it (templates/documents/_commune.html)."""

    id: int
    title: str
    category: str  # its French label
    category_order: int  # RESOURCE_CATEGORIES' order, for the template's groupby
    school: str  # "" for every school
    kind: str  # "PDF", "Image"
    size: str  # "12 Ko"
    valid_to: date | None


def current_resources(family: Family, today: date) -> list[CommuneFile]:
    """What DOCUMENTS lists for the family, in RESOURCE_CATEGORIES' order then by title;
    one query."""
    order = {code: index for index, code in enumerate(RESOURCE_CATEGORIES)}
    rows = db.session.scalars(
        _current(family, today).options(joinedload(Resource.school)).order_by(Resource.title)
    ).all()
    listed = [_listed(row, order.get(row.category, len(order))) for row in rows]
    return sorted(listed, key=lambda file: file.category_order)


def _listed(row: Resource, category_order: int) -> CommuneFile:
    return CommuneFile(
        id=row.id,
        title=row.title,
        category=label(RESOURCE_CATEGORIES.get(row.category, row.category)),
        category_order=category_order,
        school=row.school.name if row.school else "",
        kind="PDF" if row.content_type == "application/pdf" else "Image",
        size=size_text(row.size_bytes),
        valid_to=row.valid_to,
    )


def size_text(size_bytes: int) -> str:
    """« 850 octets », « 12 Ko », « 1,4 Mo »."""
    if size_bytes < 1024:
        return f"{size_bytes} octets"
    if size_bytes < 1024 * 1024:
        return f"{round(size_bytes / 1024)} Ko"
    return f"{size_bytes / 1024 / 1024:.1f} Mo".replace(".", ",")


def resource_of_family(family: Family, resource_id: int, today: date) -> Resource | None:
    """The file if this family may open it today; None (a 404) for any other id."""
    return db.session.scalar(_current(family, today).where(Resource.id == resource_id))


def week_menus(family: Family, today: date) -> list[Resource]:
    """The menus valid today for the family's schools, ACCUEIL's « Menu de la semaine »:
    the latest published of each school, and of every school (`school_id` None); one
    query. On Saturday and Sunday a family plans the coming week, so a menu valid on
    Monday comes first, this week's when Monday's is not published yet."""
    planned = today + timedelta(days=7 - today.weekday()) if today.weekday() >= 5 else today
    rows = db.session.scalars(
        _published_for(family)
        .where(Resource.category == MENUS, or_(_valid_on(today), _valid_on(planned)))
        .order_by(Resource.id.desc())
    ).all()
    latest: dict[int | None, Resource] = {}
    for row in sorted(rows, key=lambda row: not _is_valid_on(row, planned)):  # stable sort
        latest.setdefault(row.school_id, row)
    return list(latest.values())


def _is_valid_on(resource: Resource, day: date) -> bool:
    return (resource.valid_from is None or resource.valid_from <= day) and (
        resource.valid_to is None or resource.valid_to >= day
    )
