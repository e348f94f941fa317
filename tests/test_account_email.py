"""MON COMPTE: which alerts also come by email, and changing the account's email address."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from extensions import db
from models import AccountToken, AlertKind, FamilyAccount, OutboxEmail, utcnow
from services import account_email, accounts, mail, notifications, password_reset
from tests import factories
from tests.conftest import csrf_token
from vocabulary import enum_choices

NOW = datetime(2026, 11, 26, 9, 30)
NEW_ADDRESS = "nouvelle.adresse@example.net"
CONFIRM_LINK = re.compile(r"https://portail\.example/compte/email/[A-Za-z0-9_-]+")


def account() -> FamilyAccount:
    db.session.expire_all()
    return db.session.scalar(select(FamilyAccount).where(FamilyAccount.username == "famille.a"))


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def confirmation_token(row: OutboxEmail) -> str:
    return CONFIRM_LINK.search(row.body_text).group(0).rsplit("/", 1)[1]


# --- Alert emails: the choice --------------------------------------------------------------


@pytest.mark.parametrize(
    "setting, kinds",
    [
        ("", None),
        ("  ", None),
        ("-", set()),
        (" - ", set()),
        ("invoice, Payment", {"invoice", "payment"}),
    ],
)
def test_wanted_kinds_reads_all_none_or_a_list(setting, kinds):
    assert notifications.wanted_kinds(setting) == kinds


def save_kinds(client, kinds: list[str]):
    data = {"csrf_token": csrf_token(client, "/compte"), "kinds": kinds}
    return client.post("/compte/alertes-email", data=data)


def checked(html: str) -> list[str]:
    return re.findall(r'value="([a-z-]+)" id="kind-[a-z-]+" checked', html)


def test_a_new_account_gets_every_kind_and_the_form_says_so(client, auth, family):
    auth.login("famille.a")

    html = client.get("/compte").get_data(as_text=True)

    assert checked(html) == list(AlertKind)
    for _kind, label in enum_choices(AlertKind):
        assert label in html


def test_choosing_some_kinds_limits_the_emails_not_the_alerts(client, auth, family):
    auth.login("famille.a")

    response = save_kinds(client, ["payment", "invoice"])

    assert response.status_code == 302
    assert account().email_alert_kinds == "invoice,payment"
    assert checked(client.get("/compte").get_data(as_text=True)) == ["invoice", "payment"]
    notifications.notify(family, AlertKind.BOOKING, "Réservation enregistrée", now=NOW)
    notifications.notify(family, AlertKind.INVOICE, "Facture émise", now=NOW)
    db.session.commit()
    assert ["Facture émise" in row.body_text for row in outbox()] == [True]


def test_unchecking_everything_means_no_alert_email_at_all(client, auth, family):
    auth.login("famille.a")

    response = save_kinds(client, [])

    assert response.status_code == 302
    assert account().email_alert_kinds == notifications.NO_EMAIL
    html = client.get("/compte").get_data(as_text=True)
    assert checked(html) == []
    assert "Vous ne recevrez plus d&#39;alertes par email" in html
    for kind in AlertKind:
        notifications.notify(family, kind, f"Alerte {kind}", now=NOW)
    db.session.commit()
    assert outbox() == []  # the guardian shares the address: the account's choice decides
    assert notifications.unread_count(family.id) == len(AlertKind)


def test_a_guardian_gets_nothing_when_the_familys_only_account_wants_nothing(family):
    factories.guardian(family, "Camille", "camille@example.org")
    notifications.set_email_alert_kinds(family.accounts[0], [])

    notifications.notify(family, AlertKind.INVOICE, "Facture émise", now=NOW)
    db.session.commit()

    assert outbox() == []


def test_checking_everything_is_stored_as_every_kind(client, auth, family):
    family.accounts[0].email_alert_kinds = "invoice"
    db.session.commit()
    auth.login("famille.a")

    save_kinds(client, list(AlertKind))

    assert account().email_alert_kinds == ""
    assert notifications.wanted_kinds(account().email_alert_kinds) is None


def test_an_unknown_kind_is_refused_and_nothing_changes(client, auth, family):
    auth.login("famille.a")

    response = save_kinds(client, ["invoice", "tout-sauf-ca"])

    assert response.status_code == 400
    assert account().email_alert_kinds == ""
    with pytest.raises(ValueError):
        notifications.set_email_alert_kinds(account(), ["tout-sauf-ca"])


def test_the_choice_needs_the_csrf_token(client, auth, family):
    auth.login("famille.a")

    response = client.post("/compte/alertes-email", data={"kinds": ["invoice"]})

    assert response.status_code == 400
    assert account().email_alert_kinds == ""


# --- Changing the address --------------------------------------------------------------------


def ask_change(client, address: str = NEW_ADDRESS, password: str = factories.PASSWORD):
    data = {"csrf_token": csrf_token(client, "/compte"), "new_email": address}
    return client.post("/compte/email", data={**data, "password": password})


def test_the_address_changes_only_when_the_link_is_confirmed(client, auth, family, smtp):
    auth.login("famille.a")

    response = ask_change(client, "  Nouvelle.Adresse@EXAMPLE.net ")

    assert response.status_code == 302
    assert account().email == "famille.a@example.org"
    assert mail.send_pending(utcnow()).emails == 1
    [sent] = smtp.messages
    assert sent.rcpt_tos == ["Nouvelle.Adresse@example.net"]
    [link] = CONFIRM_LINK.findall(sent.text)
    assert f'href="{link}"' in sent.html and "famille.a" in sent.text
    path = urlsplit(link).path

    page = client.get(path)  # what a mail scanner does, too

    assert page.status_code == 200
    assert "Nouvelle.Adresse@example.net" in page.get_data(as_text=True)
    assert account().email == "famille.a@example.org"

    confirmed = client.post(path, data={"csrf_token": csrf_token(client, path)})

    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/compte"
    assert account().email == "Nouvelle.Adresse@example.net"
    assert "les emails du portail iront désormais à" in client.get("/compte").get_data(as_text=True)
    assert mail.send_pending(utcnow()).emails == 1
    [notice] = smtp.inbox.to("famille.a@example.org")
    assert "a été remplacée" in notice.text and "famille.a" in notice.text
    assert "N…@example.net" in notice.text and NEW_ADDRESS not in notice.text.lower()
    assert "N…@example.net" in notice.html

    again = client.post(path, data={"csrf_token": csrf_token(client, "/compte")})
    assert again.status_code == 404
    assert "Lien plus valable" in again.get_data(as_text=True)
    assert client.get(path).status_code == 404


def test_confirming_without_being_signed_in_leads_to_the_login(client, family):
    account_email.request_email_change(account(), NEW_ADDRESS, factories.PASSWORD, utcnow())
    path = f"/compte/email/{confirmation_token(outbox()[0])}"

    response = client.post(path, data={"csrf_token": csrf_token(client, path)})

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert account().email == NEW_ADDRESS


def test_confirming_needs_the_csrf_token(client, family):
    account_email.request_email_change(account(), NEW_ADDRESS, factories.PASSWORD, utcnow())
    path = f"/compte/email/{confirmation_token(outbox()[0])}"

    assert client.post(path).status_code == 400
    assert account().email == "famille.a@example.org"


@pytest.mark.parametrize(
    "address, password, message",
    [
        (NEW_ADDRESS, "pas-le-bon-mot-de-passe", "Le mot de passe actuel est incorrect."),
        ("sans-arobase.example.net", factories.PASSWORD, "n&#39;est pas valide"),
        ("a@b", factories.PASSWORD, "n&#39;est pas valide"),
        ("x@example.net\r\nBcc: tous@example.net", factories.PASSWORD, "n&#39;est pas valide"),
        ("Famille <x@example.net>", factories.PASSWORD, "n&#39;est pas valide"),
        ("FAMILLE.A@example.org", factories.PASSWORD, "déjà l&#39;adresse"),
        ("", factories.PASSWORD, "Indiquez la nouvelle adresse."),
    ],
)
def test_a_refused_request_sends_nothing(client, auth, family, address, password, message):
    auth.login("famille.a")

    response = ask_change(client, address, password)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert outbox() == []
    assert db.session.scalars(select(AccountToken)).all() == []


def test_the_request_needs_the_csrf_token(client, auth, family):
    auth.login("famille.a")

    data = {"new_email": NEW_ADDRESS, "password": factories.PASSWORD}
    response = client.post("/compte/email", data=data)

    assert response.status_code == 400
    assert outbox() == []


def test_requests_are_throttled_per_account(client, auth, family):
    auth.login("famille.a")

    answers = [ask_change(client, f"adresse{n}@example.net").status_code for n in range(6)]

    assert answers == [302] * 5 + [429]


def test_the_link_lasts_24_hours(family):
    account_email.request_email_change(account(), NEW_ADDRESS, factories.PASSWORD, NOW)
    token = confirmation_token(outbox()[0])

    assert account_email.pending_change(token, NOW + timedelta(hours=23)).new_email == NEW_ADDRESS
    with pytest.raises(accounts.InvalidToken):
        account_email.confirm_email_change(token, NOW + timedelta(hours=24, minutes=1))
    assert account().email == "famille.a@example.org"


def test_a_new_request_kills_the_previous_link(family):
    account_email.request_email_change(account(), "premiere@example.net", factories.PASSWORD, NOW)
    account_email.request_email_change(account(), "seconde@example.net", factories.PASSWORD, NOW)
    first, second = (confirmation_token(row) for row in outbox())

    with pytest.raises(accounts.InvalidToken):
        account_email.confirm_email_change(first, NOW)
    account_email.confirm_email_change(second, NOW)

    assert account().email == "seconde@example.net"


def test_the_change_kills_reset_links_sent_to_the_old_address(family):
    password_reset.send_reset_link("famille.a", NOW)
    reset = re.search(r"/mot-de-passe/([A-Za-z0-9_-]+)", outbox()[0].body_text).group(1)
    account_email.request_email_change(account(), NEW_ADDRESS, factories.PASSWORD, NOW)

    account_email.confirm_email_change(confirmation_token(outbox()[1]), NOW)

    assert not password_reset.token_is_live(reset, NOW)


def test_a_password_change_kills_a_pending_address_change(family):
    account_email.request_email_change(account(), NEW_ADDRESS, factories.PASSWORD, NOW)
    token = confirmation_token(outbox()[0])

    accounts.change_password(account(), factories.PASSWORD, "Une-autre-phrase-2026", NOW)
    db.session.commit()

    with pytest.raises(accounts.InvalidToken):
        account_email.confirm_email_change(token, NOW)


def test_a_disabled_account_cannot_confirm(family):
    account_email.request_email_change(account(), NEW_ADDRESS, factories.PASSWORD, NOW)
    token = confirmation_token(outbox()[0])
    account().is_enabled = False
    db.session.commit()

    with pytest.raises(accounts.InvalidToken):
        account_email.pending_change(token, NOW)


def test_an_email_change_link_is_not_a_password_link(client, family):
    account_email.request_email_change(account(), NEW_ADDRESS, factories.PASSWORD, utcnow())
    token = confirmation_token(outbox()[0])

    assert client.get(f"/mot-de-passe/{token}").headers["Location"] == "/mot-de-passe-oublie"
    with pytest.raises(accounts.InvalidToken):
        accounts.reset_password_with_token(token, "Une-autre-phrase-2026", utcnow())
    assert account_email.pending_change(token, utcnow()).new_email == NEW_ADDRESS


@pytest.mark.parametrize(
    "address, masked",
    [("nouvelle@example.net", "n…@example.net"), ("a@b.fr", "a…@b.fr")],
)
def test_mask_address(address, masked):
    assert account_email.mask_address(address) == masked
