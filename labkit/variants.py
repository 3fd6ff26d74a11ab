"""The handout's card Element beside Stripe's integrations of today (the instructor's ``variants/``).

* :func:`side_by_side`: the lab's five card scenarios on each integration's checkout, one table
  (notebook 02);
* :func:`page_facts` and :func:`saq_a_table`: where the card is typed, which scripts the page loads,
  what its CSP allows, and what that means for SAQ A v4.0.1 r1's eligibility criteria (notebook 04).

Each variant's checkout server runs in its own process against the lab's backend, like the student's.
In the student edition there is no ``variants/``: the functions say so and show the student's own page.
"""
from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

VARIANTS = {"card Element (handout)": "", "Payment Element": "variants/payment_element",
            "Checkout Session (hosted)": "variants/checkout_session"}


def folders(root: Path) -> dict[str, Path]:
    """Integration name → the folder of its ``checkout_server.py`` (the ones this edition has)."""
    found = {name: (root / rel if rel else root) for name, rel in VARIANTS.items()}
    return {name: path for name, path in found.items() if (path / "checkout_server.py").is_file()}


@contextlib.contextmanager
def checkout_of(lab: Any, folder: Path) -> Iterator[str]:
    """Serve ``folder``'s ``checkout_server.py`` against the lab's backend; yields its URL."""
    from labkit.lab import Lab

    if Path(folder).resolve() == Path(lab.settings.root).resolve() and getattr(lab, "checkout_url", None):
        yield lab.checkout_url
        return
    other = Lab.open(lab.settings, Path(folder), backend=lab.backend)  # the backend stays the lab's
    try:
        yield other.start_checkout().url
    finally:
        other.close()


def side_by_side(lab: Any, out_dir: Path | None = None, handout_runs: list | None = None):
    """The five scenarios on each integration: what the page showed, what Stripe recorded
    (``handout_runs``: the runs already made on the student's own page, not made again)."""
    import pandas as pd

    from labkit.checks.paid import page_runs

    rows = []
    for name, folder in folders(Path(lab.settings.root)).items():
        if handout_runs is not None and not VARIANTS[name]:
            runs = handout_runs
        else:
            with checkout_of(lab, folder) as url:
                shots = Path(out_dir) / re.sub(r"\W+", "_", name).strip("_").lower() if out_dir else None
                runs, _payments = page_runs(url, lab.client, out_dir=shots, audit=False)  # judged by no check
        for run in runs:
            rows.append({"integration": name, "scenario": run.scenario, "page showed": run.outcome,
                         "Stripe status": run.status, "decline code": run.decline_code or run.error_code,
                         "3D Secure": "yes" if run.three_d_secure else "", "message": run.message[:70]})
    if len(folders(Path(lab.settings.root))) == 1:
        print("variants/ ships with the instructor's edition only: here, your own checkout alone.")
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- page facts for SAQ A
@dataclass
class PageFacts:
    integration: str
    card_typed_on: str                # "a Stripe iframe in the shop's page", "Stripe's own page", "the shop's page"
    card_origin: str                  # the origin of the document holding the card inputs
    shop_origin: str
    scripts: list[str] = field(default_factory=list)      # script origins the shop's page loads
    csp_script_src: list[str] = field(default_factory=list)
    csp_frame_src: list[str] = field(default_factory=list)
    problem: str = ""


def _card_document(page) -> tuple[str, str]:
    """(where, origin) of the document that holds a card number input, looking through every frame."""
    for frame in page.frames:
        try:
            n = frame.locator('input[name="cardnumber"], input[name="number"], #cardNumber').count()
        except Exception:
            continue
        if n:
            from labkit.pci.page import origin_of

            return ("the shop's page" if frame == page.main_frame else "a Stripe iframe in the shop's page",
                    origin_of(frame.url))
    return "", ""


