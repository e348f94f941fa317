"""The commune's news on ACCUEIL: who sees an item, when, and how its text is shown.

An item is shown while it is published and `published_on` ≤ today ≤ `ends_on` (no end: until
unpublished). Its audience is everyone (no school, no activity), the families with a child
at its school, or the families with a child registered to its activity (registration
accepted, or its cancellation only asked); an item naming both needs both. The body is
simple formatting (Markdown: paragraphs, **bold**, *italic*, lists, links) turned into HTML
and then sanitised to an allow-list: no script, no event handler, no `javascript:` link, and
every link opens without handing the portal's page to the site it leads to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import markdown
import nh3
from markupsafe import Markup
from sqlalchemy import or_, select

from extensions import db
from models import Child, Family, NewsItem, Registration, RegistrationStatus, SchoolYear

LATEST = 5
TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
REGISTERED = (RegistrationStatus.ACCEPTED, RegistrationStatus.CANCEL_REQUESTED)
WINDOW_REFUSED = "La date de fin doit être le jour de publication ou un jour après."


@dataclass(frozen=True)
class ShownNews:
    """An item as ACCUEIL shows it: its body already safe HTML."""

    id: int
    title: str
    published_on: date
    body_html: Markup


def body_html(text: str) -> Markup:
    """The body's formatting as HTML that carries nothing a browser would run."""
    html = markdown.markdown(text or "", output_format="html")
    safe = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(safe)  # noqa: S704 (sanitised by nh3 to the allow-list just above)


def window_error(published_on: date | None, ends_on: date | None) -> str | None:
    """The French message when the window ends before it starts; None when it is in order."""
    if published_on and ends_on and ends_on < published_on:
        return WINDOW_REFUSED
    return None


def current_news(family: Family, today: date, limit: int = LATEST) -> list[ShownNews]:
    """This family's current items, newest first; one query whatever the data."""
    children = select(Child.id).where(Child.family_id == family.id)
    schools = select(Child.school_id).where(Child.family_id == family.id)
    # Registered this school year or the next: a registration of years ago reaches nothing.
    years = select(SchoolYear.id).where(SchoolYear.ends_on >= today)
    activities = select(Registration.activity_id).where(
        Registration.child_id.in_(children),
        Registration.status.in_(REGISTERED),
        Registration.school_year_id.in_(years),
    )
    items = db.session.scalars(
        select(NewsItem)
        .where(
            NewsItem.is_published.is_(True),
            NewsItem.published_on <= today,
            or_(NewsItem.ends_on.is_(None), NewsItem.ends_on >= today),
            or_(NewsItem.school_id.is_(None), NewsItem.school_id.in_(schools)),
            or_(NewsItem.activity_id.is_(None), NewsItem.activity_id.in_(activities)),
        )
        .order_by(NewsItem.published_on.desc(), NewsItem.id.desc())
        .limit(limit)
    ).all()
    return [ShownNews(i.id, i.title, i.published_on, body_html(i.body)) for i in items]
