"""The booking service's refusals, in French, and the transaction every transition runs in."""

from __future__ import annotations

import functools

from sqlalchemy.exc import IntegrityError

from extensions import db


class BookingError(Exception):
    """A refused request; `message` is French, for the family or the agent."""

    default_message = "Cette demande n'a pas pu être enregistrée."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NotRegistered(BookingError):
    default_message = "L'enfant n'est pas inscrit à cette prestation pour cette année scolaire."


class DayClosed(BookingError):
    default_message = "Il n'y a pas de service ce jour-là."


class DeadlinePassed(BookingError):
    default_message = "Le délai est dépassé pour ce jour."


class CapacityReached(BookingError):
    default_message = "Il n'y a plus de place ce jour-là."


class InvalidTransition(BookingError):
    default_message = "Cette action n'est pas possible pour ce jour."


def transactional(function):
    """Decorate a service that writes: commit what it wrote, or roll it all back and re-raise.

    A concurrent request that wrote the same (child, activity, day) row first becomes an
    InvalidTransition asking to reload the page.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            result = function(*args, **kwargs)
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            # the unique (child, activity, day) row was written by a concurrent request
            raise InvalidTransition(
                "Ce jour vient d'être modifié par une autre demande : rechargez la page."
            ) from error
        except Exception:
            db.session.rollback()
            raise
        return result

    return wrapper
