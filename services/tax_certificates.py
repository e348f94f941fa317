"""Tax certificates (*attestations fiscales*): the childcare a family paid in a calendar year
(DOMAIN.md, Tax certificate).

For year Y and a family, a certificate counts, per child:

- the money PAID in Y: payments with status `paid` received in Y (`received_on`; an online
  payment without one counts on the Paris day Mollie paid it). A payment received in 2025
  for a 2026 invoice counts in 2025; an invoice issued but unpaid counts nowhere;
- what those payments paid: their allocations as they stand (a refund or a chargeback has
  already taken its share back, services.ledger);
- what the year's payments paid on an invoice is split over that invoice's lines in
  proportion to their amounts, in whole cents by the largest remainder (the shares add up
  to the amount paid to the cent; a tie goes to the earlier line);
- of those shares, the lines of CHILDCARE only (`Activity.is_childcare`: the périscolaire;
  canteen meals are not childcare) for children UNDER 6 ON 1 JANUARY of Y
  (services.pdf.under_six_on_first_january); a line of no child counts for none.

Issuing (staff, in bulk, `issue_year`): one certificate per family with a non-zero amount,
created, or refreshed when its amounts changed, with the children and amounts as issued
(`children_json`: the PDF prints them, never recomputes them); an unchanged certificate is
left as it was, so issuing twice changes nothing; a certificate whose amount fell to zero
(a refund since) is withdrawn. Each family whose certificate is new, changed or withdrawn
gets an alert leading to FINANCES. The year is issued in one transaction: all or nothing.
The year must have begun (Paris time): a certificate of the current year is provisional
and is refreshed by issuing the year again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import (
    Activity,
    AlertKind,
    Child,
    Family,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    StaffUser,
    TaxCertificate,
)
from services import audit
from services.calendar import paris_today
from services.formatting import PARIS, money
from services.notifications import notify
from services.pdf import under_six_on_first_january

FIRST_YEAR = 2000
FINANCES = "/finances"


class TaxCertificateError(ValueError):
    """Certificates that cannot be issued: a French message for staff."""


@dataclass(frozen=True)
class ChildcareAmount:
    """What a family paid in the year for one child's childcare."""

    child_id: int
    name: str
    birth_date: date
    amount_cents: int


@dataclass(frozen=True)
class IssueReport:
    """What issuing a year did, family by family counted."""

    year: int
    created: int
    refreshed: int
    unchanged: int
    withdrawn: int
    total_cents: int

    def summary(self) -> str:
        """« Attestations fiscales 2026 : 3 émises, 1 mise à jour, 0 inchangée, … »."""
        return (
            f"Attestations fiscales {self.year} : {self.created} émise(s), "
            f"{self.refreshed} mise(s) à jour, {self.unchanged} inchangée(s), "
            f"{self.withdrawn} retirée(s) ; {money(self.total_cents)} de frais de garde au total."
        )


def amounts_for(family: Family, year: int) -> list[ChildcareAmount]:
    """The family's childcare paid in `year`, per child (eldest first, none at zero)."""
    return _amounts(year, family.id).get(family.id, [])


def checked_year(raw: object, now: datetime) -> int:
    """The year typed by staff, or TaxCertificateError: four digits, a year that has begun."""
    text = str(raw).strip()
    if not (text.isdecimal() and len(text) == 4):
        raise TaxCertificateError("L'année doit s'écrire en quatre chiffres, par exemple 2026.")
    year, current = int(text), paris_today(now).year
    if not FIRST_YEAR <= year <= current:
        raise TaxCertificateError(f"L'année doit être comprise entre {FIRST_YEAR} et {current}.")
    return year


def issue_year(
    year: int | str, staff: StaffUser | None, now: datetime, ip: str | None = None
) -> IssueReport:
    """Issue the year's certificates for every family (see above); commits.
    `staff` is who issues them (journaled), None from the command line."""
    year = checked_year(year, now)
    try:
        report = _issue(year, staff, now, ip)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise TaxCertificateError(
            f"Les attestations {year} viennent d'être émises par ailleurs : recommencez."
        ) from error
    except Exception:
        db.session.rollback()
        raise
    return report


# --- Issuing ------------------------------------------------------------------------------


def _issue(year: int, staff: StaffUser | None, now: datetime, ip: str | None) -> IssueReport:
    amounts = _amounts(year)
    existing = {
        certificate.family_id: certificate
        for certificate in db.session.scalars(
            select(TaxCertificate).where(TaxCertificate.year == year).with_for_update()
        )
    }
    counts = defaultdict(int)
    families = _families(set(amounts) | set(existing))
    for family_id, children in amounts.items():
        outcome = _write(existing.get(family_id), family_id, year, children, staff, now, ip)
        counts[outcome] += 1
        if outcome != "unchanged":
            _tell(families[family_id], year, children, now)
    for family_id in set(existing) - set(amounts):
        _withdraw(existing[family_id], families[family_id], staff, now, ip)
        counts["withdrawn"] += 1
    total = sum(child.amount_cents for children in amounts.values() for child in children)
    return IssueReport(year, *(counts[key] for key in OUTCOMES), total_cents=total)


OUTCOMES = ("created", "refreshed", "unchanged", "withdrawn")


