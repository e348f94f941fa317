"""The journal (SECURITY.md check 30): who changed what, when, from where.

An event joins the caller's transaction: it commits with the change it describes, or
rolls back with it. Changes are `{field: [old, new]}` keyed by column name; secrets are
never written, sensitive values (health) are recorded as changed but masked.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import MANYTOONE

from extensions import db
from models import AuditEvent, StaffUser

# Never in the journal, not even as "changed".
SECRET_FIELDS = frozenset({"password_hash", "token_hash"})
# Recorded as changed, values masked: the journal is readable by every agent.
SENSITIVE_FIELDS = frozenset({"health_note", "allergies"})
MASK = "(masqué)"
# An old value that was never loaded (the object was expired): read from the database.
_UNKNOWN = object()


def changes_of(obj: Any) -> dict[str, list]:
    """`{column: [old, new]}` for what changed on `obj` and is not flushed yet."""
    state = inspect(obj)
    changes = dict(_column_changes(state))
    # A form sets `child.school`; `school_id` only follows at flush, so read the relationship.
    changes.update(_relationship_changes(state))
    if any(old is _UNKNOWN for old, _new in changes.values()):
        stored = _stored_values(state)
        changes = {
            field: [stored[field] if old is _UNKNOWN else old, new]
            for field, (old, new) in changes.items()
        }
    return _cleaned({field: values for field, values in changes.items() if values[0] != values[1]})


def snapshot_of(obj: Any) -> dict[str, list]:
    """`{column: [value, None]}`: what a deletion takes away."""
    state = inspect(obj)
    values = {attr.key: state.attrs[attr.key].value for attr in state.mapper.column_attrs}
    return _cleaned({field: [value, None] for field, value in values.items()})


def record(actor: StaffUser, action: str, obj: Any, changes: dict, ip: str | None) -> AuditEvent:
    """Add one event to the current transaction (flushing first if `obj` has no id yet).
    Secrets are dropped and health values masked here too, whoever built `changes`."""
    if inspect(obj).identity is None:
        db.session.flush()
    event = AuditEvent(
        staff_user_id=actor.id,
        actor=actor.username,
        action=action,
        entity=type(obj).__name__,
        entity_id=",".join(str(part) for part in inspect(obj).identity),
        changes=json.dumps(_cleaned(changes), ensure_ascii=False, default=_plain),
        ip=ip or "",
    )
    db.session.add(event)
    return event


def masked(changes: str) -> str:
    """A journal entry's changes with every value masked, the fields kept."""
    try:
        fields = json.loads(changes or "{}")
    except ValueError:
        return json.dumps(MASK)
    if not isinstance(fields, dict):
        return json.dumps(MASK)
    return json.dumps({field: [MASK, MASK] for field in fields}, ensure_ascii=False)


def record_change(actor: StaffUser, obj: Any, created: bool, ip: str | None) -> AuditEvent | None:
    """Journal a creation, or an update that changed something (call before the flush)."""
    changes = changes_of(obj)
    if not created and not changes:
        return None
    return record(actor, "create" if created else "update", obj, changes, ip)


def record_deletion(actor: StaffUser, obj: Any, ip: str | None) -> AuditEvent:
    return record(actor, "delete", obj, snapshot_of(obj), ip)


def replaced_values(obj: Any, field: str, since: datetime | None) -> list:
    """The values of `field` that staff edits replaced on `obj` since `since`, oldest first."""
    query = select(AuditEvent.changes).where(
        AuditEvent.entity == type(obj).__name__,
        AuditEvent.entity_id == ",".join(str(part) for part in inspect(obj).identity),
        AuditEvent.action == "update",
    )
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    changes = (json.loads(text) for text in db.session.scalars(query.order_by(AuditEvent.id)))
    return [change[field][0] for change in changes if field in change]


def _column_changes(state):
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.has_changes():
            yield attr.key, [_old(state, history.deleted), _first(history.added)]


def _relationship_changes(state):
    for relation in state.mapper.relationships:
        history = state.attrs[relation.key].history
        if relation.direction is MANYTOONE and history.has_changes():
            (column,) = relation.local_columns
            old = _old(state, [_identity(related) for related in history.deleted])
            yield column.key, [old, _identity(_first(history.added))]


def _old(state, deleted) -> Any:
    """The value before the change: None for a new row, _UNKNOWN if it was never loaded."""
    if deleted:
        return deleted[0]
    return None if state.key is None else _UNKNOWN


def _stored_values(state) -> dict[str, Any]:
    """The row as the database holds it, this object's pending changes not flushed."""
    attrs = state.mapper.column_attrs
    keys = zip(state.mapper.primary_key, state.identity, strict=True)
    query = select(*(attr.columns[0] for attr in attrs)).where(
        *(column == value for column, value in keys)
    )
    with db.session.no_autoflush:
        row = db.session.execute(query).one()
    return {attr.key: value for attr, value in zip(attrs, row, strict=True)}


def _cleaned(changes: dict[str, list]) -> dict[str, list]:
    return {
        field: [MASK, MASK] if field in SENSITIVE_FIELDS else values
        for field, values in changes.items()
        if field not in SECRET_FIELDS
    }


def _first(values) -> Any:
    return values[0] if values else None


def _identity(related: Any) -> Any:
    return None if related is None else inspect(related).identity[0]


def _plain(value: Any) -> str:
    """JSON for what json cannot write itself: dates and times in ISO 8601."""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fields_of(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The values of `fields` now: what `record_since` compares with later."""
    return {name: getattr(obj, name) for name in fields}


def record_since(
    actor: StaffUser, action: str, obj: Any, before: dict[str, Any], ip: str | None
) -> AuditEvent:
    """Journal what changed on `obj` since `before` (fields_of), in the current transaction."""
    after = fields_of(obj, tuple(before))
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    return record(actor, action, obj, changes, ip)


@contextmanager
def journaled(obj: Any, action: str, fields: tuple[str, ...], actor: StaffUser, ip: str | None):
    """Journal what a committing service does to `obj`'s `fields`, in the transaction it commits.

    The event is added just before the service's commit, so it is written with the change
    or rolled back with it (a refused action leaves no event).
    """
    before = fields_of(obj, fields)
    session = db.session()

    def add_event(_session) -> None:
        record_since(actor, action, obj, before, ip)

    event.listen(session, "before_commit", add_event)
    try:
        yield
    finally:
        event.remove(session, "before_commit", add_event)
