"""What the ACCUEIL page shows, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from extensions import db
from models import Child, Family, Resource
from services import news, resources


@dataclass(frozen=True)
class WeekMenu:
    """« Menu de la semaine » on ACCUEIL: the file and the children it is for."""

    resource_id: int
    is_pdf: bool
    children: str  # "Tom", "Tom et Léa"


def overview(family: Family, today: date) -> dict:
    """The family's children (with their school), this week's menu of each of their schools
    and the news for this family (services.news): three queries and the schools' load."""
    children = db.session.scalars(
        select(Child)
        .where(Child.family_id == family.id)
        .options(selectinload(Child.school))
        .order_by(Child.birth_date)
    ).all()
    return {
        "children": children,
        "menus": week_menus(children, resources.week_menus(family, today)),
        "news": news.current_news(family, today),
    }


def week_menus(children: list[Child], menus: list[Resource]) -> list[WeekMenu]:
    """For each child in order, its school's menu, else the menu of every school; a menu
    two children share is shown once, naming both."""
    by_school = {menu.school_id: menu for menu in menus}
    shown: dict[int, tuple[Resource, list[str]]] = {}
    for child in children:
        menu = by_school.get(child.school_id) or by_school.get(None)
        if menu is not None:
            shown.setdefault(menu.id, (menu, []))[1].append(child.first_name)
    return [
        WeekMenu(menu.id, menu.content_type == "application/pdf", " et ".join(names))
        for menu, names in shown.values()
    ]
