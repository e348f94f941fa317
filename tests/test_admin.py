"""The staff back office: who gets in, what each role sees, search, filters, exports, CSP."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from extensions import db
from models import (
    Activity,
    ActivityOption,
    Alert,
    Attendance,
    AuditEvent,
    Booking,
    BookingStatus,
    Capacity,
    ChangeRequest,
    Child,
    Closure,
    Document,
    DocumentType,
    Family,
    FamilyAccount,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NewsItem,
    OutboxEmail,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    Registration,
    Resource,
    SchoolYear,
    StaffNotice,
    StaffRole,
    StaffUser,
    Tariff,
    TaxCertificate,
    ValidationMode,
)
from services import mail
from tests import factories
from tests.conftest import csrf_token

HEALTH_NOTE = "Allergie sévère aux arachides"
# Every row of a list links to its details page.
ROW_ID = re.compile(r"/details/\?id=(\d+)&")
# A row shown as Python writes it, <Payment 3>, rather than in words.
REPR = re.compile(r"&lt;[A-Z][A-Za-z]+ \d+&gt;")
# Models with no admin view on purpose: secrets, and the billing run's gapless counter.
# Sessions, tokens and remembered devices hold secrets (hashes); the counter is internal.
NO_VIEW = {"AuthSession", "AccountToken", "RememberedDevice", "InvoiceNumberSequence"}


@pytest.fixture
def admin(app):
    return factories.staff_user("admin.a", role=StaffRole.ADMIN)


def admin_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin") and not rule.endpoint.endswith(".static")
    ]


def list_urls(app) -> list[str]:
    return [rule.rule for rule in admin_rules(app) if rule.endpoint.endswith(".index_view")]


def url_of(rule) -> str:
    return rule.rule.replace("<export_type>", "csv")


def row_ids(html: str) -> list[int]:
    return [int(found) for found in ROW_ID.findall(html)]


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def exported_rows(client, endpoint: str) -> list[list[str]]:
    """A list's CSV export as French Excel reads it: a byte order mark, then semicolons."""
    body = page(client, f"/admin/{endpoint}/export/csv/")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


def canteen() -> Activity:
    activity = Activity(code="canteen", name="Restaurant scolaire")
    db.session.add(activity)
    db.session.commit()
    return activity


def book(child: Child, activity: Activity, day: date, status: BookingStatus) -> Booking:
    booking = Booking(child=child, activity=activity, school=child.school, day=day, status=status)
    db.session.add(booking)
    db.session.commit()
    return booking


# --- Who gets in -------------------------------------------------------------------------


def test_a_family_gets_404_on_every_admin_url(app, client, auth, family):
    auth.login("famille.a")
    token = csrf_token(client, "/")
    for rule in admin_rules(app):
        method = "get" if "GET" in rule.methods else "post"
        response = getattr(client, method)(url_of(rule), data={"csrf_token": token})
        assert response.status_code == 404, (method, rule.rule)
    assert len(list_urls(app)) > 20


