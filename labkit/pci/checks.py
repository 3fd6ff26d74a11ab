"""Evidence checks for the SAQ A self-assessment, run against live servers (ours or a student's).

Every check takes URLs (and, where it reads files, paths), never the kit's objects, so an
instructor can point it at any checkout and webhook server. Each returns a
:class:`CheckResult`: ``pass`` (the evidence supports "Yes"), ``gap`` (it found a problem,
with a remediation), ``n/a`` (nothing to check here) or ``error`` (the check could not run).

The browser evidence (:func:`collect_browser_evidence`) drives the checkout in headless
Chromium with :class:`labkit.browser.CheckoutBrowser`, recording every request the page and
its frames make (URL, method, body), the frames that hold card inputs and the page's scripts.
Card numbers and secrets are found with :mod:`labkit.leaks`; a card number found is only
ever reported by its last four digits or as a public Stripe test card.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit

import requests

from labkit.leaks import CARD_KINDS, SECRET_KINDS, Finding, load_test_cards, scan_text
from labkit.serving import is_loopback_url

STATUSES = ("pass", "gap", "n/a", "error")
TIMEOUT = 10.0
USER_AGENT = "labkit-pci-check/1"

# id -> title. Which SAQ A items each check is evidence for lives in the data file (requirements'
# and criteria's "checks"), so the mapping has one home; checks not named there are further evidence.
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

_DEBUG_MARKERS = ("Werkzeug Debugger", "__debugger__", "Traceback (most recent call last)", "werkzeug/debug",
                  "EVALEX", "The debugger caught an exception", "Interactive Console")
_CARD_INPUT_NAMES = ("cardnumber", "card-number", "card_number", "cc-number", "ccnumber", "cvc", "cvv", "exp-date",
                     "cc-exp", "cc-csc")


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


def _result(id_: str, status: str, summary: str, details: Iterable[str] = (), remediation: str | None = None):
    return CheckResult(id_, CHECKS[id_], status, summary, list(details), remediation)


# ----------------------------------------------------------------------------- helpers
def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def _session() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    s.trust_env = False  # talk to the given servers directly, never through a proxy from the environment
    return s


def webhook_endpoint(url: str) -> str:
    """A webhook server's base URL (``http://host:port``) or its endpoint: the endpoint."""
    url = url.rstrip("/")
    return url + "/webhook" if urlsplit(url).path in ("", "/") else url


def card_findings(text: str, cards: dict[str, str] | None = None) -> list[Finding]:
    """Card numbers (public Stripe test cards and any other Luhn-valid PAN) in ``text``, also
    when URL-encoded (``+`` or ``%20`` between the groups)."""
    cards = load_test_cards() if cards is None else cards
    found: list[Finding] = []
    seen: set[str] = set()
    variants = [text]
    if "%" in text or "+" in text:
        variants += [unquote_plus(text), unquote(text)]
    for variant in variants:
        for f in scan_text(variant, cards):
            digits = re.sub(r"\D", "", f.redacted) if f.kind == "test_card" else f.redacted
            if f.kind in CARD_KINDS and digits not in seen:
                seen.add(digits)
                found.append(f)
    return found


def describe_cards(findings: Sequence[Finding]) -> str:
    return "; ".join(f.describe() for f in findings)


