"""Run every check on one folder of student work: the kit's top folder, or one submission."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from labkit.checks import a11y
from labkit.checks import checkout as b
from labkit.checks import webhooks as c
from labkit.checks import writing
from labkit.checks.items import EVIDENCED, GRADER, MISSING, Item, item, rubric
from labkit.settings import Settings, load_settings

B_CHECKS = ("checkout:server_price", "scenario:success", "scenario:insufficient_funds", "scenario:3ds_complete",
            "scenario:3ds_fail", "scenario:generic_decline")
C_CHECKS = ("webhook:signature", "webhook:succeeded", "webhook:duplicate")


def setup_items(settings: Settings, client: Any) -> list[Item]:
    mode = "offline fake Stripe" if settings.offline else "Stripe test mode"
    try:
        client.v1.accounts.retrieve_current()
        balance = client.v1.balance.retrieve()
    except Exception as exc:
        why = f"{mode}: the API refused the keys or did not answer ({type(exc).__name__})"
        return [item("setup:keys", MISSING, why, "Run `labkit status`."), item("setup:account", MISSING, why)]
    keys = item("setup:keys", EVIDENCED, f"{mode}: keys well formed, no live key, and the API accepts the secret key")
    if balance.livemode:
        return [keys, item("setup:account", MISSING, "livemode is true: not a test-mode account")]
    return [keys, item("setup:account", EVIDENCED, "the account read through the API; livemode is false")]


def _failed(checks: Iterable[str], why: str, hint: str) -> list[Item]:
    return [item(check, MISSING, why, hint) for check in checks]


def checkout_items(lab: Any, screenshots: Path | None) -> list[Item]:
    if "checkout" in lab.errors:
        return _failed(B_CHECKS + (a11y.CHECK,), str(lab.errors["checkout"]), "Fix the error, then run the check again.")
    server = lab.checkout
    items = [b.server_price(server.url, lab.client, server.log_text())]
    items += b.scenarios(server.url, lab.client, screenshots=screenshots)
    if server.debug_requested:
        items[0].evidence += " (note: the app asked for debug mode; the kit turned it off)"
    return items + [a11y.a11y_item(server.url)]  # formative: 0 points unless rubric.json gives some


def _without_secret(lab: Any) -> Callable[[], Any]:
    """Starts a second copy of the handler with no STRIPE_WEBHOOK_SECRET (own port and database)."""
    def start() -> Any:
        srv = lab.server("webhook_handler.py", {"ORDERS_DB": str(lab.work / "no_secret.db")},
                         name="webhook_handler.py without a secret")
        srv.start_timeout = min(srv.start_timeout, 10)
        return srv.start()
    return start


def webhook_items(lab: Any) -> list[Item]:
    if "webhooks" in lab.errors:
        return _failed(C_CHECKS, str(lab.errors["webhooks"]), "Fix the error, then run the check again.")
    url = lab.webhooks.url
    fake = lab.backend.fake
    pi_id = c.pay_and_wait(lab.client, fake)
    items = [c.succeeded(url, lab.client, fake, pi_id, lab.webhooks.log_text()),
             c.duplicate(url, lab.client, lab.webhook_secret, pi_id)]
    start_open = _without_secret(lab) if lab.backend.offline else None
    return [c.signature(url, start_open)] + items


def writing_items(settings: Settings, parts: set[str]) -> list[Item]:
    out: list[Item] = []
    if "D" in parts:
        out += [writing.pci_answered(settings), writing.pci_gaps(settings)]
    if "E" in parts:
        text = writing.part_e_text(settings)
        out += [writing.altpay_words(text), writing.altpay_two_methods(text), writing.altpay_figures(text),
                writing.altpay_own_words(text)]
    return out


def _in_rubric_order(found: list[Item], parts: set[str]) -> list[Item]:
    by_check = {i.check: i for i in found}
    ordered: list[Item] = []
    for part in rubric()["parts"]:
        if part["part"] not in parts:
            continue
        for entry in part["items"]:
            if entry.get("check") is None:
                ordered.append(Item(part["part"], f"grader:{part['part']}", GRADER, "judged by a person",
                                    title=entry["text"]))
            elif entry["check"] in by_check:
                ordered.append(by_check[entry["check"]])
    return ordered


def run_checks(folder: Path | None = None, settings: Settings | None = None, *, parts: Iterable[str] | None = None,
               screenshots: Path | None = None, answers_dir: Path | None = None, lab: Any = None) -> list[Item]:
    """Start the student's servers from ``folder`` (default: the kit's top) and run every check.

    ``lab``: an already running :class:`labkit.student.lab.StudentLab` (a notebook's) to use instead.
    """
    from labkit.student.lab import StudentLab

    settings = settings or load_settings()
    if answers_dir is not None:
        settings = settings.with_(answers_dir=Path(answers_dir))
    wanted = {p.upper() for p in parts} if parts else {"A", "B", "C", "D", "E"}
    found: list[Item] = []
    if wanted & {"A", "B", "C"}:
        own = lab is None
        lab = lab or StudentLab.start(folder, settings, checkout="B" in wanted, webhooks="C" in wanted)
        try:
            if "A" in wanted:
                found += setup_items(settings, lab.client)
            if "B" in wanted:
                found += checkout_items(lab, screenshots)
            if "C" in wanted:
                found += webhook_items(lab)
        finally:
            if own:
                lab.close()
    found += writing_items(settings, wanted)
    return _in_rubric_order(found, wanted)
