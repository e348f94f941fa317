"""SECURITY.md check 6 on PostgreSQL: one remembered cookie sent by several requests at once
(a phone opening tabs) restores one session; the others are refused without ending the device."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import AuthSession, RememberedDevice
from services import remembered_devices

pytestmark = pytest.mark.postgres_only

NOW = datetime(2026, 11, 26, 8, 0)
RACERS = 8


def test_one_cookie_sent_at_once_by_several_requests_restores_one_session(app, race_app, family):
    cookie = remembered_devices.open_remembered_session(family.accounts[0], NOW, "", "")
    later = NOW + timedelta(hours=13)
    start = threading.Barrier(RACERS)

    def restore(_racer: int) -> str:
        with race_app.app_context():
            start.wait(timeout=30)
            try:
                remembered_devices.restore_session(cookie.value, later, "")
            except remembered_devices.DeviceNotRemembered as refused:
                return "kept" if refused.keep_cookie else "deleted"
            return "restored"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = sorted(pool.map(restore, range(RACERS)))

    assert outcomes == ["kept"] * (RACERS - 1) + ["restored"]
    db.session.expire_all()
    device = db.session.scalar(select(RememberedDevice))
    assert device.revoked_at is None
    sessions = select(func.count(AuthSession.id)).where(
        AuthSession.remembered_device_id == device.id
    )
    assert db.session.scalar(sessions) == 2  # the sign-in's and the one restore's