class _PageParser(HTMLParser):
    """Scripts, stylesheets, iframes, inputs and a meta CSP from an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, Any]] = []
        self.styles: list[str] = []
        self.iframes: list[str] = []
        self.inputs: list[dict[str, str]] = []
        self.meta_csp: list[str] = []
        self._in_script: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script":
            self._in_script = {"src": a.get("src") or None, "type": a.get("type", ""), "integrity": a.get("integrity"),
                               "nonce": bool(a.get("nonce")), "text": ""}
            self.scripts.append(self._in_script)
        elif tag == "link" and "stylesheet" in a.get("rel", "").lower() and a.get("href"):
            self.styles.append(a["href"])
        elif tag == "iframe" and a.get("src"):
            self.iframes.append(a["src"])
        elif tag in ("input", "select", "textarea"):
            self.inputs.append({"name": a.get("name", ""), "id": a.get("id", ""), "autocomplete": a.get("autocomplete", "")})
        elif tag == "meta" and a.get("http-equiv", "").lower() == "content-security-policy":
            self.meta_csp.append(a.get("content", ""))

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._in_script["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def _is_card_input(attrs: Mapping[str, str]) -> bool:
    values = re.split(r"[\s/]+", " ".join(str(attrs.get(k, "")).lower() for k in ("name", "id", "autocomplete")))
    return any(n in values for n in _CARD_INPUT_NAMES)


def parse_csp(header: str) -> dict[str, list[str]]:
    """``{"script-src": ["'self'", "https://js.stripe.com"], …}`` (first of a repeated directive wins)."""
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.strip().split()
        if tokens:
            policy.setdefault(tokens[0].lower(), tokens[1:])
    return policy


def _executable_inline(script: Mapping[str, Any]) -> bool:
    t = (script.get("type") or "").lower().split(";")[0].strip()
    return not script.get("src") and t in ("", "text/javascript", "application/javascript", "module")


# ----------------------------------------------------------------------------- HTTP checks
def check_transport(checkout_url: str, webhook_url: str | None = None) -> CheckResult:
    """HTTPS on the payment page (and the webhook endpoint). Plain HTTP on localhost is a gap
    to fix before going live, not a fault of the kit."""
    urls = {"checkout page": checkout_url, **({"webhook endpoint": webhook_url} if webhook_url else {})}
    plain = {name: u for name, u in urls.items() if urlsplit(u).scheme != "https"}
    details = [f"{name}: {origin_of(u)} ({'HTTPS' if name not in plain else 'plain HTTP'}"
               f"{', loopback only' if is_loopback_url(u) else ''})" for name, u in urls.items()]
    if not plain:
        return _result("transport_security", "pass", "served over HTTPS", details)
    local = all(is_loopback_url(u) for u in plain.values())
    where = "on localhost (expected in the lab: nothing leaves this machine)" if local else "on a network address"
    details.append("Over plain HTTP anyone on the path can change the page and its scripts, which is exactly the "
                   "script attack the SAQ A criterion is about; Stripe also requires HTTPS for live payments.")
    return _result("transport_security", "gap", f"plain HTTP {where}", details,
                   "Serve the shop only over HTTPS (TLS 1.2 or later, a valid certificate, HTTP redirected to "
                   "HTTPS, HSTS) before it takes real payments; keep plain HTTP to localhost for the lab.")


def check_debug_mode(urls: Mapping[str, str]) -> CheckResult:
    """Black-box: ask each server for the Werkzeug debugger's resources and console, and for a
    missing page, and look for debugger markers and tracebacks; note the ``Server`` header."""
    details: list[str] = []
    exposed: list[str] = []
    answered = 0
    probes = (("missing page", "/labkit-pci-probe-missing"),
              ("debugger resource", "/?__debugger__=yes&cmd=resource&f=debugger.js"),
              ("debugger console", "/console"))
    with _session() as http:
        for name, base in urls.items():
            base = origin_of(base) or base.rstrip("/")
            servers: set[str] = set()
            for probe, path in probes:
                try:
                    resp = http.get(base + path, timeout=TIMEOUT, allow_redirects=False)
                except requests.RequestException as exc:
                    details.append(f"{name}: {probe}: no answer ({type(exc).__name__})")
                    continue
                answered += 1
                if resp.headers.get("Server"):
                    servers.add(resp.headers["Server"])
                body = resp.text[:200_000]
                hits = [m for m in _DEBUG_MARKERS if m in body]
                if hits:
                    exposed.append(f"{name} ({probe})")
                    details.append(f"{name}: {probe} {path.split('?')[0]} answered {resp.status_code} with "
                                   f"debugger markers: {', '.join(hits)}")
                else:
                    details.append(f"{name}: {probe} answered {resp.status_code}, no debugger or traceback")
            for server in sorted(servers):
                dev = "Werkzeug" in server
                details.append(f"{name}: Server header '{server}'"
                               + (" (Werkzeug's development server: fine on localhost, not for production)" if dev else ""))
    if not answered:
        return _result("debug_mode_off", "error", "no server answered", details)
    if exposed:
        return _result("debug_mode_off", "gap", f"debugger exposed on {', '.join(exposed)}", details,
                       "Turn debug off (never app.run(debug=True) or FLASK_DEBUG=1 outside your own machine); serve "
                       "with a production WSGI server such as waitress; return JSON errors without tracebacks.")
    return _result("debug_mode_off", "pass", "no debugger, console or traceback exposed", details)


def _forged_event() -> bytes:
    tag = secrets.token_hex(6)
    event = {"id": f"evt_labkitpciforged{tag}", "object": "event", "type": "payment_intent.succeeded",
             "api_version": "2024-06-20", "created": int(time.time()), "livemode": False,
             "data": {"object": {"id": f"pi_labkitpciforged{tag}", "object": "payment_intent", "amount": 100,
                                 "amount_received": 100, "currency": "usd", "status": "succeeded",
                                 "metadata": {"labkit_pci_probe": "forged"}}}}
    return json.dumps(event).encode()


def _wrong_signature(body: bytes) -> str:
    """A well-formed Stripe-Signature made with a random secret that no endpoint has."""
    wrong = secrets.token_bytes(32)
    t = int(time.time())
    mac = hmac.new(wrong, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def check_webhook_forgery(webhook_url: str | None) -> CheckResult:
    """POST a forged ``payment_intent.succeeded``: once unsigned, once signed with a wrong secret.
    A 2xx to either is a gap (the handler would fulfil an order nobody paid for)."""
    if not webhook_url:
        return _result("webhook_rejects_forgeries", "n/a", "no webhook URL given", [])
    url = webhook_endpoint(webhook_url)
    attempts = (("unsigned", None), ("signed with a wrong secret", _wrong_signature))
    details: list[str] = [f"endpoint: {url}"]
    accepted, not_found, errors = [], 0, 0
    with _session() as http:
        for name, signer in attempts:
            body = _forged_event()
            headers = {"Content-Type": "application/json"}
            if signer:
                headers["Stripe-Signature"] = signer(body)
            try:
                resp = http.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
            except requests.RequestException as exc:
                errors += 1
                details.append(f"{name}: no answer ({type(exc).__name__})")
                continue
            code = resp.status_code
            if 200 <= code < 300:
                accepted.append(name)
                verdict = "ACCEPTED"
            elif code == 404:
                not_found += 1
                verdict = "not found"
            elif code >= 500:
                verdict = "refused with a server error (Stripe would retry a real one; a 400 says 'rejected')"
            else:
                verdict = "rejected"
            details.append(f"{name}: HTTP {code}, {verdict}")
    if accepted:
        return _result("webhook_rejects_forgeries", "gap", f"accepted a forged event ({', '.join(accepted)})", details,
                       "Verify Stripe-Signature on the raw body with the endpoint's signing secret "
                       "(stripe.Webhook.construct_event) before parsing or acting on an event; answer 400 otherwise.")
    if errors == len(attempts) or not_found == len(attempts):
        return _result("webhook_rejects_forgeries", "error",
                       "no webhook endpoint answered" if errors else "no webhook endpoint at this URL", details)
    return _result("webhook_rejects_forgeries", "pass", "rejected the unsigned and the wrongly signed event", details)


def _fetch_same_origin_assets(http: requests.Session, page_url: str, page: _PageParser) -> list[tuple[str, str]]:
    out = []
    for ref in [s["src"] for s in page.scripts if s.get("src")] + page.styles:
        url = urljoin(page_url, ref)
        if origin_of(url) != origin_of(page_url):
            continue
        try:
            resp = http.get(url, timeout=TIMEOUT)
            out.append((url, resp.text))
        except requests.RequestException:
            continue
    return out


def check_secret_key_in_pages(checkout_url: str, paths: Sequence[str] = ("/", "/payment-success"),
                              extra_texts: Mapping[str, str] | None = None) -> CheckResult:
    """Fetch the checkout's pages and its own scripts and stylesheets; scan them for
    ``sk_``/``rk_`` keys and webhook secrets (``extra_texts``: more responses, e.g. from the browser run)."""
    base = origin_of(checkout_url) or checkout_url.rstrip("/")
    texts: list[tuple[str, str]] = []
    details: list[str] = []
    with _session() as http:
        for path in paths:
            url = checkout_url.rstrip("/") + path if path != "/" else checkout_url
            try:
                resp = http.get(url, timeout=TIMEOUT)
            except requests.RequestException as exc:
                details.append(f"{path}: no answer ({type(exc).__name__})")
                continue
            texts.append((url, resp.text))
            if "html" in resp.headers.get("Content-Type", ""):
                texts += _fetch_same_origin_assets(http, url, parse_page(resp.text))
    texts += list((extra_texts or {}).items())
    if not texts:
        return _result("secret_key_not_in_pages", "error", "the checkout did not answer", details)
    leaks: list[str] = []
    publishable = False
    for url, text in texts:
        found = [f for f in scan_text(text, {}) if f.kind in SECRET_KINDS]
        shown = url.replace(base, "") or "/"
        if found:
            leaks.append(shown)
            details.append(f"{shown}: {', '.join(f.describe() for f in found)}")
        if re.search(r"pk_(test|live)_[A-Za-z0-9_]{8,}", text):
            publishable = True
    details.insert(0, f"scanned {len(texts)} responses: " + ", ".join(sorted({u.replace(base, '') or '/' for u, _ in texts})))
    if publishable:
        details.append("a publishable key (pk_…) is in the page: that is expected, it is public by design")
    if leaks:
        return _result("secret_key_not_in_pages", "gap", f"a secret appears in {', '.join(leaks)}", details,
                       "Remove the secret key from templates and scripts (only the publishable key belongs in a "
                       "page), then roll the exposed key in the Stripe Dashboard: it must be treated as stolen.")
    return _result("secret_key_not_in_pages", "pass", "no secret or restricted key, no webhook secret in any page", details)


def check_scripts_csp(checkout_url: str, stripe_origin: str | None = None,
                      browser: "BrowserEvidence | None" = None) -> CheckResult:
    """The payment page's scripts (inventory) and whether a Content-Security-Policy limits them
    to the page's own origin and Stripe.js: the SAQ A r1 script criterion, and what 6.4.3 asked."""
    try:
        with _session() as http:
            resp = http.get(checkout_url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return _result("scripts_restricted_by_csp", "error", f"the checkout page did not answer ({type(exc).__name__})")
    merchant = origin_of(resp.url or checkout_url)
    page = parse_page(resp.text)
    stripe = (stripe_origin or (browser.stripe_origin if browser else None) or _guess_stripe_origin(page, resp.url)
              or "").rstrip("/").lower()
    header = resp.headers.get("Content-Security-Policy", "")
    report_only = resp.headers.get("Content-Security-Policy-Report-Only", "")
    source = "header"
    if not header and page.meta_csp:
        header, source = page.meta_csp[0], "meta tag"
    details: list[str] = []
    inventory = _script_inventory(page, resp.url or checkout_url, browser)
    details.append("script inventory (what 6.4.3 asked for):")
    for s in inventory:
        details.append(f"  - {s['label']}")
    if stripe:
        details.append(f"Stripe.js origin: {stripe}")
    if not header:
        if report_only:
            details.append("only Content-Security-Policy-Report-Only is set: the browser reports but does not block")
        return _result("scripts_restricted_by_csp", "gap", "no Content-Security-Policy restricts the page's scripts",
                       details, _CSP_REMEDIATION.format(stripe=stripe or "https://js.stripe.com"))
    policy = parse_csp(header)
    directive = "script-src" if "script-src" in policy else "default-src" if "default-src" in policy else None
    details.append(f"CSP ({source}): {header}")
    if directive is None:
        return _result("scripts_restricted_by_csp", "gap", "the CSP has no script-src or default-src", details,
                       _CSP_REMEDIATION.format(stripe=stripe or "https://js.stripe.com"))
    problems: list[str] = []
    sources = [s.lower() for s in policy[directive]]
    has_nonce_or_hash = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)
    allowed_hosts = {"'self'", merchant, stripe} - {""}
    for s in sources:
        if s in ("*", "http:", "https:", "data:", "blob:", "filesystem:"):
            problems.append(f"{directive} allows {s} (any script from anywhere of that kind)")
        elif s == "'unsafe-inline'" and not has_nonce_or_hash:
            problems.append(f"{directive} allows 'unsafe-inline' (an injected <script> would run)")
        elif s == "'unsafe-eval'":
            problems.append(f"{directive} allows 'unsafe-eval'")
        elif s.startswith("'") or s in allowed_hosts or s.rstrip("/") in allowed_hosts:
            continue
        else:
            problems.append(f"{directive} allows scripts from {s}, which is neither this page's origin nor Stripe.js")
    if directive == "default-src":
        details.append("no script-src: default-src governs scripts")
    for s in inventory:
        if s["origin"] and s["origin"] not in (merchant, stripe):
            problems.append(f"the page loads a script from {s['origin']}")
        if s["inline"] and not has_nonce_or_hash and "'unsafe-inline'" not in sources:
            details.append(f"inline script {s['label']} would be blocked by this CSP")
    frames = policy.get("frame-src") or policy.get("child-src") or policy.get("default-src") or []
    details.append(f"frames allowed from: {' '.join(frames) or '(anywhere)'}")
    if browser is not None and browser.csp_violations:
        details.append(f"the browser reported {len(browser.csp_violations)} CSP violation(s): "
                       + "; ".join(sorted(set(browser.csp_violations))[:3]))
    if not any(s.get("integrity") for s in inventory if s["origin"]):
        details.append("no script carries Subresource Integrity (integrity=…); the reference suggests it where possible")
    details.append("not covered by any check here: watching the page for changes over time (what 11.6.1 asked)")
    if problems:
        details[:0] = [f"problem: {p}" for p in problems]
        return _result("scripts_restricted_by_csp", "gap", problems[0], details,
                       _CSP_REMEDIATION.format(stripe=stripe or "https://js.stripe.com"))
    return _result("scripts_restricted_by_csp", "pass",
                   f"the CSP limits scripts to the page's own origin and Stripe.js ({directive})", details)


