"""Staff-only base views: every admin page, the index included, requires a staff session.

StaffModelView holds what every list shares: French labels and formats, columns hidden by
role, CSV cells safe from formula injection, and an audit event for every change.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata

from flask import abort, flash, has_request_context, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from wtforms.validators import ValidationError

from admin_views.fields import (
    DETAIL_FORMATTERS,
    EXPORT_FORMATTERS,
    LIST_FORMATTERS,
    StaffFilterConverter,
    StaffModelConverter,
    row_id,
)
from admin_views.labels import COLUMN_LABELS
from extensions import db
from models import (
    Alert,
    Booking,
    BookingStatus,
    ChangeRequest,
    Child,
    Document,
    DocumentStatus,
    Family,
    FamilyAccount,
    Invoice,
    Payment,
    Registration,
    StaffRole,
    StaffUser,
    utcnow,
)
from services import account_email, accounts, audit, invitations
from services.documents import HEALTH_TYPES
from services.formatting import plural

# Never shown to any staff member (SECURITY.md check 10): hashes, the lockout counter, and
# email bodies, which carry reset and invitation links.
SECRET_COLUMNS = frozenset(
    {"password_hash", "token_hash", "failed_logins", "body_text", "body_html"}
)
# A state with rules (STYLE.md): its services write it, recording who and when, telling the
# family and journaling it. No generic form writes these (tests/test_ruled_columns.py);
# staff decide through actions and the Demandes, Absences and Pointage screens.
RULED_COLUMNS = {
    Registration: frozenset({"status", "decided_at", "decided_by_id"}),
    Booking: frozenset(
        {"status", "attendance", "option", "requested_option", "is_walk_in", "refusal_reason"}
    ),
    Document: frozenset({"status", "reviewed_at", "reviewed_by_id"}),
    Alert: frozenset({"link", "details", "read_at"}),
    ChangeRequest: frozenset({"status", "decided_at", "decided_by_id"}),
    Invoice: frozenset({"status", "number", "issued_at", "total_cents"}),
    Payment: frozenset({"status", "refunded_cents", "mollie_id"}),
    # Disabled and enabled by the actions (invitations.disable_account): a disabled login
    # loses its sessions and remembered devices, which a ticked box would not do.
    FamilyAccount: frozenset({"is_enabled"}),
    StaffUser: frozenset({"is_enabled"}),
}
# A spreadsheet runs a cell starting with one of these as a formula (SECURITY.md check 15).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NEGATIVE_AMOUNT = re.compile(r"-\d+(?:,\d+)?")
BYTE_ORDER_MARK = "\ufeff"
# Past every list's end (50 million rows), and a page number whose OFFSET a query can hold.
LAST_PAGE = 1_000_000
DATABASE_REFUSED = (
    "La modification n'a pas été enregistrée : une valeur ne respecte pas les règles "
    "(montant positif, dates dans l'ordre, valeur déjà utilisée…). Vérifiez le formulaire."
)
BAD_SELECTION = "Sélection invalide : rechargez la liste et recommencez."

log = logging.getLogger(__name__)


def is_staff(roles: tuple[StaffRole, ...] = (StaffRole.ADMIN, StaffRole.AGENT)) -> bool:
    return (
        current_user.is_authenticated
        and getattr(current_user, "is_staff", False)
        and current_user.role in roles
    )


def is_admin() -> bool:
    """True for an admin's request; False outside a request (views are built at start-up)."""
    return has_request_context() and is_staff((StaffRole.ADMIN,))


def admin_only() -> property:
    """A permission (can_create, can_edit…) granted to the admin role only."""
    return property(lambda _view: is_admin())


def csv_safe(value):
    """A text cell that a spreadsheet would run as a formula, defused with a leading quote.
    A negative amount (« -5,00 ») is no formula: it stays a number the treasurer can add."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return value if NEGATIVE_AMOUNT.fullmatch(value) else "'" + value
    return value


def csv_text(rows: list[tuple]) -> str:
    """CSV as French Excel opens it with a double click: a byte order mark (without it,
    Excel reads UTF-8 as Windows-1252: « Ã© » for « é ») and semicolons between cells (its
    list separator, the comma being the decimal one: « 12,50 » stays one number). Every
    text cell is defused against formulas (SECURITY.md check 15)."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer, delimiter=";")
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
    return buffer.getvalue()


