"""The demo: invented families, staff and a school year, for `flask seed-demo`, the browser
tests, the benchmarks and the screenshots. Never loaded in production.

- `data`: the invented records (people, activities, prices, what each child books);
- `load`: puts them in the database through the services' rules (closed days, tariffs,
  booking rows), in one transaction.
"""

from demo.data import DEMO_LOGINS, FAMILY_PASSWORD, STAFF_PASSWORD, DemoLogin
from demo.load import Demo, has_families, load_demo_data

__all__ = [
    "DEMO_LOGINS",
    "FAMILY_PASSWORD",
    "STAFF_PASSWORD",
    "Demo",
    "DemoLogin",
    "has_families",
    "load_demo_data",
]