_CSP_REMEDIATION = ("Send a Content-Security-Policy header on the payment page, e.g. \"script-src 'self' {stripe}; "
                    "frame-src {stripe}; object-src 'none'; base-uri 'none'\" (no 'unsafe-inline', no wildcards), "
                    "keep an inventory of the page's scripts with the reason for each, and watch the page for "
                    "changes; or obtain Stripe's written confirmation under PCI SSC FAQ 1588.")


def _guess_stripe_origin(page: _PageParser, page_url: str) -> str | None:
    for s in page.scripts:
        src = s.get("src")
        if not src:
            continue
        url = urljoin(page_url, src)
        if "js.stripe.com" in url or re.search(r"/v3/?$", urlsplit(url).path):
            return origin_of(url)
    return None


def _script_inventory(page: _PageParser, page_url: str, browser: "BrowserEvidence | None") -> list[dict[str, Any]]:
    merchant = origin_of(page_url)
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for s in page.scripts:
        if s.get("src"):
            url = urljoin(page_url, s["src"])
            seen.add(url)
            where = "this page's origin" if origin_of(url) == merchant else origin_of(url)
            items.append({"origin": origin_of(url), "inline": False, "integrity": s.get("integrity"),
                          "label": f"{urlsplit(url).path} from {where}"
                                   + (" (with integrity=)" if s.get("integrity") else "")})
        elif _executable_inline(s):
            items.append({"origin": "", "inline": True, "integrity": None,
                          "label": f"inline script ({len(s['text'].strip())} characters)"})
        else:
            items.append({"origin": "", "inline": False, "integrity": None,
                          "label": f"inline data block type={s.get('type')} (not executed)"})
    for url in (browser.main_frame_scripts if browser else []):
        if url not in seen:
            seen.add(url)
            items.append({"origin": origin_of(url), "inline": False, "integrity": None,
                          "label": f"{urlsplit(url).path} from {origin_of(url)} (loaded at run time)"})
    return items


