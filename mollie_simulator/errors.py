"""Mollie's error responses: `{"status", "title", "detail", "field"?, "_links"}`.

The client turns the `status` of this body into its exceptions (404 → NotFoundError…), so
every error the simulator answers has this shape, with the HTTP status repeated inside.
"""

from __future__ import annotations

from flask import Response, jsonify

TITLES = {
    400: "Bad Request",
    401: "Unauthorized Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    503: "Service Unavailable",
}
DOCUMENTATION = "https://docs.mollie.com/overview/handling-errors"
HAL_JSON = "application/hal+json"


class ApiError(Exception):
    """An answer the API gives instead of a resource."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


def error_response(error: ApiError) -> Response:
    """The JSON body and status Mollie answers for this error."""
    body = {
        "status": error.status,
        "title": TITLES.get(error.status, "Error"),
        "detail": error.detail,
        "_links": {"documentation": {"href": DOCUMENTATION, "type": "text/html"}},
    }
    if error.field:
        body["field"] = error.field
    response = jsonify(body)
    response.status_code = error.status
    response.content_type = HAL_JSON
    return response