class StaffAccessMixin:
    """Flask-Admin's access hooks: staff of the listed roles only; families get a 404."""

    allowed_roles: tuple[StaffRole, ...] = (StaffRole.ADMIN, StaffRole.AGENT)

    def is_accessible(self) -> bool:
        return is_staff(self.allowed_roles)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(404)


def dashboard_counts(sees_health_documents: bool) -> dict[str, int]:
    """What the back office's home page counts, in one query; health documents only for
    the staff who may see them (as their list does)."""
    to_review = [Document.status == DocumentStatus.RECEIVED]
    if not sees_health_documents:
        to_review.append(Document.doc_type.notin_(HEALTH_TYPES))
    counts = {
        "families": select(func.count(Family.id)).where(Family.archived_at.is_(None)),
        "children": select(func.count(Child.id)),
        "pending_bookings": select(func.count(Booking.id)).where(
            Booking.status == BookingStatus.PENDING
        ),
        "documents_to_review": select(func.count(Document.id)).where(*to_review),
    }
    query = select(*(count.scalar_subquery().label(name) for name, count in counts.items()))
    return db.session.execute(query).one()._asdict()


class StaffIndexView(StaffAccessMixin, AdminIndexView):
    @expose("/")
    def index(self):
        counts = dashboard_counts(bool(current_user.sees_health_documents))
        return self.render("admin/index.html", counts=counts)


class _VisibleColumns:
    """One of ModelView's cached column lists, filtered per request by `hidden_columns()`."""

    def __set_name__(self, owner, name: str) -> None:
        self.attribute = f"_all{name}"

    def __get__(self, view, owner=None):
        if view is None:
            return self
        hidden = view.hidden_columns()
        return [column for column in getattr(view, self.attribute) if column[0] not in hidden]

    def __set__(self, view, columns) -> None:
        setattr(view, self.attribute, columns)


# A search of more words than this (a pasted paragraph) is cut to its first ones.
SEARCH_WORDS_KEPT = 8