def _write(certificate, family_id, year, children, staff, now, ip) -> str:
    """Create or refresh one certificate; which of the two, or "unchanged"."""
    issued = json.dumps([_as_issued(child) for child in children], ensure_ascii=False)
    total = sum(child.amount_cents for child in children)
    if certificate and (certificate.children_json, certificate.total_cents) == (issued, total):
        return "unchanged"
    created = certificate is None
    staff_id = staff.id if staff else None
    if created:
        certificate = TaxCertificate(family_id=family_id, year=year)
    certificate.children_json, certificate.total_cents = issued, total
    certificate.issued_at, certificate.issued_by_id = now, staff_id
    if created:
        db.session.add(certificate)
    if staff:
        audit.record_change(staff, certificate, created, ip)
    return "created" if created else "refreshed"


def _as_issued(child: ChildcareAmount) -> dict:
    return {
        "child_id": child.child_id,
        "name": child.name,
        "birth_date": child.birth_date.isoformat(),
        "amount_cents": child.amount_cents,
    }


def _tell(family: Family, year: int, children: list[ChildcareAmount], now: datetime) -> None:
    total = money(sum(child.amount_cents for child in children))
    message = (
        f"Votre attestation fiscale {year} est disponible dans FINANCES : {total} de frais "
        f"de garde payés en {year}."
    )
    notify(family, AlertKind.PAYMENT, message, link=FINANCES, now=now)


def _withdraw(certificate, family, staff, now, ip) -> None:
    if staff:
        audit.record_deletion(staff, certificate, ip)
    db.session.delete(certificate)
    message = (
        f"Votre attestation fiscale {certificate.year} est retirée : aucun frais de garde "
        f"payé en {certificate.year} ne reste à déclarer (remboursement)."
    )
    notify(family, AlertKind.PAYMENT, message, link=FINANCES, now=now)


def _families(ids: set[int]) -> dict[int, Family]:
    if not ids:
        return {}
    return {f.id: f for f in db.session.scalars(select(Family).where(Family.id.in_(ids)))}


# --- What was paid ------------------------------------------------------------------------


def _amounts(year: int, family_id: int | None = None) -> dict[int, list[ChildcareAmount]]:
    """Per family id, the childcare paid in `year` per child (three statements in all)."""
    paid_query = _paid_per_invoice(year, family_id)
    paid = {invoice_id: int(cents) for invoice_id, cents in db.session.execute(paid_query)}
    if not paid:
        return {}
    per_child: dict[int, int] = defaultdict(int)
    for invoice_id, lines in _lines_of(paid_query).items():
        shares = split(paid[invoice_id], [line.amount_cents for line in lines])
        for line, share in zip(lines, shares, strict=True):
            if line.counts_in(year):
                per_child[line.child_id] += share
    return _by_family({child_id: cents for child_id, cents in per_child.items() if cents})


def _paid_per_invoice(year: int, family_id: int | None):
    """What the payments received in `year` paid on each invoice: (invoice id, cents)."""
    query = (
        select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.status == PaymentStatus.PAID, _received_in(year))
        .group_by(PaymentAllocation.invoice_id)
    )
    if family_id is not None:
        query = query.where(Payment.family_id == family_id)
    return query


def _received_in(year: int):
    """Received in the year: on its day of receipt, or (online) its payment's Paris day."""
    start, end = _utc_midnight(date(year, 1, 1)), _utc_midnight(date(year + 1, 1, 1))
    return or_(
        Payment.received_on.between(date(year, 1, 1), date(year, 12, 31)),
        and_(Payment.received_on.is_(None), Payment.paid_at >= start, Payment.paid_at < end),
    )


def _utc_midnight(day: date) -> datetime:
    """Midnight of a Paris day, as a stored naive-UTC time."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _Line:
    amount_cents: int
    child_id: int | None
    birth_date: date | None
    is_childcare: bool

    def counts_in(self, year: int) -> bool:
        """Childcare of a child under 6 on 1 January of the year."""
        if not (self.is_childcare and self.child_id):
            return False
        return under_six_on_first_january(self.birth_date, year)


def _lines_of(paid_query) -> dict[int, list[_Line]]:
    """The lines of the invoices paid, by invoice, in line order (one statement)."""
    paid_ids = select(paid_query.subquery().c.invoice_id)
    query = (
        select(
            InvoiceLine.invoice_id,
            InvoiceLine.amount_cents,
            InvoiceLine.child_id,
            Child.birth_date,
            func.coalesce(Activity.is_childcare, False),
        )
        .outerjoin(Child, Child.id == InvoiceLine.child_id)
        .outerjoin(Activity, Activity.id == InvoiceLine.activity_id)
        .where(InvoiceLine.invoice_id.in_(paid_ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.id)
    )
    lines: dict[int, list[_Line]] = defaultdict(list)
    for invoice_id, amount, child_id, birth_date, childcare in db.session.execute(query):
        lines[invoice_id].append(_Line(amount, child_id, birth_date, bool(childcare)))
    return lines


def _by_family(per_child: dict[int, int]) -> dict[int, list[ChildcareAmount]]:
    if not per_child:
        return {}
    children = db.session.scalars(
        select(Child).where(Child.id.in_(per_child)).order_by(Child.birth_date, Child.id)
    )
    found: dict[int, list[ChildcareAmount]] = defaultdict(list)
    for child in children:
        amount = ChildcareAmount(child.id, str(child), child.birth_date, per_child[child.id])
        found[child.family_id].append(amount)
    return dict(found)


def split(cents: int, weights: list[int]) -> list[int]:
    """`cents` in whole cents in proportion to `weights`, by the largest remainder: the
    shares add up to `cents` exactly; a tie goes to the earlier weight."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = [cents * weight // whole for weight in weights]
    remainders = [cents * weight % whole for weight in weights]
    for index in sorted(range(len(weights)), key=lambda i: -remainders[i])[: cents - sum(shares)]:
        shares[index] += 1
    return shares
