"""MES RÉSERVATIONS: each child's month, a day's actions, many days at once, absences.

`routes` parse and call services.booking; `forms` are the WTForms; `pages` turn what the
services answer into what the templates show.
"""

from blueprints.bookings.routes import bp

__all__ = ["bp"]
