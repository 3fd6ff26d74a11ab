"""The rubric self-check: the handout's 100 points, part by part, with the evidence the kit can see.

Each rubric item (``labkit/data/rubric.json``) is *evidenced* (the kit saw it), *missing*
(the kit looked and did not find it: the message says what to do), *partial*, or *for the
grader* (nothing software can judge). It never awards points.

    labkit check                 # every part, from the files in out/ and the API
    show_part("B", client=...)   # the last cell of a notebook
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from labkit.settings import Settings, load_settings, project_root, shown_path

NOTEBOOK03_DB = "notebook03_webhooks.db"
EVIDENCED, MISSING, PARTIAL, GRADER = "evidenced", "missing", "partial", "for the grader"
MARK = {EVIDENCED: "✓", MISSING: "✗", PARTIAL: "◐", GRADER: "·"}

# What each browser scenario must show (labkit/data/test_cards.json lab_scenarios).
EXPECTED = {
    "success": {"status": "succeeded"},
    "insufficient_funds": {"status": "requires_payment_method", "decline_code": "insufficient_funds"},
    "3ds_complete": {"status": "succeeded", "three_d_secure": True},
    "3ds_fail": {"status": "requires_payment_method", "error_code": "payment_intent_authentication_failure"},
    "generic_decline": {"status": "requires_payment_method", "decline_code": "generic_decline"},
}


@dataclass
class ItemResult:
    part: str
    text: str
    status: str
    evidence: str


def rubric() -> dict[str, Any]:
    return json.loads(resources.files("labkit.data").joinpath("rubric.json").read_text(encoding="utf-8"))


def _section(text: str, part: str) -> str:
    m = re.search(rf"<!-- labkit:part-{part}:start -->(.*?)<!-- labkit:part-{part}:end -->", text, re.S)
    return m.group(1) if m else ""


class _Evidence:
    """Looks for each kind of evidence; ``client`` (a StripeClient) confirms against the API."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self.client = client
        self.root = project_root()
        self._runs: dict[str, dict[str, Any]] | None = None

    def _find(self, name: str) -> Path | None:
        for folder in (self.root, self.settings.out_dir):
            if (folder / name).is_file():
                return folder / name
        return None

    @staticmethod
    def _rel(path: Path) -> str:
        return shown_path(path)

    def check(self, check: str) -> tuple[str, str]:
        kind, _, arg = check.partition(":")
        return getattr(self, f"c_{kind}")(arg) if arg else getattr(self, f"c_{kind}")()

    # -- Part A
    def c_keys(self) -> tuple[str, str]:
        mode = "offline fake Stripe" if self.settings.offline else "Stripe test mode"
        if self.client is None:
            return PARTIAL, f"{mode}: the keys are well formed (the API was not asked)"
        try:
            self.client.v1.accounts.retrieve_current()
        except Exception as exc:  # any Stripe error means the keys do not work
            return MISSING, f"{mode}: the API refused the keys or did not answer ({type(exc).__name__})"
        return EVIDENCED, f"{mode}: keys well formed, no live key, and the API accepts the secret key"

    def c_account(self) -> tuple[str, str]:
        if self.client is None:
            return PARTIAL, "the API was not asked"
        acct = self.client.v1.accounts.retrieve_current()
        balance = self.client.v1.balance.retrieve()
        if balance.livemode:
            return MISSING, "the balance says livemode=true: this is not a test-mode account"
        return EVIDENCED, f"account {acct.id} read through the API; livemode is false"

    # -- files
    def c_file(self, name: str) -> tuple[str, str]:
        path = self._find(name)
        if path is None:
            return MISSING, f"{name} not found in the kit or in out/"
        return EVIDENCED, self._rel(path)

    # -- Part B
    def _load_runs(self) -> dict[str, dict[str, Any]]:
        if self._runs is None:
            path = self.settings.out_dir / "evidence" / "browser_runs.json"
            runs = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
            self._runs = {r["scenario"]: r for r in runs}
        return self._runs

    def c_scenario(self, key: str) -> tuple[str, str]:
        run = self._load_runs().get(key)
        if run is None:
            return MISSING, "no browser run recorded: run notebooks/02_checkout.ipynb"
        shot = Path(run["screenshot"]) if run.get("screenshot") else None
        if shot is None or not shot.is_file():
            return MISSING, "the run's screenshot is missing: run notebooks/02_checkout.ipynb again"
        seen, source = dict(run), "as recorded by the browser run"
        if self.client is not None and run.get("payment_intent"):
            try:
                pi = self.client.v1.payment_intents.retrieve(run["payment_intent"])
                seen["status"], source = pi.status, "confirmed through the API"
            except Exception:
                pass  # an offline fake that has since stopped: the recorded state stands
        wrong = [f"{k}={seen.get(k)!r} (expected {v!r})" for k, v in EXPECTED[key].items() if seen.get(k) != v]
        if wrong:
            return MISSING, "PaymentIntent not in the expected state: " + ", ".join(wrong)
        return EVIDENCED, f"PaymentIntent {seen['status']} ({source}); screenshot {self._rel(shot)}"

    # -- Part C
    def c_order_paid(self) -> tuple[str, str]:
        from labkit.webhooks.store import OrderStore

        # The handler's own database (LABKIT_DB), and the one notebook 03 starts afresh on each run.
        dbs = [Path(p) for p in (self.settings.out_dir / NOTEBOOK03_DB, self.settings.db_path) if Path(p).is_file()]
        if not dbs:
            return MISSING, "no order database: run notebooks/03_webhooks.ipynb (or the webhook handler)"
        for db in dbs:
            with OrderStore(db) as store:
                orders = store.orders()
            paid = [pi for pi, o in orders.items()
                    if any(h.get("type") == "payment_intent.succeeded" for h in o.get("history", []))]
            if paid:
                return EVIDENCED, (f"{len(paid)} of {len(orders)} orders in {self._rel(db)} were made by a "
                                   "verified payment_intent.succeeded")
        return MISSING, "no order was made by a payment_intent.succeeded event"

    # -- Part D
    def _assessment(self) -> str:
        path = self.settings.out_dir / "pci_assessment.md"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def c_pci_checklist(self) -> tuple[str, str]:
        text = _section(self._assessment(), "d")
        checklist = re.search(r"## SAQ A Requirements Checklist(.*?)(\n## |\Z)", text, re.S)
        lines = checklist.group(1).splitlines() if checklist else []
        rows = [line for line in lines if re.match(r"^\|\s*\d+\.\d", line)]
        if not rows:
            return MISSING, "no checklist in out/pci_assessment.md: run notebooks/04_pci.ipynb"
        open_rows = [r for r in rows if "☐" in r]
        if open_rows:
            return PARTIAL, f"{len(rows) - len(open_rows)} of {len(rows)} requirements answered; " \
                            f"{len(open_rows)} still to answer in the checklist"
        return EVIDENCED, f"all {len(rows)} requirements answered"

    def c_pci_gaps(self) -> tuple[str, str]:
        text = _section(self._assessment(), "d")
        gaps = re.search(r"\*\*Gaps identified:\*\*(.*?)\*\*Remediation plan:\*\*(.*?)(\n## |\Z)", text, re.S)
        if not gaps or not gaps.group(1).strip() or not gaps.group(2).strip():
            return MISSING, "no gaps and remediation plan in out/pci_assessment.md"
        count = len(re.findall(r"^\s*[-*\d]", gaps.group(1), re.M))
        return EVIDENCED, f"{count} gap lines, with a remediation plan"

    # -- Part E
    def c_parte_words(self) -> tuple[str, str]:
        from labkit.altpay import word_count

        text = _section(self._assessment(), "e")
        if not text.strip():
            return MISSING, "no Part E section in out/pci_assessment.md: run notebooks/05_alt_payments.ipynb"
        words = word_count(text)
        status = EVIDENCED if 350 <= words <= 450 else PARTIAL
        return status, f"{words} words (the handout asks for about 400)"

    def c_parte_recommend(self) -> tuple[str, str]:
        text = _section(self._assessment(), "e")
        m = re.search(r"\*\*Recommendation\.?\*\*(.*)", text, re.S)
        picks = re.findall(r"\((\d)\)\s*([^,:]+)", m.group(1)) if m else []
        if len(picks) < 2:
            return MISSING, "no recommendation of two methods found in Part E"
        return EVIDENCED, "recommends " + " and ".join(p[1].strip() for p in picks[:2])


