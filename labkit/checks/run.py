"""Run every check on one folder of student work: the kit's top folder, or one submission."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from labkit.checks import a11y
from labkit.checks import paid
from labkit.checks import scenarios as b
from labkit.checks import webhook_verdicts as c_verdicts
from labkit.checks import checkout_api as server
from labkit.checks import webhook_probes as c
from labkit.checks.webhook_runs import COPY_START_TIMEOUT
from labkit.checks import writing
from labkit.checks.items import EVIDENCED, GRADER, MISSING, Item, item, rubric
from labkit.settings import Settings

B_CHECKS = (*server.CHECKS, "scenario:success", "scenario:insufficient_funds", "scenario:3ds_complete",
            "scenario:3ds_fail", "scenario:generic_decline")
C_CHECKS = ("webhook:signature", "webhook:succeeded", "webhook:duplicate", "webhook:acknowledges", "webhook:restart")


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


def one_line(exc: BaseException) -> str:
    """An exception as one line: its kind and the first line of its message."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def guarded(checks: Iterable[str], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Item]:
    """``fn(*args)`` (an Item or a list of them); an exception fails only ``checks``, each with the reason
    in one line, so no probe, reader or browser error ever zeroes the rest of the student's grade."""
    checks = tuple(checks)
    try:
        got = fn(*args, **kwargs)
    except Exception as exc:
        why = f"the check could not finish: {one_line(exc)}"
        return _failed(checks, why, "If your code looks right, tell the instructor: this may be the kit's fault.")
    return list(got) if isinstance(got, (list, tuple)) else [got]


def _file_problem(filename: str, settings: Settings) -> str:
    from labkit import answers

    try:
        return answers.read_problem(filename, settings)
    except Exception as exc:  # the reader itself must not stop the other checks
        return f"answers/{filename} could not be read: {one_line(exc)}"


def checkout_items(lab: Any, screenshots: Path | None) -> list[Item]:
    if "checkout" in lab.errors:
        return _failed(B_CHECKS + (a11y.CHECK,), str(lab.errors["checkout"]), "Fix the error, then run the check again.")
    srv = lab.checkout
    recorder, audit = b.Recorder(srv.url), a11y.PageAudit()
    kept = paid.take_kept(srv.url, paid.page_stamp(lab.folder, srv))  # the notebook's own runs, if still true
    items = guarded(B_CHECKS[len(server.CHECKS):], b.scenarios, srv.url, lab.client, screenshots=screenshots,
                    recorder=recorder, log=srv.log_text, audit=audit, kept=kept)
    items = guarded(server.CHECKS, server_checks, lab, srv, recorder) + items
    if srv.debug_requested:
        items[0].evidence += " (note: the app asked for debug mode; the kit turned it off)"
    return items + guarded((a11y.CHECK,), a11y.a11y_item, srv.url, audit=audit)  # formative: 0 points unless rubric.json says


def server_checks(lab: Any, srv: Any, recorder: Any) -> list[Item]:
    """Part B's checks of the server, with the request the page sent during the browser runs."""
    from labkit.catalog import load_catalog

    settings = lab.settings
    secrets = [s for s in (settings.secret_key, getattr(lab, "webhook_secret", None)) if s]
    maker = server.payment_method_maker(lab.backend.api_base, settings.publishable_key, lab.client)
    return server.server_items(srv.url, lab.client, recorder, load_catalog(), secrets, maker, srv.log_text())


def _without_secret(lab: Any) -> Callable[[], Any]:
    """Starts a second copy of the handler with no STRIPE_WEBHOOK_SECRET (own port and database)."""
    def start() -> Any:
        srv = lab.server("webhook_handler.py", {"ORDERS_DB": str(lab.work / "no_secret.db")},
                         name="webhook_handler.py without a secret")
        srv.start_timeout = COPY_START_TIMEOUT  # it imports (the lab's copy started): slow is a busy machine
        return srv.start()
    return start


