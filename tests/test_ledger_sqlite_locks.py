"""On SQLite (the embedded default, `make run`), FOR UPDATE is dropped: the ledger's lock
takes SQLite's write lock instead, so that two agents, or a payment and an agent, deciding
on the same invoice decide one after the other (found in review)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from app import create_app
from extensions import db
from services import ledger
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.payments_world import issued_invoice

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's own lock: the SQLite pass")


def test_an_invoice_locked_by_one_agent_makes_the_other_wait_on_sqlite(tmp_path):
    settings = {
        "APP_ENV": "test",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.2}},
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    first, second = create_app(settings), create_app(settings)
    with first.app_context():
        db.create_all()
        family = factories.family_with_children(first, "famille.sqlite", children=1)
        invoice_id = issued_invoice(family, 9, 4800).id
        ledger.lock_invoices([invoice_id])  # the first agent decides, not committed yet
        with second.app_context():
            with pytest.raises(OperationalError, match="locked"):
                ledger.lock_invoices([invoice_id])
            db.session.rollback()
            db.engine.dispose()
        db.session.rollback()
        db.engine.dispose()