class StaffModelView(StaffAccessMixin, ModelView):
    """Defaults every staff list shares; each area module declares its columns."""

    list_template = "admin/model/staff_list.html"
    page_size = 50
    can_set_page_size = True
    can_export = True
    can_view_details = True
    export_types = ["csv"]
    named_filter_urls = True
    column_labels = COLUMN_LABELS
    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    column_type_formatters_export = EXPORT_FORMATTERS
    model_form_converter = StaffModelConverter
    filter_converter = StaffFilterConverter()

    _list_columns = _VisibleColumns()
    _details_columns = _VisibleColumns()
    _export_columns = _VisibleColumns()

    def _apply_search(self, query, count_query, joins, count_joins, search: str):
        """Each word of a search is one more condition: past a few words SQLite refuses
        the statement ("Expression tree is too large"), so the first words are kept."""
        words = " ".join(search.split()[:SEARCH_WORDS_KEPT])
        return super()._apply_search(query, count_query, joins, count_joins, words)

    def get_filter_arg(self, index: int, flt) -> str:
        """`?flt0_ecole_contains=`: Flask-Admin drops accented letters (`cole_contains`)."""
        operation = flt.operation()
        # The untranslated operation, so a URL does not depend on the language.
        words = f"{flt.name} {getattr(operation, '_args', [operation])[0]}"
        ascii_words = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
        return "_".join(re.sub(r"[^a-z0-9 ]", "", ascii_words.lower()).split())

    def hidden_columns(self) -> frozenset[str]:
        """Secrets for everyone; health notes for every role but admin."""
        if is_admin():
            return SECRET_COLUMNS
        return SECRET_COLUMNS | audit.SENSITIVE_FIELDS

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), LAST_PAGE)
        return args

    def get_one(self, id):
        """None (Flask-Admin says the row does not exist) for an id no row can have."""
        return super().get_one(id) if row_id(id) is not None else None

    def handle_action(self, return_view=None):
        if any(row_id(value) is None for value in request.form.getlist("rowid")):
            flash(BAD_SELECTION, "error")
            return redirect(url_for(".index_view"))
        return super().handle_action(return_view)

    def handle_view_exception(self, exc: Exception) -> bool:
        """A change the database refused: a French message; neither its SQL on the screen
        nor its values (names, addresses) in the log."""
        if isinstance(exc, SQLAlchemyError):
            db.session.rollback()
            cause = type(getattr(exc, "orig", None) or exc).__name__
            log.warning("the database refused a change in %s (%s)", self.endpoint, cause)
            flash(DATABASE_REFUSED, "error")
            return True
        return super().handle_view_exception(exc)

    def create_form(self, obj=None):
        return self._without_hidden(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._without_hidden(super().edit_form(obj))

    def _without_hidden(self, form):
        # A removed field is neither shown nor read from the POST: it cannot be written.
        ruled = RULED_COLUMNS.get(self.model, frozenset())
        for name in (self.hidden_columns() | ruled) & set(form._fields):
            del form[name]
        return form

    def get_export_value(self, model, name):
        return csv_safe(super().get_export_value(model, name))

    def _export_csv(self, return_url):
        """The whole CSV written before the view returns.

        Flask-Admin streams the rows after the view has returned, once the request's
        database session is closed: a relation not loaded yet (a family's guardians) then
        fails after the 200 and the download stops short. Its rows are in memory already.
        """
        response = super()._export_csv(return_url)
        response.make_sequence()
        # Written again as French Excel opens it (csv_text); cells are defused already.
        rows = csv.reader(io.StringIO(response.get_data(as_text=True)))
        response.set_data(csv_text(rows))
        return response

    def on_model_change(self, form, model, is_created) -> None:
        audit.record_change(current_user, model, is_created, request.remote_addr)

    def on_model_delete(self, model) -> None:
        audit.record_deletion(current_user, model, request.remote_addr)


def decide_rows(model, ids, decide, refused: type[Exception], done: tuple[str, str]) -> None:
    """`decide(row)` (a committing service) on each checked row; a row the rules refuse is
    reported with its French message and leaves the others."""
    rows = db.session.scalars(select(model).where(model.id.in_([row_id(i) for i in ids])))
    count = 0
    for row in rows.all():
        try:
            decide(row)
        except refused as error:
            db.session.rollback()
            flash(f"Non traité (n° {row.id}) : {error.message}", "error")
        else:
            count += 1
    if count:
        flash(f"{plural(count, *done)}.", "success")


class ReadOnlyView(StaffModelView):
    """Written elsewhere (the services, or families for their requests); only read here."""

    can_create = False
    can_edit = False
    can_delete = False


class LoginAccountMixin:
    """Logins share one namespace; no password is ever set here (invitation links do it).

    Bulk actions: send the invitation (a single-use link to choose a password), disable
    (sessions end at once), enable. Each is journaled with the agent and the address.
    """

    def is_action_allowed(self, name: str) -> bool:
        return self.can_edit and super().is_action_allowed(name)

    @action("invite", "Envoyer l'invitation", "Envoyer un lien d'invitation (valable 72 h) ?")
    def action_invite(self, ids):
        self._on_accounts(
            ids,
            "invite",
            lambda account, now: invitations.send_invitation(
                account, now, current_user, request.remote_addr
            ),
            "Invitation envoyée",
        )

    @action("disable", "Désactiver", "Désactiver ces comptes ? Leurs sessions s'arrêtent.")
    def action_disable(self, ids):
        self._on_accounts(ids, "disable", invitations.disable_account, "Compte désactivé")

    @action("enable", "Réactiver")
    def action_enable(self, ids):
        self._on_accounts(
            ids,
            "enable",
            lambda account, _now: invitations.enable_account(account),
            "Compte réactivé",
        )

    def _on_accounts(self, ids, name: str, service, done: str) -> None:
        accounts_found = db.session.scalars(
            select(self.model).where(self.model.id.in_([int(i) for i in ids]))
        ).all()
        for account in accounts_found:
            try:
                with audit.journaled(
                    account, name, ("is_enabled",), current_user, request.remote_addr
                ):
                    service(account, utcnow())
            except invitations.InvitationImpossible as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                flash(f"{done} : {account.username}.", "success")

    def on_model_change(self, form, model, is_created) -> None:
        model.username = model.username.strip()
        if accounts.login_taken(model):
            raise ValidationError("Cet identifiant est déjà utilisé par un autre compte.")
        super().on_model_change(form, model, is_created)
        if not is_created:
            account_email.staff_changed_address(model, current_user, request.remote_addr, utcnow())