# ----------------------------------------------------------------------------- configuration
_PLACEHOLDER = re.compile(r"(example|your|xxxx|placeholder|changeme|dummy|123456)", re.I)


def check_default_credentials(settings: Any = None, env_file: str | os.PathLike | None = None,
                              root: str | os.PathLike | None = None) -> CheckResult:
    """The kit's configuration: the offline fake keys used with real Stripe, placeholder keys, a
    missing webhook secret, a ``.env`` readable by others or tracked by git."""
    from labkit.settings import OFFLINE_PUBLISHABLE_KEY, OFFLINE_SECRET_KEY, load_settings, project_root, redact

    settings = settings or load_settings()
    root = Path(root) if root else project_root()
    env_path = Path(env_file) if env_file else root / ".env"
    details: list[str] = []
    gaps: list[str] = []
    if settings.offline:
        details.append(f"backend: offline fake Stripe; secret key {redact(settings.secret_key)} is the kit's built-in "
                       "key, accepted only by the fake Stripe on this machine (it moves no money and opens no account)")
    else:
        details.append(f"backend: Stripe test mode; secret key {redact(settings.secret_key)}, "
                       f"publishable key {redact(settings.publishable_key)}")
        if settings.secret_key == OFFLINE_SECRET_KEY or settings.publishable_key == OFFLINE_PUBLISHABLE_KEY:
            gaps.append("the kit's public offline key is configured for Stripe mode (a key every student knows)")
        for name, value in (("STRIPE_SECRET_KEY", settings.secret_key), ("STRIPE_PUBLISHABLE_KEY", settings.publishable_key)):
            if value and _PLACEHOLDER.search(value.split("_", 2)[-1]):
                gaps.append(f"{name} looks like a placeholder ({redact(value)})")
        if not settings.webhook_secret:
            gaps.append("no STRIPE_WEBHOOK_SECRET: the webhook handler cannot verify Stripe's signatures")
        elif _PLACEHOLDER.search(settings.webhook_secret[6:]):
            gaps.append(f"STRIPE_WEBHOOK_SECRET looks like a placeholder ({redact(settings.webhook_secret)})")
    if env_path.is_file():
        mode = env_path.stat().st_mode & 0o777
        if os.name == "posix" and mode & 0o077:
            gaps.append(f".env is readable by other users of this machine (mode {mode:o}; chmod 600 .env)")
        else:
            details.append(".env exists and only its owner can read it")
        if _git_tracked(root, env_path):
            gaps.append(".env is committed to git: everyone with the repository has the keys")
        else:
            details.append(".env is not tracked by git")
    else:
        details.append("no .env file (keys, if any, come from the environment)")
    details.append("no login of the kit has a password: the servers have no admin accounts to default")
    if gaps:
        details[:0] = [f"problem: {g}" for g in gaps]
        return _result("no_default_credentials", "gap", gaps[0], details,
                       "Use your own test keys from the Dashboard (never the kit's offline key or a sample value), "
                       "keep .env private (chmod 600, listed in .gitignore), and roll any key that was shared.")
    summary = ("offline: only the kit's fake key, which nothing but the local fake Stripe accepts"
               if settings.offline else "own test keys and a webhook secret; .env private")
    return _result("no_default_credentials", "pass", summary, details)


