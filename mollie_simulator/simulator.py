"""The simulator's memory, the changes Mollie makes to it, and the controls tests use.

Rules, as Mollie's API v2 behaves (the part a payment integration meets):
- a payment is created `open`, expires 15 minutes later, and only an open payment can be
  chosen at the checkout or canceled;
- refunds need a `paid` payment and at most its remaining amount; chargebacks keep the
  status `paid` and lower the remaining amount too;
- Mollie calls the webhook when the customer's choice or a chargeback changes a payment,
  or when a refund reaches the customer (`settle_refunds`: pending → refunded), never at
  once for a change the merchant made through the API (a cancel, a new refund);
- every change holds one lock, so the threaded server never tears a payment; a webhook is
  always sent after the lock is released, since the receiver fetches the payment back.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mollie_simulator.errors import ApiError
from mollie_simulator.payments import (
    CHECKOUT_CHOICES,
    STATUSES,
    TIMESTAMPED,
    Chargeback,
    NewPayment,
    Payment,
    Refund,
    new_id,
)
from mollie_simulator.webhooks import Poster, WebhookCall, post_webhook, post_webhooks_at_once

EXPIRY = timedelta(minutes=15)
CHARGEBACK_REASON = {"code": "MD06", "description": "Disputed authorized transaction"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class MollieSimulator:
    """One simulated Mollie account, held in memory."""

    def __init__(
        self,
        api_keys: tuple[str, ...] = ("test_simulator",),
        clock: Callable[[], datetime] = utc_now,
        webhook_timeout: float = 2.0,
        post: Poster = post_webhook,
    ) -> None:
        """post: how a webhook goes out; an app test served by Flask's test client (no
        port) passes one that calls it, instead of a real HTTP POST."""
        if not api_keys or any(not key.startswith("test_") for key in api_keys):
            raise ValueError("The Mollie simulator only accepts test_ API keys.")
        self.api_keys = frozenset(api_keys)
        self.clock = clock
        self.webhook_timeout = webhook_timeout
        self.post = post
        # test controls: see set_api_down, set_webhooks_sent, set_api_delay
        self.api_down = False
        self.webhooks_sent = True
        self.api_delay_seconds = 0.0
        self.webhook_calls: list[WebhookCall] = []
        # the JSON bodies of the payments created, as the client sent them
        self.payment_requests: list[dict] = []
        self.lock = threading.RLock()
        self._payments: dict[str, Payment] = {}
        self._answers: dict[tuple, tuple[bytes, object]] = {}

    # The API's changes, each returning a snapshot taken under the lock.

    def create_payment(self, wanted: NewPayment, body: dict | None = None) -> Payment:
        """A new open payment; `body`, the request as sent, is kept in payment_requests."""
        now = self.clock()
        payment = Payment(new_id("tr_"), wanted, created_at=now, expires_at=now + EXPIRY)
        with self.lock:
            self._payments[payment.id] = payment
            if body is not None:
                self.payment_requests.append(copy.deepcopy(body))
            return copy.deepcopy(payment)

    def payment(self, payment_id: str) -> Payment:
        with self.lock:
            return copy.deepcopy(self._known(payment_id))

    def cancel(self, payment_id: str) -> Payment:
        with self.lock:
            payment = self._known(payment_id)
            if payment.status != "open":
                raise ApiError(422, "The payment cannot be canceled.")
            self._move(payment, "canceled")
            return copy.deepcopy(payment)

    def refund(self, payment_id: str, cents: int, description: str, metadata: object) -> Refund:
        with self.lock:
            payment = self._known(payment_id)
            if payment.status != "paid":
                raise ApiError(422, "The payment has not been paid, so it cannot be refunded.")
            if cents > payment.remaining_cents:
                raise ApiError(422, "The amount is higher than the amount remaining.", "amount")
            refund = Refund(new_id("re_"), payment_id, cents, description, metadata, self.clock())
            payment.refunds.append(refund)
            return copy.deepcopy(refund)

    def answer_once(self, request_key: tuple, body: bytes, make_answer: Callable[[], object]):
        """Idempotency: the same key and body get the first answer again (True if replayed);
        the same key with another body is refused, as Mollie does."""
        with self.lock:
            if request_key in self._answers:
                first_body, answer = self._answers[request_key]
                if first_body != body:
                    raise ApiError(422, "The Idempotency-Key was already used for another request.")
                return answer, True
            answer = make_answer()
            self._answers[request_key] = (body, answer)
            return answer, False

    # The customer's choice at the hosted checkout.

    def choose(self, payment_id: str, status: str) -> Payment:
        """The customer's choice; Mollie then calls the webhook (unless switched off)."""
        if status not in CHECKOUT_CHOICES:
            raise ApiError(422, f"Unknown checkout choice {status!r}.", "status")
        with self.lock:
            payment = self._known(payment_id)
            if payment.status != "open":
                raise ApiError(409, "The payment is no longer open.")
            payment.method = None if status in ("canceled", "expired") else "creditcard"
            self._move(payment, status)
            chosen = copy.deepcopy(payment)
        self._notify(chosen)
        return chosen

    # Controls for tests (also reachable over HTTP under /_sim/).

    def set_status(self, payment_id: str, status: str) -> Payment:
        """Force a status, e.g. a stale `expired` after `paid`; no webhook is sent."""
        if status not in STATUSES:
            raise ApiError(422, f"Unknown payment status {status!r}.", "status")
        with self.lock:
            payment = self._known(payment_id)
            self._move(payment, status)
            return copy.deepcopy(payment)

    def set_amount(self, payment_id: str, cents: int, currency: str = "EUR") -> Payment:
        """Report another amount or currency than the one asked (a mix-up, a tampered
        payment), to test that the app checks what it is told; no webhook is sent."""
        with self.lock:
            payment = self._known(payment_id)
            payment.request = dataclasses.replace(payment.request, cents=cents, currency=currency)
            return copy.deepcopy(payment)

    def add_chargeback(self, payment_id: str, cents: int | None = None) -> Chargeback:
        """The bank takes money back (the whole payment unless cents says less); the
        status stays `paid` and Mollie calls the webhook."""
        with self.lock:
            payment = self._known(payment_id)
            if payment.status != "paid":
                raise ApiError(422, "Only a paid payment can be charged back.")
            cents = payment.remaining_cents if cents is None else cents
            if not 0 < cents <= payment.remaining_cents:
                raise ApiError(422, "The chargeback is more than the amount remaining.", "amount")
            chargeback = Chargeback(
                new_id("chb_"), payment_id, cents, self.clock(), dict(CHARGEBACK_REASON)
            )
            payment.chargebacks.append(chargeback)
            snapshot = copy.deepcopy(payment)
        self._notify(snapshot)
        return copy.deepcopy(chargeback)

    def settle_refunds(self, payment_id: str) -> list[Refund]:
        """The payment's pending refunds reach the customer (`refunded`); Mollie then calls
        the webhook, as it does when a refund's status changes. The refunds settled."""
        with self.lock:
            payment = self._known(payment_id)
            settled = [refund for refund in payment.refunds if refund.status == "pending"]
            for refund in settled:
                refund.status = "refunded"
            snapshot = copy.deepcopy(payment)
        if settled:
            self._notify(snapshot)
        return copy.deepcopy(settled)

    def send_webhook(self, payment_id: str, times: int = 1) -> list[WebhookCall]:
        """Call the payment's webhook now, `times` times at once; sent even when automatic
        webhooks are switched off (it is the test asking). No webhookUrl: no call."""
        url = self.payment(payment_id).request.webhook_url
        if url is None:
            return []
        if times == 1:
            calls = [self.post(url, payment_id, self.webhook_timeout)]
        else:
            calls = post_webhooks_at_once(self.post, url, payment_id, times, self.webhook_timeout)
        with self.lock:
            self.webhook_calls.extend(calls)
        return calls

    def set_api_down(self, down: bool) -> None:
        """The API answers 503 to every request (the checkout keeps working)."""
        self.api_down = down

    def set_webhooks_sent(self, sent: bool) -> None:
        """False: the checkout and chargebacks never call the webhook, as when Mollie's
        calls get lost; the app must reconcile on its own."""
        self.webhooks_sent = sent

    def set_api_delay(self, seconds: float) -> None:
        """Every API request waits this long first, to test the app's timeouts."""
        self.api_delay_seconds = seconds

    # Internals.

    def _known(self, payment_id: str) -> Payment:
        payment = self._payments.get(payment_id)
        if payment is None:
            raise ApiError(404, f"No payment exists with token {payment_id}.")
        return payment

    def _move(self, payment: Payment, status: str) -> None:
        payment.status = status
        payment.status_at = self.clock() if status in TIMESTAMPED else None

    def _notify(self, payment: Payment) -> None:
        if self.webhooks_sent and payment.request.webhook_url:
            self.send_webhook(payment.id)
