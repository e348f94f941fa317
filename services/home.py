"""What the ACCUEIL page shows, in a fixed number of queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from extensions import db
from models import Child, Family, NewsItem

LATEST_NEWS = 5


def overview(family: Family) -> dict:
    """The family's children (with their school) and the latest published news."""
    children = db.session.scalars(
        select(Child)
        .where(Child.family_id == family.id)
        .options(selectinload(Child.school))
        .order_by(Child.birth_date)
    ).all()
    news = db.session.scalars(
        select(NewsItem)
        .where(NewsItem.is_published.is_(True))
        .order_by(NewsItem.published_on.desc(), NewsItem.id.desc())
        .limit(LATEST_NEWS)
    ).all()
    return {"children": children, "news": news}