def _git_tracked(root: Path, path: Path) -> bool:
    try:
        out = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=root, capture_output=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def check_dependencies(root: str | os.PathLike | None = None) -> CheckResult:
    """The pinned dependencies (pyproject.toml) and what is installed: the list to review
    against advisories for 6.3.1 and to keep patched for 6.3.3."""
    from importlib import metadata

    from labkit.settings import project_root

    root = Path(root) if root else project_root()
    pyproject = root / "pyproject.toml"
    specs: list[str] = []
    origin = ""
    if pyproject.is_file():
        import tomllib

        doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        project = doc.get("project", {})
        specs = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            specs += list(extra)
        origin = "pyproject.toml"
    else:
        try:
            specs = [r.split(";")[0].strip() for r in metadata.requires("labkit") or []]
            origin = "the installed labkit's metadata"
        except metadata.PackageNotFoundError:
            return _result("dependency_inventory", "error", "no pyproject.toml and labkit is not installed")
    details = [f"Python {sys.version_info.major}.{sys.version_info.minor}; packages from {origin}:"]
    mismatched, unpinned = [], []
    for spec in specs:
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(==|>=|~=|<=|>|<)?\s*([^;\s,]*)", spec)
        if not m:
            continue
        name, op, want = re.sub(r"\[.*\]", "", m.group(1)), m.group(2), m.group(3)
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "not installed"
        note = ""
        if op != "==":
            unpinned.append(name)
            note = " (not pinned)"
        elif have != want:
            mismatched.append(f"{name} {have} (pinned {want})")
            note = f" (pinned {want})"
        details.append(f"  - {name} {have}{note}")
    details.append("Review these versions against security advisories (for example `pip-audit`, the GitHub advisory "
                   "database, the projects' security pages) and record who does it and how often; this check does "
                   "not query a vulnerability database (the kit works offline).")
    if mismatched or unpinned:
        bad = mismatched + [f"{n} (not pinned)" for n in unpinned]
        return _result("dependency_inventory", "gap", f"installed versions differ from the pins: {', '.join(bad)}",
                       details, "Reinstall from the pins (python3 run.py) or update the pins deliberately after "
                                "reviewing the changes; keep every dependency pinned.")
    return _result("dependency_inventory", "pass",
                   f"{len(specs)} packages, all pinned and installed as pinned; to review against advisories", details)


# ----------------------------------------------------------------------------- data at rest
def _sqlite_texts(path: Path) -> Iterator[tuple[str, str]]:
    uri = f"file:{path.resolve().as_posix()}?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=5)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cur = con.execute(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            for row in cur:
                for col, value in zip(cols, row):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, (str, int)) and len(str(value)) >= 13:
                        yield f"{path.name}: {table}.{col}", str(value)
    finally:
        con.close()


def check_card_data_at_rest(db_paths: Sequence[str | os.PathLike] = (), log_paths: Sequence[str | os.PathLike] = (),
                            log_texts: Mapping[str, str] | None = None) -> CheckResult:
    """Scan the merchant's SQLite databases and logs for card numbers (test cards included:
    a test card in a log shows the code would log a real one)."""
    cards = load_test_cards()
    details: list[str] = []
    hits: list[str] = []
    scanned = 0
    for db in db_paths:
        path = Path(db)
        if not path.is_file():
            details.append(f"database {path.name}: not found")
            continue
        values = 0
        try:
            for where, text in _sqlite_texts(path):
                values += 1
                found = card_findings(text, cards)
                if found:
                    hits.append(f"{where}: {describe_cards(found)}")
        except sqlite3.Error as exc:
            details.append(f"database {path.name}: could not be read ({exc})")
            continue
        scanned += 1
        details.append(f"database {path.name}: every table and column read")
    for log in log_paths:
        path = Path(log)
        if not path.is_file():
            details.append(f"log {path.name}: not found")
            continue
        found = card_findings(path.read_text(encoding="utf-8", errors="replace"), cards)
        scanned += 1
        details.append(f"log {path.name}: read")
        if found:
            hits.append(f"log {path.name}: {describe_cards(found)}")
    for name, text in (log_texts or {}).items():
        found = card_findings(text, cards)
        scanned += 1
        details.append(f"{name}: read")
        if found:
            hits.append(f"{name}: {describe_cards(found)}")
    if not scanned:
        return _result("no_card_data_at_rest", "n/a", "no log or database given to scan", details)
    if hits:
        details[:0] = [f"card number in {h}" for h in hits]
        return _result("no_card_data_at_rest", "gap", f"card numbers stored: {hits[0]}", details,
                       "Find the code that logs or stores request bodies or card fields and remove it; the card "
                       "field must stay Stripe's iframe. Delete the stored copies (logs, database rows, backups).")
    return _result("no_card_data_at_rest", "pass", "no card number in the merchant's logs or database", details)


