"""The nightly job marks expired documents and tells each family once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from extensions import db
from models import Alert, Document, DocumentStatus, DocumentType
from services import jobs
from tests import factories

NOW = datetime(2027, 1, 2, 7, 0)  # Saturday 2 January 2027, 8:00 in Paris


def document(family, doc_type, expires_on, status=DocumentStatus.ACCEPTED, name="a"):
    item = Document(
        family_id=family.id,
        doc_type=doc_type,
        status=status,
        original_name=f"{name}.pdf",
        stored_name=name * 32,
        content_type="application/pdf",
        size_bytes=100,
        expires_on=expires_on,
    )
    db.session.add(item)
    db.session.commit()
    return item


def test_expired_documents_are_marked_and_the_family_alerted_once(app, family, other_family):
    qf = document(family, DocumentType.QUOTIENT, date(2026, 12, 31), name="a")
    valid = document(family, DocumentType.INSURANCE, date(2027, 7, 3), name="b")
    refused = document(
        other_family, DocumentType.QUOTIENT, date(2026, 12, 31), DocumentStatus.REFUSED, name="c"
    )

    assert "1 document(s) expiré(s) à signaler" in jobs.expire_documents(NOW, dry_run=True)
    assert qf.status == DocumentStatus.ACCEPTED
    assert jobs.expire_documents(NOW, dry_run=False).startswith("1 document")
    assert jobs.expire_documents(NOW, dry_run=False).startswith("0 document")

    db.session.expire_all()
    assert [qf.status, valid.status, refused.status] == [
        DocumentStatus.EXPIRED, DocumentStatus.ACCEPTED, DocumentStatus.REFUSED,
    ]  # fmt: skip
    messages = db.session.scalars(select(Alert.message).where(Alert.family_id == family.id)).all()
    assert messages == [
        "Votre attestation de quotient familial a expiré le jeudi 31 décembre 2026 : "
        "merci d'en envoyer une nouvelle."
    ]


def test_expiring_costs_the_same_reads_whatever_the_number_of_families(app, family, other_family):
    names = iter("xyz")

    def reads_to_expire(families) -> int:
        for owner in families:
            document(owner, DocumentType.QUOTIENT, date(2026, 12, 31), name=next(names))
        db.session.expire_all()
        with factories.counted_queries() as statements:
            jobs.expire_documents(NOW, dry_run=False)
        return sum(1 for sql in statements if sql.lstrip().upper().startswith("SELECT"))

    assert reads_to_expire([family]) == reads_to_expire([family, other_family])
