"""Time the monthly billing run (issue 9's target: 3,000 children in 10 s at most).

    .venv/bin/python bench/billing_run.py [--runs 3] [--children 3000] [--postgres]

For each run, a fresh SQLite file (or the test PostgreSQL) gets a generated commune: four
schools, a canteen and two childcare activities with three quotient brackets, about 1,900
families of 1 to 3 children, and every child's bookings of November 2026 on the days its
school is open (the canteen four days a week; morning and evening care for some; a few
cancellations, absences and walk-ins), written with bulk inserts. Then
`billing.preview_month` and `billing.run_billing` are timed on it; the medians are
printed, with the same two timings on the demo data.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from demo import load_demo_data  # noqa: E402
from extensions import db  # noqa: E402
from models import (  # noqa: E402
    Activity,
    ActivityOption,
    Attendance,
    Booking,
    BookingStatus,
    Child,
    Family,
    FamilyAccount,
    Guardian,
    Invoice,
    School,
    SchoolYear,
    Tariff,
)
from services import billing  # noqa: E402
from services.calendar import Calendar, month_bounds  # noqa: E402

MONTH = date(2026, 11, 1)
RUN_AT = datetime(2026, 12, 1, 7, 0)
BRACKETS = ((0, 700), (701, 1200), (1201, 999999))
ACTIVITIES = (
    ("canteen", "Restaurant scolaire", ("standard", "sans-viande"), (100, 290, 420), 600),
    ("care_morning", "Accueil du matin", ("matin",), (150, 200, 250), 400),
    ("care_evening", "Accueil du soir", ("17h30", "18h45"), (200, 280, 340), 500),
)


def build_app(workdir: Path, postgres: bool):
    if postgres:
        from tests.services_pg import start_postgres

        url = start_postgres()
    else:
        url = f"sqlite:///{workdir / 'billing.db'}"
    app = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_FOLDER": str(workdir / "uploads"),
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _bulk(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model.__table__), rows)


def _structure() -> tuple[list[School], dict[str, tuple[int, list[int]]]]:
    schools = [School(name=f"École n° {n}", class_weekdays="1,2,4,5") for n in range(1, 5)]
    db.session.add_all(schools)
    db.session.add(
        SchoolYear(label="2026-2027", starts_on=date(2026, 9, 1), ends_on=date(2027, 7, 3))
    )
    activities = {}
    for order, (code, name, options, prices, walk_in) in enumerate(ACTIVITIES, start=1):
        activity = Activity(code=code, name=name, sort_order=order, is_childcare=code != "canteen")
        for index, option in enumerate(options):
            activity.options.append(ActivityOption(code=option, label=option, is_default=not index))
        db.session.add(activity)
        for (low, high), cents in zip(BRACKETS, prices, strict=True):
            db.session.add(
                Tariff(
                    activity=activity,
                    qf_min=low,
                    qf_max=high,
                    unit_price_cents=cents,
                    walk_in_price_cents=walk_in,
                    valid_from=date(2026, 9, 1),
                )
            )
        activities[code] = activity
    db.session.flush()
    ids = {code: (a.id, [o.id for o in a.options]) for code, a in activities.items()}
    return schools, ids


def _families(children: int, rng: random.Random) -> tuple[list[int], list[int]]:
    """The families (ids, and how many children each will have: 1 to 3)."""
    sizes = []
    while sum(sizes) < children:
        sizes.append(min(rng.choice((1, 1, 2, 2, 2, 3)), children - sum(sizes)))
    _bulk(
        Family,
        [
            {
                "name": f"Famille {n:05d}",
                "quotient_familial": rng.choice((None, *range(300, 2000, 37))),
            }
            for n in range(len(sizes))
        ],
    )
    family_ids = list(db.session.scalars(select(Family.id).order_by(Family.id)))
    _bulk(
        FamilyAccount,
        [
            {"family_id": f, "username": f"famille.{f}", "email": f"f{f}@example.org"}
            for f in family_ids
        ],
    )
    _bulk(
        Guardian,
        [{"family_id": f, "first_name": "Parent", "last_name": f"{f}", "email": f"g{f}@example.org"}
         for f in family_ids],
    )  # fmt: skip
    return family_ids, sizes


def _children(family_ids, sizes, schools, rng) -> list:
    rows = []
    for family_id, size in zip(family_ids, sizes, strict=True):
        school = rng.choice(schools)
        for n in range(size):
            rows.append(
                {
                    "family_id": family_id,
                    "first_name": f"Enfant{n + 1}",
                    "last_name": f"{family_id}",
                    "birth_date": date(2016 + n, 1 + n, 10),
                    "school_id": school.id,
                }
            )
    _bulk(Child, rows)
    return db.session.execute(select(Child.id, Child.school_id)).all()


def _bookings(children, schools, ids, rng) -> int:
    first, last = month_bounds(MONTH)
    calendar = Calendar.load(first, last)
    open_days = {s.id: [d.day for d in calendar.days(s, first, last) if d.is_open] for s in schools}
    rows = []
    for child_id, school_id in children:
        plan = [("canteen", {1, 2, 4, 5})]
        if rng.random() < 0.4:
            plan.append(("care_morning", set(rng.sample((1, 2, 4, 5), 2))))
        if rng.random() < 0.4:
            plan.append(("care_evening", set(rng.sample((1, 2, 4, 5), 2))))
        for code, weekdays in plan:
            activity_id, options = ids[code]
            option_id = rng.choice(options)
            for day in open_days[school_id]:
                if day.isoweekday() in weekdays:
                    rows.append(_booking(child_id, activity_id, option_id, school_id, day, rng))
    _bulk(Booking, rows)
    return len(rows)


def _booking(child_id, activity_id, option_id, school_id, day, rng) -> dict:
    draw = rng.random()
    status, attendance, walk_in = BookingStatus.REGISTERED, Attendance.PRESENT, False
    if draw < 0.03:
        status, attendance = BookingStatus.CANCELLED, None
    elif draw < 0.05:
        attendance = Attendance.ABSENT_JUSTIFIED
    elif draw < 0.06:
        attendance = Attendance.ABSENT_UNJUSTIFIED
    elif draw < 0.065:
        walk_in = True
    return {
        "child_id": child_id,
        "activity_id": activity_id,
        "school_id": school_id,
        "day": day,
        "option_id": option_id,
        "status": status,
        "attendance": attendance,
        "is_walk_in": walk_in,
        "requested_at": datetime(2026, 10, 5, 18),
        "updated_at": datetime(2026, 10, 5, 18),
        "created_at": datetime(2026, 10, 5, 18),
    }


def generate(children: int, seed: int = 2026) -> dict[str, int]:
    """The commune of the module docstring, committed; what it holds."""
    rng = random.Random(seed)
    schools, ids = _structure()
    family_ids, sizes = _families(children, rng)
    child_rows = _children(family_ids, sizes, schools, rng)
    bookings = _bookings(child_rows, schools, ids, rng)
    db.session.commit()
    return {"families": len(family_ids), "children": len(child_rows), "bookings": bookings}


CPU = {}  # the process's CPU seconds of the last timed action, by label


def timed(action, label: str = "") -> tuple[float, object]:
    """Wall-clock seconds of `action()` and its result; its CPU seconds go to CPU[label]
    (on a loaded machine, the wall clock waits for other processes; the CPU time does not)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = action()
    CPU[label] = time.process_time() - cpu
    return time.perf_counter() - start, result