def _facts(url: str, name: str, timeout: float, executable_path: str | None) -> PageFacts:
    import requests

    from labkit.browser import CheckoutBrowser
    from labkit.checks import integrations as ig
    from labkit.pci.page import origin_of, parse_csp

    csp = parse_csp(requests.get(url, timeout=10).headers.get("Content-Security-Policy", ""))
    facts = PageFacts(name, "", "", origin_of(url), csp_script_src=csp.get("script-src", []),
                      csp_frame_src=csp.get("frame-src", []))
    with CheckoutBrowser(url, executable_path=executable_path, timeout=timeout) as browser:
        page = browser.new_page()
        try:
            page.goto(url, wait_until="load")
            flow = ig.detect(page, timeout)
            facts.scripts = sorted({origin_of(s) or s for s in page.evaluate(  # JSON data blocks do not run
                "() => Array.from(document.scripts).map(s => s.src || (/json/.test(s.type) ? '' : 'inline'))"
                ".filter(Boolean)")})
            if flow.kind == ig.HOSTED:
                page.locator(ig.SUBMIT).first.click()
                page.wait_for_url(ig.CHECKOUT_PAGE, timeout=timeout * 1000)
                page.locator(ig.CHECKOUT_SUBMIT).first.wait_for(timeout=timeout * 1000)
            end = time.monotonic() + timeout
            where, origin = _card_document(page)
            while not where and time.monotonic() < end:
                page.wait_for_timeout(100)
                where, origin = _card_document(page)
            if flow.kind == ig.HOSTED and where:
                where = "Stripe's own page (the shop's page sent the browser there)"
            facts.card_typed_on, facts.card_origin = where or "(no card field found)", origin
        except Exception as exc:
            facts.problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        finally:
            browser.close_page(page)
    return facts


def page_facts(lab: Any, timeout: float = 15.0) -> dict[str, PageFacts]:
    """:class:`PageFacts` for each integration this edition has, from its running page."""
    from labkit.browser import in_worker_thread

    out = {}
    for name, folder in folders(Path(lab.settings.root)).items():
        with checkout_of(lab, folder) as url:
            out[name] = in_worker_thread(_facts, url, name, timeout, lab.settings.chromium)
    return out


def _verdicts(f: PageFacts) -> dict[str, str]:
    """SAQ A v4.0.1 r1's eligibility, as far as a page can show it (the rest the merchant answers)."""
    off_page = f.card_typed_on.startswith("Stripe's own page")
    in_frame = f.card_typed_on.startswith("a Stripe iframe")
    from_stripe = (off_page or in_frame) and f.card_origin != f.shop_origin
    scripts = [s for s in f.scripts if s not in ("inline", f.shop_origin)]
    strict = bool(f.csp_script_src) and "'unsafe-inline'" not in f.csp_script_src and "*" not in f.csp_script_src
    return {
        "payment_form_from_provider": ("yes: " + ("Stripe's hosted page" if off_page else f"an iframe from {f.card_origin}"))
        if from_stripe else f"no: the card is typed on {f.card_typed_on}",
        "fully_outsourced": "yes: the card goes from Stripe's form to Stripe" if from_stripe else "no",
        "no_electronic_account_data": "yes, if no card number reaches the server (Part D's request checks)"
        if from_stripe else "no",
        "not_susceptible_to_script_attacks":
            ("not in play: the shop's page embeds no payment form; the card is typed after a full redirect"
             if off_page else
             ("to confirm: the page embeds Stripe's form and loads scripts from " + (", ".join(scripts) or "itself only")
              + ("; its CSP limits scripts to " + " ".join(f.csp_script_src) if strict else "; no strict script-src CSP"))),
    }


def saq_a_table(facts: dict[str, PageFacts]):
    """SAQ A v4.0.1 r1's eligibility criteria (labkit/data/saq_a_v401.json), one column per integration."""
    import pandas as pd

    saq = json.loads(resources.files("labkit.data").joinpath("saq_a_v401.json").read_text(encoding="utf-8"))
    verdicts = {name: _verdicts(f) for name, f in facts.items()}
    rows = []
    for crit in saq["eligibility"]:
        row = {"criterion": crit["plain"][:90]}
        for name in facts:
            row[name] = verdicts[name].get(crit["id"], "the merchant answers (no page evidence)")
        rows.append(row)
    return pd.DataFrame(rows).set_index("criterion")


def facts_frame(facts: dict[str, PageFacts]):
    import pandas as pd

    return pd.DataFrame([{k: (", ".join(v) if isinstance(v, list) else v) for k, v in asdict(f).items()}
                         for f in facts.values()]).set_index("integration")
