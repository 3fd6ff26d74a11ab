"""Every check together: the servers to assess (:class:`Target`), the checks' results
(:class:`Evidence`), and :func:`run_checks` / :func:`run_lab_checks` that run them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from labkit.pci.at_rest import capture_logs, check_card_data_at_rest
from labkit.pci.browser_evidence import (
    BrowserEvidence,
    check_card_fields_origin,
    check_requests_carry_no_card,
    collect_browser_evidence,
)
from labkit.pci.config_checks import check_default_credentials, check_dependencies
from labkit.pci.http_checks import (
    check_debug_mode,
    check_scripts_csp,
    check_secret_key_in_pages,
    check_transport,
    check_webhook_forgery,
)
from labkit.pci.requirements import load_saq
from labkit.pci.results import CHECKS, CheckResult, result


@dataclass
class Target:
    """The servers to assess, and what of the merchant's storage may be read."""

    checkout_url: str
    webhook_url: str | None = None
    stripe_origin: str | None = None
    db_paths: tuple[Path, ...] = ()
    log_paths: tuple[Path, ...] = ()
    label: str = "the kit's own servers"


@dataclass
class Evidence:
    target: Target
    results: list[CheckResult]
    browser: BrowserEvidence | None = None

    def get(self, check_id: str) -> CheckResult | None:
        return next((r for r in self.results if r.id == check_id), None)

    @property
    def gaps(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "gap"]

    def explain(self, *check_ids: str, details: bool = True) -> str:
        """A few checks in words: status, title, summary, then (optionally) what each saw,
        and the remediation of a gap. For notebook cells and the terminal."""
        lines = []
        for check_id in check_ids:
            r = self.get(check_id)
            if r is None:
                raise KeyError(f"no check {check_id!r}; the checks are {[x.id for x in self.results]}")
            lines.append(f"{r.status:>4}  {r.title}: {r.summary}")
            if details:
                lines += [f"      {line}" for line in r.details]
            if r.remediation:
                lines.append(f"      remediation: {r.remediation}")
        return "\n".join(lines)

    def frame(self):
        import pandas as pd

        return pd.DataFrame([r.as_row() for r in self.results]).set_index("check")

    def to_dict(self) -> dict[str, Any]:
        return {"target": {"checkout_url": self.target.checkout_url, "webhook_url": self.target.webhook_url,
                           "label": self.target.label},
                "results": [r.to_dict() for r in self.results]}


def attach_requirements(results: Iterable[CheckResult], saq: Any = None) -> None:
    """Fill each result's ``requirements`` from the SAQ data (requirements and criteria naming it)."""
    saq = saq or load_saq()
    for r in results:
        reqs = [q.number for q in saq.requirements if r.id in q.checks]
        reqs += [f"eligibility: {c.id}" for c in saq.eligibility if r.id in (*c.checks, *c.related_checks)]
        reqs += [f"{q.number} (removed in r1)" for q in saq.removed if r.id in q.checks]
        r.requirements = tuple(reqs)


def _browser_checks(ev: BrowserEvidence | None) -> list[CheckResult]:
    if ev is None:
        return [result(cid, "n/a", "no browser run (--no-browser)")
                for cid in ("no_card_data_in_requests", "card_fields_from_provider")]
    return [check_requests_carry_no_card(ev), check_card_fields_origin(ev)]


def run_checks(target: Target, *, settings: Any, browser: bool = True, scenarios: Sequence[Any] | None = None,
               log_texts: Mapping[str, str] | None = None, env_file: str | os.PathLike | None = None,
               browser_evidence: BrowserEvidence | None = None) -> Evidence:
    """Every check against ``target``, in the order of :data:`labkit.pci.results.CHECKS`.
    ``browser=False`` skips the Chromium run (its checks become n/a)."""
    ev = browser_evidence
    if ev is None and browser:
        ev = collect_browser_evidence(target.checkout_url, scenarios, stripe_origin=target.stripe_origin)
    stripe_origin = target.stripe_origin or (ev.stripe_origin if ev else None)
    urls = {"checkout": target.checkout_url, **({"webhooks": target.webhook_url} if target.webhook_url else {})}
    results = [*_browser_checks(ev),
               check_card_data_at_rest(target.db_paths, target.log_paths, log_texts),
               check_scripts_csp(target.checkout_url, stripe_origin, ev),
               check_transport(target.checkout_url, target.webhook_url),
               check_webhook_forgery(target.webhook_url),
               check_debug_mode(urls),
               check_default_credentials(settings, env_file),
               check_secret_key_in_pages(target.checkout_url, extra_texts=ev.merchant_responses if ev else None),
               check_dependencies(settings.root)]
    order = list(CHECKS)
    results.sort(key=lambda r: order.index(r.id))
    attach_requirements(results)
    return Evidence(target, results, ev)


def run_lab_checks(lab: Any, *, browser: bool = True, scenarios: Sequence[Any] | None = None, config: Any = None,
                   extra_db: Sequence[Path] = (), log_paths: Sequence[Path] = ()) -> Evidence:
    """:func:`run_checks` for a running :class:`labkit.lab.Lab`, with the logs of the servers in this
    process captured during the run, and the kit's database scanned afterwards.

    ``config``: the settings whose credentials are checked (default: the lab's own).
    """
    work = Path(lab.work)  # the student's servers' own database and logs
    target = Target(lab.checkout_url, lab.webhook_url, lab.backend.js_origin,
                    db_paths=(Path(lab.settings.db_path), *sorted(work.glob("*.db")), *map(Path, extra_db)),
                    log_paths=(*sorted(work.glob("*.log")), *map(Path, log_paths)))
    with capture_logs() as logs:  # also keeps the servers' warnings about the forged webhooks out of the output
        ev = collect_browser_evidence(lab.checkout_url, scenarios, stripe_origin=target.stripe_origin) if browser else None
        _wait_for_deliveries(lab)
        evidence = run_checks(target, settings=config or lab.settings, browser=browser, browser_evidence=ev,
                              log_texts={"server logs captured in this process": logs.text})
    # the forged webhooks were logged after the at-rest scan ran: scan the complete log once more
    late = check_card_data_at_rest(target.db_paths, target.log_paths, {"server logs captured in this process": logs.text})
    late.requirements = evidence.get("no_card_data_at_rest").requirements
    evidence.results = [late if r.id == late.id else r for r in evidence.results]
    return evidence


def _wait_for_deliveries(lab: Any, limit: float = 10.0) -> None:
    """Let the fake Stripe's webhook deliveries for the browser payments land before the database is read."""
    fake = getattr(lab.backend, "fake", None)
    if fake is not None:
        fake.wait_for_webhooks(limit)