def test_anonymous_is_sent_to_the_login_page(app, client):
    for url in ["/admin/", *list_urls(app)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


@pytest.fixture
def one_of_each(family, staff):
    """A row in every table that has a view, so each list and details page renders values."""
    child = family.children[0]
    activity = canteen()
    option = ActivityOption(activity=activity, code="standard", label="Standard", is_default=True)
    db.session.add(option)
    year = SchoolYear(label="2026-2027", starts_on=date(2026, 9, 1), ends_on=date(2027, 7, 3))
    invoice = Invoice(family=family, period_month=date(2026, 11, 1), total_cents=350)
    payment = Payment(family=family, method=PaymentMethod.CHEQUE, amount_cents=350)
    db.session.add_all(
        [
            Capacity(school=child.school, activity=activity, places=80),
            Tariff(activity=activity, unit_price_cents=345, valid_from=date(2026, 9, 1)),
            Closure(starts_on=date(2026, 11, 11), ends_on=date(2026, 11, 11), reason="Armistice"),
            Registration(child=child, activity=activity, school_year=year),
            Booking(
                child=child,
                activity=activity,
                school=child.school,
                day=date(2026, 11, 26),
                option=option,
                status=BookingStatus.REGISTERED,
                attendance=Attendance.PRESENT,
            ),
            InvoiceLine(
                invoice=invoice, label="Repas", unit_price_cents=350, quantity=1, amount_cents=350
            ),
            PaymentAllocation(payment=payment, invoice=invoice, amount_cents=350),
            Document(
                family=family,
                doc_type=DocumentType.QUOTIENT,
                original_name="qf.pdf",
                stored_name="a" * 32,
                content_type="application/pdf",
                size_bytes=1000,
            ),
            Resource(
                title="Menus",
                original_name="menus.pdf",
                stored_name="b" * 32,
                content_type="application/pdf",
            ),
            NewsItem(title="Rentrée", body="Bonne rentrée", published_on=date(2026, 9, 1)),
            Alert(family=family, kind="document", message="Pièce acceptée"),
            ChangeRequest(family=family, entity="Family", entity_id=family.id, field="city"),
            AuditEvent(actor="agent.a", action="update", entity="Family", entity_id=str(family.id)),
            OutboxEmail(to_address="famille.a@example.org", subject="Bienvenue", body_text="Salut"),
            TaxCertificate(
                family=family, year=2026, total_cents=350, issued_at=datetime(2027, 1, 15, 9)
            ),
            StaffNotice(kind="amount-mismatch", message="Montant différent", payment=payment),
        ]
    )
    db.session.commit()


def test_an_agent_sees_the_list_and_details_of_every_model(app, client, auth, one_of_each):
    auth.login("agent.a")
    for url in list_urls(app):
        html = page(client, url)
        ids = row_ids(html)
        assert ids, url
        assert not re.search(r'placeholder="[^"]*\b[a-z_]+\.[a-z_]+', html), "unlabelled search"
        details = page(client, f"{url}details/?id={ids[0]}")
        for body in (html, details):
            assert not REPR.search(body), (url, REPR.search(body))
    admin_site = app.extensions["admin"][0]
    listed = {view.model.__name__ for view in admin_site._views if hasattr(view, "model")}
    every_model = {mapper.class_.__name__ for mapper in db.Model.registry.mappers}
    assert listed == every_model - NO_VIEW


def test_the_menu_is_in_french(client, auth, staff):
    auth.login("agent.a")
    html = page(client, "/admin/")
    for category in ("Familles", "Structure", "Réservations", "Finances", "Contenus", "Système"):
        assert category in html
    assert "Liste" in page(client, "/admin/family/")


def dashboard_card(html: str, key: str) -> tuple[str, int]:
    """(link, count) of one card of the back office's home page."""
    card = rf'id="count-{key}" href="([^"]+)">\s*<span[^>]*>\s*<strong[^>]*>(\d+)<'
    found = re.search(card, html)
    return found.group(1).replace("&amp;", "&"), int(found.group(2))


def test_the_index_counts_and_links_to_pending_bookings(client, auth, staff, family):
    first, second = family.children
    activity = canteen()
    pending = book(first, activity, date(2026, 11, 26), BookingStatus.PENDING)
    book(second, activity, date(2026, 11, 26), BookingStatus.REGISTERED)
    auth.login("agent.a")
    html = page(client, "/admin/")
    assert dashboard_card(html, "families")[1] == 1
    assert dashboard_card(html, "children")[1] == 2
    link, count = dashboard_card(html, "pending_bookings")
    assert count == 1
    assert row_ids(page(client, link)) == [pending.id]


# --- Search, filters, formats --------------------------------------------------------------


def test_families_are_found_by_login(client, auth, staff, family, other_family):
    auth.login("agent.a")
    assert row_ids(page(client, "/admin/family/?search=famille.b")) == [other_family.id]
    assert row_ids(page(client, "/admin/family/?search=FAMILLE.A")) == [family.id]


def test_families_are_found_by_a_childs_name_and_listed_once(
    client, auth, staff, family, other_family
):
    other_family.children[0].first_name = "Capucine"
    db.session.commit()
    auth.login("agent.a")
    assert row_ids(page(client, "/admin/family/?search=capucine")) == [other_family.id]
    # Both children of the first family match: the family is still one row, counted once.
    html = page(client, "/admin/family/?search=enfant")
    assert row_ids(html) == [family.id]
    assert "Liste (1)" in html


def test_bookings_are_filtered_by_status_with_french_labels(client, auth, staff, family):
    first, second = family.children
    activity = canteen()
    pending = book(first, activity, date(2026, 11, 26), BookingStatus.PENDING)
    book(second, activity, date(2026, 11, 26), BookingStatus.REGISTERED)
    auth.login("agent.a")
    html = page(client, "/admin/booking/?flt0_statut_equals=pending")
    assert row_ids(html) == [pending.id]
    assert "En attente" in html
    assert "26 nov. 2026" in html


def test_bookings_are_filtered_by_school_activity_and_day(client, auth, staff, family):
    first, second = family.children
    second.school = factories.school("École Sainte-Thérèse")
    activity, evening = canteen(), Activity(code="care_evening", name="Accueil du soir")
    day = date(2026, 11, 26)
    kept = book(first, activity, day, BookingStatus.REGISTERED)
    book(first, activity, date(2026, 11, 27), BookingStatus.REGISTERED)
    book(first, evening, day, BookingStatus.REGISTERED)
    book(second, activity, day, BookingStatus.REGISTERED)
    auth.login("agent.a")
    query = (
        "flt0_ecole_contains=Chalmel&flt1_prestation_equals=Restaurant scolaire"
        "&flt2_jour_equals=2026-11-26"
    )
    assert row_ids(page(client, f"/admin/booking/?{query}")) == [kept.id]


def test_children_are_filtered_by_class(client, auth, staff, family):
    first, second = family.children
    second.class_name = "CM2"
    db.session.commit()
    auth.login("agent.a")
    assert row_ids(page(client, "/admin/child/?flt0_classe_equals=CM2")) == [second.id]


def test_money_and_months_are_shown_in_french(client, auth, staff, family):
    db.session.add(
        Invoice(
            family=family,
            number="2026-000001",
            period_month=date(2026, 11, 1),
            status=InvoiceStatus.ISSUED,
            total_cents=1250,
        )
    )
    db.session.commit()
    auth.login("agent.a")
    html = page(client, "/admin/invoice/")
    assert "12,50\xa0€" in html
    assert "novembre 2026" in html
    assert "Émise" in html


def test_an_edit_form_preselects_the_stored_enum_value(client, auth, admin, family):
    activity = canteen()
    activity.validation_mode = ValidationMode.MANUAL
    db.session.commit()
    auth.login("admin.a")
    html = page(client, f"/admin/activity/edit/?id={activity.id}")
    assert re.search(r'<option selected value="manual">Manuelle</option>', html)


def test_a_price_is_typed_in_euros_and_stored_in_cents(client, auth, admin):
    activity = canteen()
    auth.login("admin.a")
    form = {
        "activity": str(activity.id),
        "label": "QF 0-500",
        "qf_min": "0",
        "qf_max": "500",
        "valid_from": "2026-09-01",
        "csrf_token": csrf_token(client, "/admin/tariff/new/"),
    }
    refused = client.post("/admin/tariff/new/", data={**form, "unit_price_cents": "3,456"})
    assert "Montant invalide" in refused.get_data(as_text=True)
    assert db.session.query(Tariff).count() == 0
    client.post("/admin/tariff/new/", data={**form, "unit_price_cents": "3,45"})
    assert db.session.query(Tariff).one().unit_price_cents == 345


def test_staff_record_a_cheque_but_never_an_online_payment(client, auth, staff, family):
    from tests.test_admin_payments import make_invoice

    invoice = make_invoice(family, 10, 3000, "2026-000002")
    auth.login("agent.a")
    form = {
        "family": str(family.id),
        "ids": [str(invoice.id)],
        "amount": "12,50",
        "received_on": "2026-11-26",
        "reference": "Chèque n° 1234567",
        "csrf_token": csrf_token(client, f"/admin/guichet/?family={family.id}"),
    }
    client.post("/admin/guichet/enregistrer", data={**form, "method": "online"})
    assert db.session.query(Payment).count() == 0
    response = client.post("/admin/guichet/enregistrer", data={**form, "method": "cheque"})
    assert response.status_code == 302
    payment = db.session.query(Payment).one()
    assert (payment.method, payment.amount_cents) == (PaymentMethod.CHEQUE, 1250)
    assert payment.recorded_by_id == staff.id


# --- Exports ------------------------------------------------------------------------------


def test_the_csv_export_defuses_formulas(client, auth, staff, family):
    family.name = "=SUM(1)"
    family.city = "@cmd"
    family.postcode = "+33"
    db.session.commit()
    auth.login("agent.a")
    header, row = exported_rows(client, "family")
    assert "Nom du foyer" in header
    values = dict(zip(header, row, strict=True))
    assert values["Nom du foyer"] == "'=SUM(1)"
    assert values["Commune"] == "'@cmd"
    assert values["Code postal"] == "'+33"
    assert values["Identifiants"] == "famille.a"


def test_the_family_export_costs_the_same_queries_for_three_families_as_for_nine(
    app, client, auth, staff
):
    auth.login("agent.a")

    def export_queries() -> int:
        with factories.counted_queries() as statements:
            assert client.get("/admin/family/export/csv/").status_code == 200
        return len(statements)

    for number in range(3):
        each = factories.family_with_children(app, f"famille.e{number}", children=2)
        factories.guardian(each, "Camille")
    few = export_queries()
    for number in range(3, 9):
        each = factories.family_with_children(app, f"famille.e{number}", children=2)
        factories.guardian(each, "Camille")
    assert export_queries() == few


# --- Roles and secrets --------------------------------------------------------------------


@pytest.fixture
def sensitive_child(family):
    child = family.children[0]
    child.health_note = HEALTH_NOTE
    db.session.commit()
    return child


def test_an_agent_never_sees_a_health_note(client, auth, staff, sensitive_child):
    auth.login("agent.a")
    for url in (
        "/admin/child/",
        f"/admin/child/details/?id={sensitive_child.id}",
        f"/admin/child/edit/?id={sensitive_child.id}",
        "/admin/child/export/csv/",
    ):
        body = page(client, url)
        assert HEALTH_NOTE not in body, url
        assert "Informations de santé" not in body, url


def test_an_agent_cannot_overwrite_a_health_note(client, auth, staff, sensitive_child):
    auth.login("agent.a")
    url = f"/admin/child/edit/?id={sensitive_child.id}"
    response = client.post(
        url,
        data={
            "family": str(sensitive_child.family_id),
            "first_name": "Enfant1",
            "last_name": "A",
            "birth_date": "2018-03-14",
            "school": str(sensitive_child.school_id),
            "class_name": "CE2",
            "health_note": "",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Child, sensitive_child.id).class_name == "CE2"
    assert db.session.get(Child, sensitive_child.id).health_note == HEALTH_NOTE


def test_an_admin_sees_and_edits_the_health_note(client, auth, admin, sensitive_child):
    auth.login("admin.a")
    assert HEALTH_NOTE in page(client, f"/admin/child/details/?id={sensitive_child.id}")
    assert 'name="health_note"' in page(client, f"/admin/child/edit/?id={sensitive_child.id}")
    header, *rows = exported_rows(client, "child")
    notes = [dict(zip(header, row, strict=True))["Informations de santé"] for row in rows]
    assert HEALTH_NOTE in notes


def test_a_requested_health_change_is_masked_for_agents(client, auth, staff, admin, family):
    db.session.add(
        ChangeRequest(
            family=family,
            entity="Child",
            entity_id=family.children[0].id,
            field="health_note",
            old_value="",
            new_value=HEALTH_NOTE,
        )
    )
    db.session.commit()
    auth.login("agent.a")
    assert HEALTH_NOTE not in page(client, "/admin/changerequest/")
    assert HEALTH_NOTE not in page(client, "/admin/changerequest/export/csv/")
    auth.logout(form_page="/admin/")
    auth.login("admin.a")
    assert HEALTH_NOTE in page(client, "/admin/changerequest/")


def test_an_agent_lists_staff_but_cannot_create_one(client, auth, staff):
    auth.login("agent.a")
    html = page(client, "/admin/staffuser/")
    assert "agent.a" in html
    assert "/admin/staffuser/new/" not in html
    assert client.get("/admin/staffuser/new/").status_code == 302
    token = csrf_token(client, "/admin/family/new/")
    client.post(
        "/admin/staffuser/new/",
        data={"username": "intrus", "role": "admin", "is_enabled": "y", "csrf_token": token},
    )
    assert client.get(f"/admin/staffuser/edit/?id={staff.id}").status_code == 302
    assert db.session.query(StaffUser).filter_by(username="intrus").count() == 0


def test_an_admin_form_without_its_csrf_token_is_refused(client, auth, admin, family):
    auth.login("admin.a")
    response = client.post(f"/admin/family/edit/?id={family.id}", data={"name": "Martin"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Family, family.id).name == "A"


def test_an_admin_creates_a_staff_account_without_a_password(client, auth, admin):
    auth.login("admin.a")
    response = client.post(
        "/admin/staffuser/new/",
        data={
            "username": "nouvel.agent",
            "full_name": "Camille Exemple",
            "email": "nouvel.agent@mairie.example",
            "role": "agent",
            "is_enabled": "y",
            "csrf_token": csrf_token(client, "/admin/staffuser/new/"),
        },
    )
    assert response.status_code == 302
    created = db.session.query(StaffUser).filter_by(username="nouvel.agent").one()
    assert created.role == StaffRole.AGENT
    assert created.password_hash is None


def test_a_login_taken_by_a_family_is_refused_for_staff(client, auth, admin, family):
    auth.login("admin.a")
    response = client.post(
        "/admin/staffuser/new/",
        data={
            "username": "Famille.A",
            "role": "agent",
            "csrf_token": csrf_token(client, "/admin/staffuser/new/"),
        },
    )
    assert "déjà utilisé" in response.get_data(as_text=True)
    assert db.session.query(StaffUser).filter(StaffUser.username.ilike("famille.a")).count() == 0


def test_no_admin_page_or_export_shows_a_password_hash(app, client, auth, admin, staff, family):
    account = db.session.query(FamilyAccount).one()
    auth.login("admin.a")
    hashes = {account.password_hash, admin.password_hash}
    urls = [
        "/admin/",
        *list_urls(app),
        *(f"{url}export/csv/" for url in list_urls(app)),
        f"/admin/familyaccount/details/?id={account.id}",
        f"/admin/familyaccount/edit/?id={account.id}",
        f"/admin/staffuser/details/?id={staff.id}",
        f"/admin/staffuser/edit/?id={staff.id}",
        "/admin/staffuser/new/",
        "/admin/familyaccount/new/",
    ]
    for url in urls:
        body = page(client, url)
        assert not any(value in body for value in hashes), url
        assert "password_hash" not in body and "$argon2" not in body, url


def test_staff_never_read_an_email_body(client, auth, staff, family):
    link = "https://portail.example/mot-de-passe/SECRET-TOKEN"
    mail.queue_email("famille.a@example.org", "Lien", link, f'<a href="{link}">lien</a>')
    db.session.commit()
    email = db.session.query(OutboxEmail).one()
    auth.login("agent.a")
    for url in (
        "/admin/outboxemail/",
        f"/admin/outboxemail/details/?id={email.id}",
        "/admin/outboxemail/export/csv/",
    ):
        body = page(client, url)
        assert "SECRET-TOKEN" not in body, url
        assert "famille.a@example.org" in body, url


def test_the_journal_is_read_only_and_newest_first(client, auth, admin):
    for minute in (1, 3, 2):
        db.session.add(
            AuditEvent(
                at=datetime(2026, 11, 26, 10, minute),
                actor=f"agent-{minute}",
                action="update",
                entity="Family",
            )
        )
    db.session.commit()
    auth.login("admin.a")
    html = page(client, "/admin/auditevent/")
    assert html.index("agent-3") < html.index("agent-2") < html.index("agent-1")
    assert "/admin/auditevent/new/" not in html and "/admin/auditevent/edit/" not in html
    assert client.get("/admin/auditevent/new/").status_code == 302


@pytest.mark.parametrize(
    "endpoint",
    [
        "family",
        "familyaccount",
        "guardian",
        "child",
        "document",
        "registration",
        "booking",
        "invoice",
        "invoiceline",
        "payment",
        "paymentallocation",
        "auditevent",
    ],
)
def test_family_and_money_records_offer_no_delete(client, auth, admin, one_of_each, endpoint):
    auth.login("admin.a")
    assert f"/admin/{endpoint}/delete/" not in page(client, f"/admin/{endpoint}/")


def test_deleting_a_family_or_a_child_is_refused(client, auth, admin, family):
    auth.login("admin.a")
    token = csrf_token(client, "/admin/family/new/")
    for endpoint, row in (("family", family), ("child", family.children[0])):
        client.post(f"/admin/{endpoint}/delete/", data={"id": str(row.id), "csrf_token": token})
    assert db.session.query(Family).count() == 1
    assert db.session.query(Child).count() == 2


# --- Content Security Policy --------------------------------------------------------------


def test_every_script_of_an_admin_list_carries_the_nonce(client, auth, admin, family):
    auth.login("admin.a")
    response = client.get("/admin/newsitem/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True))
    assert len(scripts) > 5
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag


def test_a_closure_entered_by_staff_ends_the_requests_of_its_days(
    client, auth, staff, family, pin_clock
):
    pin_clock(datetime(2026, 11, 9, 8, 0))
    child = family.children[0]
    activity = canteen()
    factories.registration(child, activity, factories.school_year())
    waiting = book(child, activity, date(2026, 11, 19), BookingStatus.PENDING)
    auth.login("agent.a")
    form = {
        "school": str(child.school_id),
        "starts_on": "2026-11-19",
        "ends_on": "2026-11-19",
        "reason": "Grève",
        "csrf_token": csrf_token(client, "/admin/closure/new/"),
    }
    assert client.post("/admin/closure/new/", data=form).status_code == 302
    db.session.refresh(waiting)
    assert (waiting.status, waiting.refusal_reason) == (BookingStatus.REFUSED, "Jour fermé : Grève")
    alert = db.session.scalars(select(Alert).where(Alert.family_id == family.id)).one()
    assert alert.message.startswith("Demande close, le service est fermé (Grève)")