class LogCapture(logging.Handler):
    """Everything the servers in this process log while it is attached (the fake Stripe's own
    log is left out: it plays Stripe, not the merchant)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("labkit.fakestripe"):
            return
        try:
            line = f"{record.levelname} {record.name}: {record.getMessage()}"
            if record.exc_info:
                line += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:  # a broken log call must not break the server
            return
        with self._lock_lines:
            self.lines.append(line)

    @property
    def text(self) -> str:
        with self._lock_lines:
            return "\n".join(self.lines)


@contextmanager
def capture_logs(names: Sequence[str] = ("labkit", "waitress", "werkzeug", "flask")) -> Iterator[LogCapture]:
    """Record every log record of the named loggers (at DEBUG) while the block runs."""
    handler = LogCapture()
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)


# ----------------------------------------------------------------------------- browser evidence
@dataclass
class RecordedRequest:
    url: str
    method: str
    resource_type: str
    post_data: str | None
    frame_url: str

    @property
    def origin(self) -> str:
        return origin_of(self.url)


@dataclass
class FrameInfo:
    url: str
    origin: str
    main: bool
    card_inputs: list[str]


@dataclass
class BrowserEvidence:
    """What headless Chromium saw on the checkout page."""

    checkout_url: str
    merchant_origin: str
    stripe_origin: str | None
    requests: list[RecordedRequest] = field(default_factory=list)
    frames: list[FrameInfo] = field(default_factory=list)
    main_frame_scripts: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    main_dom_cards: list[str] = field(default_factory=list)  # card numbers readable in the page's own DOM
    runs: list[dict[str, Any]] = field(default_factory=list)
    merchant_responses: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def classify(self, url: str) -> str:
        origin = origin_of(url)
        if not origin:
            return "local"  # data:, blob:, about:
        if origin == self.merchant_origin:
            return "merchant"
        host = urlsplit(url).hostname or ""
        if origin == self.stripe_origin or host.endswith((".stripe.com", ".stripe.network")):
            return "stripe"
        return "third party"


def _recording_browser_class():
    from labkit.browser import CheckoutBrowser

    class RecordingBrowser(CheckoutBrowser):
        """:class:`CheckoutBrowser` whose pages record every request of every frame."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.recorded: list[RecordedRequest] = []
            self.console: list[str] = []

        def new_page(self):
            page = super().new_page()

            def on_request(req) -> None:
                try:
                    body = req.post_data
                except Exception:  # binary bodies
                    buf = req.post_data_buffer
                    body = base64.b64encode(buf).decode() if buf else None
                try:
                    frame_url = req.frame.url
                except Exception:
                    frame_url = ""
                self.recorded.append(RecordedRequest(req.url, req.method, req.resource_type, body, frame_url))

            page.context.on("request", on_request)
            page.on("console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None)
            return page

    return RecordingBrowser


def _frame_inventory(page) -> list[FrameInfo]:
    frames = []
    for frame in page.frames:
        try:
            names = frame.evaluate(
                """() => Array.from(document.querySelectorAll('input, select, textarea')).map(
                       e => [e.name, e.id, e.autocomplete].filter(Boolean).join('/'))""")
        except Exception:
            names = []
        card = [n for n in names if _is_card_input({"name": n})]
        frames.append(FrameInfo(frame.url, origin_of(frame.url), frame == page.main_frame, card))
    return frames


_SUBMIT = "#submit-btn, button[type=submit], input[type=submit]"


def _open(browser: Any, url: str, frame_selector: str, wait_ms: int = 8000):
    """Open the page and wait until Stripe's card iframe or a card input of the page's own shows up."""
    page = browser.new_page()
    page.goto(url, wait_until="load")
    end = time.monotonic() + wait_ms / 1000
    while time.monotonic() < end:
        if page.locator(frame_selector).count() or _main_card_inputs(page):
            break
        page.wait_for_timeout(100)
    if page.locator(frame_selector).count():
        try:
            page.locator(f"{_SUBMIT.split(',')[0]}:not([disabled])").wait_for(timeout=wait_ms)
        except Exception:
            pass
    return page


def _main_card_inputs(page) -> list[Any]:
    found = []
    for el in page.main_frame.locator("input").all():
        attrs = {k: el.get_attribute(k) or "" for k in ("name", "id", "autocomplete")}
        if _is_card_input(attrs):
            found.append((attrs, el))
    return found


def _type_into_page(page, number: str) -> bool:
    """A checkout that draws its own card inputs (what SAQ A forbids): type into them as a person would."""
    inputs = _main_card_inputs(page)
    if not inputs:
        return False
    values = {"cardnumber": number, "card-number": number, "card_number": number, "cc-number": number,
              "ccnumber": number, "exp-date": "12 / 34", "cc-exp": "12 / 34", "cvc": "123", "cvv": "123",
              "cc-csc": "123"}
    for attrs, el in inputs:
        keys = re.split(r"[\s/]+", " ".join(attrs.values()).lower())
        value = next((values[k] for k in keys if k in values), None)
        if value:
            el.fill(value)
    return True


def _pay_self_hosted(browser: Any, url: str, scenario: Any, frame_selector: str) -> dict[str, Any]:
    page = _open(browser, url, frame_selector)
    try:
        if not _type_into_page(page, scenario.number):
            return {"scenario": scenario.key, "card": scenario.number[-4:], "outcome": "error: no card field"}
        page.locator(_SUBMIT).first.click()
        try:
            page.wait_for_load_state("networkidle", timeout=5000)
        except Exception:
            pass
        return {"scenario": scenario.key, "card": scenario.number[-4:], "outcome": "submitted (self-hosted card form)"}
    finally:
        page.context.close()


def _collect(checkout_url: str, scenarios: Sequence[Any], executable_path: str | None, timeout: float,
             stripe_origin: str | None) -> BrowserEvidence:
    from labkit.browser import CARD_FRAME

    merchant = origin_of(checkout_url)
    ev = BrowserEvidence(checkout_url, merchant, stripe_origin)
    cards = load_test_cards()
    cls = _recording_browser_class()
    with cls(checkout_url, executable_path=executable_path, timeout=timeout) as browser:
        # 1. the page with a card typed in, not paid: where do the card inputs live, what can the page read?
        page = _open(browser, checkout_url, CARD_FRAME)
        stripe_iframe = bool(page.locator(CARD_FRAME).count())
        try:
            if scenarios:
                if stripe_iframe:
                    page.fill("#cardholder-name", "Lab Student")
                    browser.type_card(page, scenarios[0].number)
                else:
                    _type_into_page(page, scenarios[0].number)
            ev.frames = _frame_inventory(page)
            ev.main_frame_scripts = page.evaluate(
                "() => performance.getEntriesByType('resource').filter(e => e.initiatorType === 'script')"
                ".map(e => e.name)")
            src = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(Boolean)")
            if ev.stripe_origin is None:
                card_frames = [f.origin for f in ev.frames if f.card_inputs and not f.main]
                js = [origin_of(s) for s in src if "js.stripe.com" in s or re.search(r"/v3/?$", urlsplit(s).path)]
                ev.stripe_origin = (js or card_frames or [None])[0]
            # what the merchant's own script could read: the values of the page's inputs (the hint text
            # listing the public test cards is not the typed card, so the page's text is not scanned)
            ev.main_dom_cards = [f.describe() for f in card_findings(page.evaluate(
                "() => Array.from(document.querySelectorAll('input, textarea')).map(i => i.value).join(' | ')"), cards)]
        finally:
            page.context.close()
        # 2. payments, every request recorded
        for sc in scenarios:
            try:
                if stripe_iframe:
                    run = browser.pay(sc)
                    ev.runs.append({"scenario": sc.key, "card": run.card, "outcome": run.outcome})
                else:
                    ev.runs.append(_pay_self_hosted(browser, checkout_url, sc, CARD_FRAME))
            except Exception as exc:  # a failed run is evidence too; the requests so far are kept
                ev.runs.append({"scenario": sc.key, "card": sc.number[-4:], "outcome": f"error: {type(exc).__name__}"})
        ev.requests = list(browser.recorded)
        ev.csp_violations = list(browser.console)
    # responses from the merchant, fetched again outside the browser for the secret-key scan
    with _session() as http:
        for req in ev.requests:
            if ev.classify(req.url) == "merchant" and req.method == "GET" and req.url not in ev.merchant_responses:
                try:
                    ev.merchant_responses[req.url] = http.get(req.url, timeout=TIMEOUT).text
                except requests.RequestException:
                    pass
    return ev


def collect_browser_evidence(checkout_url: str, scenarios: Sequence[Any] | None = None, *,
                             executable_path: str | None = None, timeout: float = 30.0,
                             stripe_origin: str | None = None) -> BrowserEvidence:
    """Drive the checkout in headless Chromium (in a worker thread: safe from a notebook) and record
    every request, the frames with card inputs and the page's scripts.

    ``scenarios`` default to two of the lab's five: the successful card and 3D Secure completed.
    """
    from labkit.browser import in_worker_thread, load_scenarios

    if scenarios is None:
        scenarios = [s for s in load_scenarios() if s.key in ("success", "3ds_complete")]
    try:
        return in_worker_thread(_collect, checkout_url, list(scenarios), executable_path, timeout, stripe_origin)
    except Exception as exc:
        return BrowserEvidence(checkout_url, origin_of(checkout_url), stripe_origin,
                               error=f"the browser run failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def check_requests_carry_no_card(ev: BrowserEvidence) -> CheckResult:
    """No request to the merchant's origin (or any third party) carries a card number; the card goes to Stripe."""
    if ev.error and not ev.requests:
        return _result("no_card_data_in_requests", "error", ev.error)
    cards = load_test_cards()
    counts = {"merchant": 0, "stripe": 0, "third party": 0, "local": 0}
    to_stripe: list[str] = []
    leaks: list[str] = []
    for req in ev.requests:
        kind = ev.classify(req.url)
        counts[kind] += 1
        found = card_findings(f"{req.url}\n{req.post_data or ''}", cards)
        if not found:
            continue
        path = urlsplit(req.url).path
        if kind == "stripe":
            to_stripe.append(f"{req.method} {path} ({describe_cards(found)})")
        else:
            leaks.append(f"{req.method} {origin_of(req.url) or req.url[:20]}{path} ({kind}): {describe_cards(found)}")
    runs = ", ".join(f"{r['scenario']} → {r['outcome']}" for r in ev.runs) or "none"
    details = [f"payments driven: {runs}",
               "requests recorded (page and frames): "
               + ", ".join(f"{'some' if counts[k] else 'none'} to {label}" for k, label in (
                   ("merchant", f"the merchant ({ev.merchant_origin})"),
                   ("stripe", f"Stripe ({ev.stripe_origin or 'not found'})"), ("third party", "third parties")))]
    if to_stripe:
        details.append("the card number was sent only in: " + "; ".join(sorted(set(to_stripe))))
    if ev.main_dom_cards:
        details.append("card numbers readable in the merchant page's own DOM: " + "; ".join(sorted(set(ev.main_dom_cards))))
    if leaks or ev.main_dom_cards:
        details[:0] = [f"card number sent in {l}" for l in leaks]
        what = leaks[0] if leaks else "the merchant's page can read the card number (it is not in Stripe's iframe)"
        return _result("no_card_data_in_requests", "gap", what, details,
                       "Take card details only in Stripe's card Element (its iframe) and confirm with Stripe.js; "
                       "never post card fields to your own server or read them in your page's script.")
    if not to_stripe:
        return _result("no_card_data_in_requests", "error",
                       "no request carried the test card at all: the browser run did not reach Stripe", details)
    return _result("no_card_data_in_requests", "pass",
                   "card numbers went only to Stripe's origin; no request to the merchant carried one", details)


def check_card_fields_origin(ev: BrowserEvidence) -> CheckResult:
    """The card inputs live only in frames served from Stripe's origin, not in the merchant's page."""
    if ev.error and not ev.frames:
        return _result("card_fields_from_provider", "error", ev.error)
    details = []
    for f in ev.frames:
        role = "the merchant's page" if f.main else f"iframe from {f.origin or f.url[:30]}"
        details.append(f"{role}: {', '.join(f.card_inputs) if f.card_inputs else 'no card inputs'}")
    main_card = [f for f in ev.frames if f.main and f.card_inputs]
    foreign = [f for f in ev.frames if not f.main and f.card_inputs and f.origin != ev.stripe_origin]
    provider = [f for f in ev.frames if not f.main and f.card_inputs and f.origin == ev.stripe_origin]
    if main_card or foreign:
        where = "the merchant's own page" if main_card else f"a frame from {foreign[0].origin}"
        return _result("card_fields_from_provider", "gap", f"card inputs found in {where}", details,
                       "Remove the card inputs from your page and mount Stripe's card Element instead (served by "
                       "Stripe in its own iframe); then SAQ A's 'all elements from the provider' criterion holds.")
    if not provider:
        return _result("card_fields_from_provider", "error", "no card inputs found in any frame", details)
    if provider[0].origin == ev.merchant_origin:
        return _result("card_fields_from_provider", "gap", "the card iframe is served from the merchant's own origin",
                       details, "Serve the card field from Stripe (js.stripe.com), never from your own server.")
    return _result("card_fields_from_provider", "pass",
                   f"the card inputs are only in a cross-origin iframe from Stripe's origin ({provider[0].origin})",
                   details)


# ----------------------------------------------------------------------------- everything together
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
    from labkit.pci.requirements import load_saq

    saq = saq or load_saq()
    for r in results:
        reqs = [q.number for q in saq.requirements if r.id in q.checks]
        reqs += [f"eligibility: {c.id}" for c in saq.eligibility if r.id in (*c.checks, *c.related_checks)]
        reqs += [f"{q.number} (removed in r1)" for q in saq.removed if r.id in q.checks]
        r.requirements = tuple(reqs)


def run_checks(target: Target, *, settings: Any = None, browser: bool = True, scenarios: Sequence[Any] | None = None,
               log_texts: Mapping[str, str] | None = None, env_file: str | os.PathLike | None = None,
               root: str | os.PathLike | None = None, browser_evidence: BrowserEvidence | None = None) -> Evidence:
    """Every check against ``target``. ``browser=False`` skips the Chromium run (its checks become n/a)."""
    ev = browser_evidence
    if ev is None and browser:
        ev = collect_browser_evidence(target.checkout_url, scenarios, stripe_origin=target.stripe_origin)
    stripe_origin = target.stripe_origin or (ev.stripe_origin if ev else None)
    results: list[CheckResult] = []
    if ev is not None:
        results.append(check_requests_carry_no_card(ev))
    else:
        results.append(_result("no_card_data_in_requests", "n/a", "no browser run (--no-browser)"))
    results.append(check_card_data_at_rest(target.db_paths, target.log_paths, log_texts))
    if ev is not None:
        results.append(check_card_fields_origin(ev))
    else:
        results.append(_result("card_fields_from_provider", "n/a", "no browser run (--no-browser)"))
    results.append(check_scripts_csp(target.checkout_url, stripe_origin, ev))
    results.append(check_transport(target.checkout_url, target.webhook_url))
    results.append(check_webhook_forgery(target.webhook_url))
    urls = {"checkout": target.checkout_url, **({"webhooks": target.webhook_url} if target.webhook_url else {})}
    results.append(check_debug_mode(urls))
    results.append(check_default_credentials(settings, env_file, root))
    results.append(check_secret_key_in_pages(target.checkout_url, extra_texts=ev.merchant_responses if ev else None))
    results.append(check_dependencies(root))
    attach_requirements(results)
    return Evidence(target, results, ev)


def run_lab_checks(lab: Any, *, browser: bool = True, scenarios: Sequence[Any] | None = None, config: Any = None,
                   extra_db: Sequence[Path] = (), log_paths: Sequence[Path] = ()) -> Evidence:
    """:func:`run_checks` for a running :class:`labkit.lab.Lab`, with the logs of the servers in this
    process captured during the run, and the kit's database scanned afterwards.

    ``config``: the settings whose credentials are checked (default: the lab's own).
    """
    target = Target(lab.checkout_url, lab.webhook_url, lab.backend.js_origin,
                    db_paths=(Path(lab.settings.db_path), *map(Path, extra_db)), log_paths=tuple(map(Path, log_paths)))
    with capture_logs() as logs:  # also keeps the servers' warnings about the forged webhooks out of the output
        ev = collect_browser_evidence(lab.checkout_url, scenarios, stripe_origin=target.stripe_origin) if browser else None
        if lab.webhook_store is not None:
            _wait_for_deliveries(lab)
        evidence = run_checks(target, settings=config or lab.settings, browser=browser, browser_evidence=ev,
                              log_texts={"server logs captured in this process": logs.text})
    # the forged webhooks were logged after the at-rest scan ran: scan the complete log once more
    late = check_card_data_at_rest(target.db_paths, target.log_paths, {"server logs captured in this process": logs.text})
    late.requirements = evidence.get("no_card_data_at_rest").requirements
    evidence.results = [late if r.id == late.id else r for r in evidence.results]
    return evidence


def _wait_for_deliveries(lab: Any, quiet: float = 0.5, limit: float = 10.0) -> None:
    """Let the fake Stripe's webhook deliveries for the browser payments land before the database is read."""
    store = lab.webhook_store
    end = time.monotonic() + limit
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        try:
            n = len(store.deliveries(5000))
        except Exception:
            return
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)