def webhook_items(lab: Any) -> list[Item]:
    if "webhooks" in lab.errors:
        return _failed(C_CHECKS, str(lab.errors["webhooks"]), "Fix the error, then run the check again.")
    start_open = _without_secret(lab) if lab.backend.offline else None
    found = c.probe_handler(lab, start_open)
    return c_verdicts.items(found, lab.webhooks.log_text() if lab.webhooks else "")


D_CHECKS = ("pci:answered", "pci:gaps")
E_CHECKS = ("altpay:words", "altpay:two_methods", "altpay:figures", "altpay:own_words")


def writing_items(settings: Settings, parts: set[str]) -> list[Item]:
    """Parts D and E, each check on its own: a file that cannot be read fails only the checks that read it,
    saying what could not be read and how to fix it."""
    from labkit import answers

    out: list[Item] = []
    if "D" in parts:
        problem = _file_problem(answers.PCI_FILE, settings)
        if problem:
            out += _failed(D_CHECKS, problem, "Fix or re-save the file, then run the check again.")
        else:
            out += guarded(D_CHECKS[:1], writing.pci_answered, settings)
            out += guarded(D_CHECKS[1:], writing.pci_gaps, settings)
    if "E" in parts:
        problem = _file_problem(answers.PART_E_FILE, settings)
        if problem:
            return out + _failed(E_CHECKS, problem, "Fix or re-save the file, then run the check again.")
        try:
            text, where = writing.part_e_found(settings)
        except Exception as exc:
            return out + _failed(E_CHECKS, f"answers/part_e.md could not be read: {one_line(exc)}",
                                 "Re-save the file as UTF-8 text, then run the check again.")
        out += guarded(E_CHECKS[:1], writing.altpay_words, text, where)
        for check, fn in zip(E_CHECKS[1:], (writing.altpay_two_methods, writing.altpay_figures,
                                            writing.altpay_own_words)):
            out += guarded((check,), fn, text)
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


def _server_items(lab: Any, settings: Settings, wanted: set[str], screenshots: Path | None) -> list[Item]:
    found: list[Item] = []
    if "A" in wanted:
        found += guarded(("setup:keys", "setup:account"), setup_items, settings, lab.client)
    if "B" in wanted:
        found += guarded(B_CHECKS, checkout_items, lab, screenshots)
    if "C" in wanted:
        found += guarded(C_CHECKS, webhook_items, lab)
    return found


def run_checks(folder: Path | None, settings: Settings, *, parts: Iterable[str] | None = None,
               screenshots: Path | None = None, answers_dir: Path | None = None, lab: Any = None) -> list[Item]:
    """Start the student's servers from ``folder`` (default: the kit's top) and run every check.

    ``lab``: an already running :class:`labkit.lab.Lab` (a notebook's) to use instead.
    """
    from labkit.lab import Lab

    if answers_dir is not None:
        settings = settings.with_(answers_dir=Path(answers_dir))
    wanted = {p.upper() for p in parts} if parts else {"A", "B", "C", "D", "E"}
    found: list[Item] = []
    if wanted & {"A", "B", "C"}:
        own = lab is None
        try:
            lab = lab or Lab.start(settings, folder, checkout="B" in wanted, webhooks="C" in wanted,
                                   strict=False, notebook=False, browser="B" in wanted)
        except Exception as exc:  # no backend or servers at all: parts A-C say why, D and E are still read
            server_checks = [c for part, checks in (("A", ("setup:keys", "setup:account")), ("B", B_CHECKS),
                                                    ("C", C_CHECKS)) if part in wanted for c in checks]
            found += _failed(server_checks, f"the lab could not start: {one_line(exc)}",
                             "Run `labkit status`; if it says the kit is fine, tell the instructor.")
            own, lab = False, None
        try:
            if lab is not None:
                found += _server_items(lab, settings, wanted, screenshots)
        finally:
            if own:
                lab.close()
    found += writing_items(settings, wanted)
    return _in_rubric_order(found, wanted)
