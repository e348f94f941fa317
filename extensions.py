"""Unbound extensions, bound to the app in create_app (no app at import time), and the two
SQL helpers of the month page: read_rows and json_rows."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement

# Named constraints, so Alembic can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Plain declarative base shared by every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()


def read_rows(statement, params: dict):
    """The plain rows of a column-only SELECT on the session's connection (its transaction),
    without the ORM's per-statement work: for the month page's reads, which run on every
    view. Pending changes are flushed first, as the ORM's autoflush would."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement, params)


class json_rows(FunctionElement):
    """Aggregate: every row of the given columns as one JSON text (an array of arrays), on
    SQLite and PostgreSQL. The text holds the values themselves, so equal texts mean equal
    rows: the month page's cache keys on it (services.booking.month.month_key)."""

    type = Text()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element, compiler, **kw) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element, compiler, **kw) -> str:
    columns = compiler.process(element.clauses, **kw)
    return f"CAST(json_agg(json_build_array({columns})) AS TEXT)"