def rubric_check(settings: Settings | None = None, client: Any = None,
                 parts: Iterable[str] | None = None) -> list[ItemResult]:
    settings = settings or load_settings()
    wanted = {p.upper() for p in parts} if parts else None
    evidence = _Evidence(settings, client)
    results = []
    for part in rubric()["parts"]:
        if wanted and part["part"] not in wanted:
            continue
        for item in part["items"]:
            if item["check"] is None:
                status, seen = GRADER, "the kit cannot judge this"
            else:
                try:
                    status, seen = evidence.check(item["check"])
                except Exception as exc:  # a check must never break the notebook or the demo
                    status, seen = MISSING, f"could not check ({type(exc).__name__}: {exc})"
            results.append(ItemResult(part["part"], item["text"], status, seen))
    return results


def format_rubric(results: list[ItemResult]) -> str:
    parts = {p["part"]: p for p in rubric()["parts"]}
    lines = []
    for key in dict.fromkeys(r.part for r in results):
        part = parts[key]
        mine = [r for r in results if r.part == key]
        checkable = [r for r in mine if r.status != GRADER]
        done = sum(r.status == EVIDENCED for r in checkable)
        lines.append(f"Part {key} — {part['title']} ({part['points']} pts): "
                     f"evidence for {done} of {len(checkable)} checkable items")
        for r in mine:
            lines.append(f"  {MARK[r.status]} {r.text}")
            lines.append(f"      {r.status}: {r.evidence}")
    lines.append("")
    lines.append(rubric()["note"])
    return "\n".join(lines)


def print_rubric(results: list[ItemResult]) -> None:
    print(format_rubric(results))


def show_part(part: str, client: Any = None, settings: Settings | None = None) -> None:
    """The rubric self-check for one part (the last cell of each notebook), then its run proof."""
    from labkit.runproof import stamp

    settings = settings or load_settings()
    print_rubric(rubric_check(settings, client=client, parts=[part]))
    stamp(part, settings)


# ---------------------------------------------------------------------- labkit check
def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", action="append", choices=list("ABCDE"), help="only this part (repeatable)")
    parser.add_argument("--no-api", action="store_true", help="do not start or call the Stripe API")


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.no_api:
        results = rubric_check(settings, parts=args.part)
    else:
        from labkit.backend import connect

        with connect(settings) as backend:
            results = rubric_check(settings, client=backend.client, parts=args.part)
    print_rubric(results)
    return 0
