"""What a check returns: :class:`CheckResult`, and the table of every check's id and title.

Which SAQ A items each check is evidence for lives in the data file (the requirements' and
criteria's ``checks``), so the mapping has one home; checks not named there are further evidence.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

STATUSES = ("pass", "gap", "n/a", "error")

# Every check: id -> title.
CHECKS: Mapping[str, str] = {
    "no_card_data_in_requests": "No card number reaches the merchant's server (browser run)",
    "no_card_data_at_rest": "The merchant's logs and database hold no card number",
    "card_fields_from_provider": "The card fields are served only from Stripe's origin",
    "scripts_restricted_by_csp": "Payment-page scripts: inventory and Content-Security-Policy",
    "transport_security": "The payment page is served over HTTPS",
    "webhook_rejects_forgeries": "The webhook endpoint rejects forged events",
    "debug_mode_off": "Debug mode is off (no debugger, no tracebacks)",
    "no_default_credentials": "No default or shared credentials in the kit's configuration",
    "secret_key_not_in_pages": "The secret key never appears in a page",
    "dependency_inventory": "Dependency versions listed for the vulnerability review",
}


@dataclass
class CheckResult:
    """One check's verdict and what it saw."""

    id: str
    title: str
    status: str  # pass | gap | n/a | error
    summary: str
    details: list[str] = field(default_factory=list)
    remediation: str | None = None
    requirements: tuple[str, ...] = ()  # filled from the SAQ data (see :func:`attach_requirements`)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def as_row(self) -> dict[str, Any]:
        return {"check": self.id, "status": self.status, "summary": self.summary,
                "evidence for": ", ".join(self.requirements) or "(beyond SAQ A)"}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["requirements"] = list(self.requirements)
        return d


def result(id_: str, status: str, summary: str, details: Iterable[str] = (),
           remediation: str | None = None) -> CheckResult:
    """A result for the check ``id_``, titled from :data:`CHECKS`."""
    return CheckResult(id_, CHECKS[id_], status, summary, list(details), remediation)

