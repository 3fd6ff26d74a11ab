"""Stripe's error shape: ``{"error": {type, code, decline_code, message, param, …}}``."""
from __future__ import annotations

from typing import Any

DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, *, code: str | None = None,
                 param: str | None = None, decline_code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        for key in ("param", "decline_code"):
            if getattr(self, key):
                err[key] = getattr(self, key)
        err.update({k: v for k, v in self.extra.items() if v is not None})
        return {"error": err}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, "invalid_request_error", message, code=code, param=param)


def missing(param: str) -> StripeError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def unknown_param(param: str) -> StripeError:
    return invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")


def no_such(kind: str, obj_id: str, param: str = "id") -> StripeError:
    return StripeError(404, "invalid_request_error", f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def auth_error(message: str) -> StripeError:
    """A missing or bad API key: Stripe answers 401 with type ``invalid_request_error``
    (docs.stripe.com/api/errors; seen in test mode, 2026-11-26)."""
    return StripeError(401, "invalid_request_error", message)


def forbidden(message: str) -> StripeError:
    return StripeError(403, "invalid_request_error", message)
