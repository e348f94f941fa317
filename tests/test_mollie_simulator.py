"""The Mollie simulator, driven over a real port through the real `mollie-api-python` client.

No database: these tests run the same in the SQLite and the PostgreSQL pass. The checkout
page is driven as a browser would (a form POST, a 303), and the webhook lands in a tiny
real HTTP server that records what Mollie would have sent.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from mollie.api.client import Client
from mollie.api.error import (
    NotFoundError,
    RequestError,
    ResponseError,
    UnauthorizedError,
    UnprocessableEntityError,
)

from mollie_simulator import MollieSimulator, start_simulator
from mollie_simulator.webhooks import WebhookCall

ROOT = Path(__file__).resolve().parent.parent
KEY = "test_simulator"
RETURN_URL = "http://127.0.0.1:5000/finances/retour"
TWO_DECIMALS = re.compile(r"^-?\d+\.\d{2}$")


class WebhookReceiver:
    """A real HTTP endpoint that records each webhook POST and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        serve = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        serve.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/webhooks/mollie"

    @property
    def bodies(self) -> list[str]:
        with self.lock:
            return [body for _, body in self.calls]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with receiver.lock:
                    receiver.calls.append((self.headers["Content-Type"], body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def simulator():
    return MollieSimulator(api_keys=(KEY,))


@pytest.fixture
def running(simulator):
    with start_simulator(simulator) as running:
        yield running


@pytest.fixture
def mollie(running):
    return client_for(running.url, KEY)


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def client_for(endpoint: str, key: str) -> Client:
    client = Client(api_endpoint=endpoint, timeout=(2, 5))
    client.set_api_key(key)
    return client


def payment_data(webhook_url: str, value: str = "12.30", **changes: object) -> dict:
    data = {
        "amount": {"currency": "EUR", "value": value},
        "description": "Factures 2026-000002 et 2026-000003",
        "redirectUrl": RETURN_URL,
        "webhookUrl": webhook_url,
        "metadata": {"invoices": [2, 3]},
    }
    data.update(changes)
    return data


def paid_payment(mollie: Client, simulator: MollieSimulator, webhook_url: str, value="12.30"):
    payment = mollie.payments.create(payment_data(webhook_url, value))
    simulator.choose(payment.id, "paid")
    return mollie.payments.get(payment.id)


def browser_request(url: str, method: str = "GET", form: dict | None = None):
    """(status, Location header, body) of one request, redirects not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = urlencode(form) if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    connection.request(method, parts.path, body=body, headers=headers)
    response = connection.getresponse()
    answer = (response.status, response.getheader("Location"), response.read().decode())
    connection.close()
    return answer


def post_json(url: str, data: dict) -> tuple[int, dict]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(
        "POST", parts.path, body=json.dumps(data), headers={"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    answer = (response.status, json.loads(response.read()))
    connection.close()
    return answer


def floats_in(value: object) -> list[object]:
    """Every float anywhere in a decoded JSON document."""
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [found for item in value.values() for found in floats_in(item)]
    if isinstance(value, list):
        return [found for item in value for found in floats_in(item)]
    return []


# Creating and reading payments


def test_the_same_idempotency_key_and_body_give_one_payment(mollie, receiver):
    data = payment_data(receiver.url)
    first = mollie.payments.create(data, idempotency_key="invoice-2-3-try-1")
    again = mollie.payments.create(data, idempotency_key="invoice-2-3-try-1")
    other = mollie.payments.create(data, idempotency_key="invoice-2-3-try-2")
    assert again.id == first.id
    assert other.id != first.id
    assert mollie.payments.get(first.id).status == "open"


def test_the_same_idempotency_key_with_another_body_is_refused(mollie, receiver):
    mollie.payments.create(payment_data(receiver.url), idempotency_key="same-key")
    with pytest.raises(UnprocessableEntityError):
        mollie.payments.create(payment_data(receiver.url, "99.00"), idempotency_key="same-key")


def test_a_new_payment_has_mollies_shape(mollie, running, receiver):
    created = mollie.payments.create(payment_data(receiver.url))
    payment = mollie.payments.get(created.id)
    assert payment == created
    assert re.fullmatch(r"tr_[A-Za-z0-9]{10}", payment.id)
    assert payment.resource == "payment" and payment.mode == "test"
    assert payment.status == "open" and payment.is_open() and payment.is_cancelable
    assert payment.amount == {"currency": "EUR", "value": "12.30"}
    assert payment.description == "Factures 2026-000002 et 2026-000003"
    assert payment.metadata == {"invoices": [2, 3]}
    assert payment.redirect_url == RETURN_URL and payment.webhook_url == receiver.url
    assert payment.checkout_url == f"{running.url}/checkout/{payment.id}"
    created_at = datetime.fromisoformat(payment.created_at)
    assert created_at.utcoffset() is not None
    assert (datetime.fromisoformat(payment.expires_at) - created_at).total_seconds() == 900
    assert payment.paid_at is None and payment.amount_remaining is None
    assert payment["_links"]["self"]["href"] == f"{running.url}/v2/payments/{payment.id}"


def test_one_idempotency_key_sent_five_times_at_once_gives_one_payment(running, receiver):
    """A double click on "Payer" that reaches the API twice at the same moment."""
    start, ids = threading.Barrier(5), []

    def create() -> None:
        mollie = client_for(running.url, KEY)
        start.wait()
        ids.append(mollie.payments.create(payment_data(receiver.url), idempotency_key="k").id)

    threads = [threading.Thread(target=create) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 5 and len(set(ids)) == 1


def test_times_come_from_the_simulators_clock(receiver):
    moments = iter([datetime(2026, 11, 30, 8, 0), datetime(2026, 11, 30, 8, 3, 7)])
    simulator = MollieSimulator(clock=lambda: next(moments).replace(tzinfo=UTC))
    with start_simulator(simulator) as running:
        mollie = client_for(running.url, "test_simulator")
        payment = mollie.payments.create(payment_data(receiver.url))
        simulator.choose(payment.id, "paid")
        paid = mollie.payments.get(payment.id)
    assert payment.created_at == "2026-11-30T08:00:00+00:00"
    assert payment.expires_at == "2026-11-30T08:15:00+00:00"
    assert paid.paid_at == "2026-11-30T08:03:07+00:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": {"currency": "EUR", "value": 12.3}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "12.3"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "12.300"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "0.00"}}, "amount.value"),
        ({"amount": {"currency": "USD", "value": "12.30"}}, "amount.currency"),
        ({"amount": None}, "amount"),
        ({"description": ""}, "description"),
        ({"redirectUrl": None}, "redirectUrl"),
        ({"webhookUrl": "ftp://127.0.0.1/hook"}, "webhookUrl"),
    ],
)
def test_an_invalid_payment_is_refused_naming_the_field(mollie, receiver, change, field):
    with pytest.raises(UnprocessableEntityError) as refused:
        mollie.payments.create(payment_data(receiver.url, **change))
    assert refused.value.status == 422
    assert refused.value.field == field


def test_an_unknown_payment_is_not_found(mollie, running):
    with pytest.raises(NotFoundError) as missing:
        mollie.payments.get("tr_Unknown123")
    assert missing.value.status == 404
    status, _, page = browser_request(f"{running.url}/checkout/tr_Unknown123")
    assert status == 404 and "Paiement introuvable" in page


def test_a_route_the_simulator_lacks_is_not_found_in_mollies_shape(mollie):
    with pytest.raises(NotFoundError) as missing:
        mollie.refunds.list()
    assert missing.value.status == 404


def test_an_open_payment_can_be_canceled_once(mollie, receiver):
    payment = mollie.payments.create(payment_data(receiver.url))
    canceled = mollie.payments.delete(payment.id)
    assert canceled.status == "canceled" and canceled.canceled_at is not None
    assert mollie.payments.get(payment.id).is_canceled()
    with pytest.raises(UnprocessableEntityError):
        mollie.payments.delete(payment.id)
    assert receiver.bodies == []


# The hosted checkout and the webhook


def test_the_checkout_page_offers_the_four_endings_in_french(mollie, receiver):
    payment = mollie.payments.create(payment_data(receiver.url))
    status, _, page = browser_request(payment.checkout_url)
    assert status == 200
    assert '<html lang="fr">' in page
    assert "Paiement de 12,30\u00a0€" in page
    assert "min-height: 44px" in page
    choices = re.findall(r'<button type="submit" name="status" value="(\w+)"', page)
    assert choices == ["paid", "failed", "canceled", "expired"]


@pytest.mark.parametrize("choice", ["paid", "failed", "canceled", "expired"])
def test_a_checkout_choice_sets_the_status_calls_the_webhook_and_returns(mollie, receiver, choice):
    payment = mollie.payments.create(payment_data(receiver.url))
    status, location, _ = browser_request(payment.checkout_url, "POST", {"status": choice})
    assert (status, location) == (303, RETURN_URL)
    assert receiver.calls == [("application/x-www-form-urlencoded", f"id={payment.id}")]
    seen = mollie.payments.get(payment.id)
    assert seen.status == choice
    assert datetime.fromisoformat(seen[f"{choice}At"]).utcoffset() is not None
    assert seen.is_paid() == (choice == "paid")
    assert seen.checkout_url is None and seen.is_cancelable is None
    if choice == "paid":
        assert seen.amount_refunded == {"currency": "EUR", "value": "0.00"}
        assert seen.amount_remaining == {"currency": "EUR", "value": "12.30"}


def test_a_cancel_returns_to_the_cancel_url_when_one_is_given(mollie, receiver):
    cancel_url = "http://127.0.0.1:5000/finances/abandon"
    payment = mollie.payments.create(payment_data(receiver.url, cancelUrl=cancel_url))
    status, location, _ = browser_request(payment.checkout_url, "POST", {"status": "canceled"})
    assert (status, location) == (303, cancel_url)


def test_a_finished_payment_cannot_be_chosen_again(mollie, receiver):
    payment = mollie.payments.create(payment_data(receiver.url))
    browser_request(payment.checkout_url, "POST", {"status": "paid"})
    status, _, page = browser_request(payment.checkout_url, "POST", {"status": "failed"})
    assert status == 409 and "Paiement impossible" in page
    assert mollie.payments.get(payment.id).status == "paid"
    _, _, page = browser_request(payment.checkout_url)
    assert "Ce paiement est terminé (payé)" in page and "<form" not in page
    assert len(receiver.bodies) == 1


@pytest.mark.parametrize("answer", [500, None])
def test_a_failing_webhook_endpoint_does_not_break_the_checkout(
    mollie, simulator, receiver, answer
):
    receiver.status = answer or 200
    url = receiver.url if answer else "http://127.0.0.1:9/nobody-listens"
    payment = mollie.payments.create(payment_data(url))
    status, location, _ = browser_request(payment.checkout_url, "POST", {"status": "paid"})
    assert (status, location) == (303, RETURN_URL)
    assert mollie.payments.get(payment.id).status == "paid"
    [call] = simulator.webhook_calls
    assert call.status_code == answer and (call.error is None) == (answer is not None)


def test_webhooks_never_sent_until_a_test_sends_one(mollie, simulator, receiver):
    simulator.set_webhooks_sent(False)
    payment = mollie.payments.create(payment_data(receiver.url))
    browser_request(payment.checkout_url, "POST", {"status": "paid"})
    assert mollie.payments.get(payment.id).status == "paid"
    assert receiver.bodies == []
    [call] = simulator.send_webhook(payment.id)
    assert call.status_code == 200 and receiver.bodies == [f"id={payment.id}"]


def test_webhooks_can_go_out_through_another_poster(receiver):
    """An app test without a port hands the webhook to Flask's test client this way."""
    posted = []

    def post(url: str, payment_id: str, timeout: float) -> WebhookCall:
        posted.append((url, payment_id))
        return WebhookCall(payment_id, url, 200)

    with start_simulator(MollieSimulator(post=post)) as running:
        mollie = client_for(running.url, "test_simulator")
        payment = mollie.payments.create(payment_data("http://portail.test/webhooks/mollie"))
        browser_request(payment.checkout_url, "POST", {"status": "paid"})
        running.simulator.send_webhook(payment.id, times=2)
    assert posted == [("http://portail.test/webhooks/mollie", payment.id)] * 3
    assert receiver.bodies == []


def test_the_webhook_can_come_five_times_at_once(mollie, simulator, receiver):
    payment = paid_payment(mollie, simulator, receiver.url)
    calls = simulator.send_webhook(payment.id, times=5)
    assert [call.status_code for call in calls] == [200] * 5
    assert receiver.bodies == [f"id={payment.id}"] * 6


def test_a_stale_status_can_be_forced_without_a_webhook(mollie, simulator, receiver):
    payment = paid_payment(mollie, simulator, receiver.url)
    simulator.set_status(payment.id, "expired")
    stale = mollie.payments.get(payment.id)
    assert stale.status == "expired" and stale.expired_at is not None
    assert stale.paid_at is None
    assert receiver.bodies == [f"id={payment.id}"]


# Refunds and chargebacks


def test_refunds_are_listed_and_lower_the_remaining_amount(mollie, simulator, receiver):
    payment = paid_payment(mollie, simulator, receiver.url)
    refund = payment.refunds.create(
        {"amount": {"currency": "EUR", "value": "2.30"}, "description": "Trop-perçu"}
    )
    assert re.fullmatch(r"re_[A-Za-z0-9]{10}", refund.id)
    assert refund.resource == "refund" and refund.payment_id == payment.id
    assert refund.amount == {"currency": "EUR", "value": "2.30"} and refund.status == "pending"
    seen = mollie.payments.get(payment.id)
    assert seen.status == "paid" and seen.has_refunds()
    assert seen.amount_refunded["value"] == "2.30" and seen.amount_remaining["value"] == "10.00"
    assert [listed.id for listed in seen.refunds.list()] == [refund.id]
    assert seen.refunds.get(refund.id).description == "Trop-perçu"


def test_a_refund_beyond_what_remains_or_of_an_unpaid_payment_is_refused(mollie, simulator):
    payment = paid_payment(mollie, simulator, "http://127.0.0.1:9/none")
    with pytest.raises(UnprocessableEntityError) as refused:
        payment.refunds.create({"amount": {"currency": "EUR", "value": "12.31"}})
    assert refused.value.field == "amount"
    unpaid = mollie.payments.create(payment_data("http://127.0.0.1:9/none"))
    with pytest.raises(UnprocessableEntityError):
        unpaid.refunds.create({"amount": {"currency": "EUR", "value": "1.00"}})
    assert len(mollie.payments.get(payment.id).refunds.list()) == 0


def test_a_refund_description_past_140_characters_is_refused_as_mollie_does(mollie, simulator):
    # Mollie's create refund: « Max. 140 characters » (a payment's description allows 255).
    payment = paid_payment(mollie, simulator, "http://127.0.0.1:9/none")
    amount = {"currency": "EUR", "value": "1.00"}
    with pytest.raises(UnprocessableEntityError) as refused:
        payment.refunds.create({"amount": amount, "description": "x" * 141})
    assert refused.value.field == "description"
    assert payment.refunds.create({"amount": amount, "description": "x" * 140}).id


def test_a_refund_calls_no_webhook_until_it_reaches_the_customer(mollie, simulator, receiver):
    payment = paid_payment(mollie, simulator, receiver.url)
    refund = payment.refunds.create({"amount": {"currency": "EUR", "value": "2.30"}})
    assert receiver.bodies == [f"id={payment.id}"]  # the checkout's call only

    [settled] = simulator.settle_refunds(payment.id)

    assert settled.id == refund.id
    assert payment.refunds.get(refund.id).status == "refunded"
    assert receiver.bodies == [f"id={payment.id}"] * 2
    assert simulator.settle_refunds(payment.id) == []  # nothing left pending: no call
    assert len(receiver.bodies) == 2


def test_a_refund_sent_twice_with_one_idempotency_key_refunds_once(mollie, simulator):
    payment = paid_payment(mollie, simulator, "http://127.0.0.1:9/none")
    data = {"amount": {"currency": "EUR", "value": "2.30"}, "description": "Trop perçu"}

    first = payment.refunds.create(data, idempotency_key="refund-form-1")
    again = payment.refunds.create(data, idempotency_key="refund-form-1")

    assert again.id == first.id
    assert mollie.payments.get(payment.id).amount_refunded["value"] == "2.30"
    with pytest.raises(UnprocessableEntityError):
        payment.refunds.create({**data, "description": "Autre"}, idempotency_key="refund-form-1")


def test_a_chargeback_keeps_paid_and_shows_what_the_bank_took(mollie, simulator, receiver):
    payment = paid_payment(mollie, simulator, receiver.url)
    chargeback = simulator.add_chargeback(payment.id, 500)
    assert receiver.bodies == [f"id={payment.id}"] * 2
    seen = mollie.payments.get(payment.id)
    assert seen.status == "paid" and seen.has_chargebacks()
    assert seen.amount_chargedback == {"currency": "EUR", "value": "5.00"}
    assert seen.amount_remaining == {"currency": "EUR", "value": "7.30"}
    [listed] = seen.chargebacks.list()
    assert listed.id == chargeback.id and re.fullmatch(r"chb_[A-Za-z0-9]{10}", listed.id)
    assert listed.amount == {"currency": "EUR", "value": "5.00"}
    assert seen.chargebacks.get(chargeback.id).payment_id == payment.id


# Money


def test_money_never_goes_through_float(mollie, simulator, receiver):
    payment = paid_payment(mollie, simulator, receiver.url, "0.30")
    for _ in range(3):
        payment.refunds.create({"amount": {"currency": "EUR", "value": "0.10"}})
    seen = mollie.payments.get(payment.id)
    # with floats, 0.30 - 3 × 0.10 is -5.55e-17 and would print as "-0.00"
    assert seen.amount_refunded["value"] == "0.30"
    assert seen.amount_remaining["value"] == "0.00"
    with pytest.raises(UnprocessableEntityError):
        payment.refunds.create({"amount": {"currency": "EUR", "value": "0.01"}})
    documents = [seen, *seen.refunds.list()]
    assert floats_in([dict(document) for document in documents]) == []
    amounts = [seen.amount, seen.amount_refunded, seen.amount_remaining, seen.settlement_amount]
    amounts += [refund.settlement_amount for refund in seen.refunds.list()]
    assert all(TWO_DECIMALS.match(each["value"]) for each in amounts)


# Keys, outages and the controls


def test_a_wrong_api_key_is_unauthorized(running, receiver):
    with pytest.raises(UnauthorizedError) as refused:
        client_for(running.url, "test_not_this_one").payments.create(payment_data(receiver.url))
    assert refused.value.status == 401


def test_the_simulator_accepts_only_test_keys():
    with pytest.raises(ValueError, match="test_"):
        MollieSimulator(api_keys=("live_abcdefghijklmnop",))


def test_an_api_down_answers_503_until_it_is_back(mollie, simulator, receiver):
    payment = mollie.payments.create(payment_data(receiver.url))
    simulator.set_api_down(True)
    with pytest.raises(ResponseError) as down:
        mollie.payments.get(payment.id)
    assert down.value.status == 503
    simulator.set_api_down(False)
    assert mollie.payments.get(payment.id).status == "open"


def test_a_stopped_simulator_refuses_connections(receiver):
    running = start_simulator()
    mollie = client_for(running.url, KEY)
    payment = mollie.payments.create(payment_data(receiver.url))
    running.stop()
    with pytest.raises(RequestError, match="Unable to communicate with Mollie"):
        mollie.payments.get(payment.id)


def test_a_slow_api_makes_the_client_time_out(mollie, simulator, receiver):
    payment = mollie.payments.create(payment_data(receiver.url))
    simulator.set_api_delay(1.0)
    mollie.set_timeout((1, 0.2))
    with pytest.raises(RequestError, match="Unable to communicate with Mollie"):
        mollie.payments.get(payment.id)


def test_the_http_controls_drive_the_same_simulator(mollie, running, receiver):
    payment = paid_payment(mollie, running.simulator, receiver.url)
    controls = f"{running.url}/_sim"
    status, chargeback = post_json(
        f"{controls}/payments/{payment.id}/chargebacks",
        {"amount": {"currency": "EUR", "value": "1.00"}},
    )
    assert status == 201 and chargeback["id"].startswith("chb_")
    status, answer = post_json(f"{controls}/payments/{payment.id}/webhook", {"times": 3})
    assert [call["status_code"] for call in answer["calls"]] == [200] * 3
    assert len(receiver.bodies) == 1 + 1 + 3
    payment.refunds.create({"amount": {"currency": "EUR", "value": "1.00"}})
    status, settled = post_json(f"{controls}/payments/{payment.id}/refunds/settle", {})
    assert status == 200 and settled["_embedded"]["refunds"][0]["status"] == "refunded"
    assert len(receiver.bodies) == 1 + 1 + 3 + 1
    post_json(f"{controls}/payments/{payment.id}/status", {"status": "failed"})
    assert mollie.payments.get(payment.id).status == "failed"
    status, modes = post_json(f"{controls}/mode", {"apiDown": True, "webhooksSent": False})
    assert modes == {"apiDown": True, "webhooksSent": False, "apiDelaySeconds": 0.0}
    with pytest.raises(ResponseError):
        mollie.payments.get(payment.id)
    post_json(f"{controls}/mode", {"apiDown": False})
    assert mollie.payments.get(payment.id).amount_chargedback["value"] == "1.00"
    status, refused = post_json(f"{controls}/mode", {"apiDelaySeconds": "long"})
    assert (status, refused["field"]) == (422, "apiDelaySeconds")


def test_the_command_serves_a_simulator_on_its_own(receiver):
    command = [sys.executable, "-m", "mollie_simulator", "--port", "0", "--api-key", "test_cli"]
    command += ["--public-url", "http://localhost:8765"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        endpoint = re.search(r"MOLLIE_API_ENDPOINT=(\S+)", banner).group(1)
        payment = client_for(endpoint, "test_cli").payments.create(payment_data(receiver.url))
        assert payment.checkout_url == f"http://localhost:8765/checkout/{payment.id}"
        assert client_for(endpoint, "test_cli").payments.get(payment.id).id == payment.id
    finally:
        process.terminate()
        process.wait(timeout=10)