def one_run(children: int, postgres: bool) -> tuple[float, float, dict, int]:
    with tempfile.TemporaryDirectory() as workdir:
        app = build_app(Path(workdir), postgres)
        with app.app_context():
            size = generate(children)
            db.session.remove()
            preview_s, preview = timed(lambda: billing.preview_month(MONTH, RUN_AT), "preview")
            db.session.remove()
            run_s, report = timed(lambda: billing.run_billing(MONTH, RUN_AT), "run")
            assert report.issued == len(preview.to_issue)
            assert db.session.scalar(select(func.count(Invoice.id))) == report.issued
            db.engine.dispose()
    return preview_s, run_s, size, report.issued


def demo_run(postgres: bool) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as workdir:
        app = build_app(Path(workdir), postgres)
        with app.app_context():
            load_demo_data(date(2026, 11, 30))
            db.session.remove()
            preview_s, _ = timed(lambda: billing.preview_month(MONTH, RUN_AT))
            run_s, report = timed(lambda: billing.run_billing(MONTH, RUN_AT))
            db.engine.dispose()
    return preview_s, run_s, report.issued


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--children", type=int, default=3000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    previews, runs, cpu_runs = [], [], []
    for number in range(1, args.runs + 1):
        preview_s, run_s, size, issued = one_run(args.children, args.postgres)
        previews.append(preview_s)
        runs.append(run_s)
        cpu_runs.append(CPU["run"])
        print(
            f"run {number}: {size['children']} children, {size['families']} families, "
            f"{size['bookings']} bookings -> preview {preview_s:.2f} s, "
            f"run {run_s:.2f} s ({CPU['run']:.2f} s CPU; {issued} invoices)"
        )
    print(
        f"median of {args.runs}: preview {statistics.median(previews):.2f} s, "
        f"billing run {statistics.median(runs):.2f} s, "
        f"{statistics.median(cpu_runs):.2f} s CPU (target: 10 s)"
    )
    preview_s, run_s, issued = demo_run(args.postgres)
    print(f"demo, November 2026: preview {preview_s * 1000:.0f} ms, run {run_s * 1000:.0f} ms "
          f"({issued} invoices)")  # fmt: skip


if __name__ == "__main__":
    main()
