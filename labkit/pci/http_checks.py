"""The checks that talk HTTP to the merchant's servers: HTTPS, debug mode, forged webhooks,
secrets in pages, and the payment page's scripts and Content-Security-Policy.

Each takes URLs only, so it works against any checkout and webhook server (the kit's, or a
student's own Flask apps): a missing route, a 404 or a 500 is reported as what was seen,
never raised.
"""
from __future__ import annotations

import re
import secrets
from typing import Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import requests

from labkit.leaks import SECRET_KINDS, scan_text
from labkit.pci.page import (BrowserEvidence, PageParser, guess_stripe_origin, origin_of, parse_csp, parse_page,
                             script_inventory, webhook_endpoint)
from labkit.pci.results import CheckResult, result
from labkit.webhook_signing import signature_header
from labkit.webhooks import probe
from labkit.kit_server import is_loopback_url


TIMEOUT = 10.0
USER_AGENT = "labkit-pci-check/1"
_DEBUG_MARKERS = ("Werkzeug Debugger", "__debugger__", "Traceback (most recent call last)", "werkzeug/debug",
                  "EVALEX", "The debugger caught an exception", "Interactive Console")


def http_session() -> requests.Session:
    """A session that talks to the given servers directly (never through a proxy from the environment)."""
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    s.trust_env = False
    return s


def check_transport(checkout_url: str, webhook_url: str | None = None) -> CheckResult:
    """HTTPS on the payment page (and the webhook endpoint). Plain HTTP on localhost is a gap
    to fix before going live, not a fault of the kit."""
    urls = {"checkout page": checkout_url, **({"webhook endpoint": webhook_url} if webhook_url else {})}
    plain = {name: u for name, u in urls.items() if urlsplit(u).scheme != "https"}
    details = [f"{name}: {origin_of(u)} ({'HTTPS' if name not in plain else 'plain HTTP'}"
               f"{', loopback only' if is_loopback_url(u) else ''})" for name, u in urls.items()]
    if not plain:
        return result("transport_security", "pass", "served over HTTPS", details)
    local = all(is_loopback_url(u) for u in plain.values())
    where = "on localhost (expected in the lab: nothing leaves this machine)" if local else "on a network address"
    details.append("Over plain HTTP anyone on the path can change the page and its scripts, which is exactly the "
                   "script attack the SAQ A criterion is about; Stripe also requires HTTPS for live payments.")
    return result("transport_security", "gap", f"plain HTTP {where}", details,
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
    with http_session() as http:
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
        return result("debug_mode_off", "error", "no server answered", details)
    if exposed:
        return result("debug_mode_off", "gap", f"debugger exposed on {', '.join(exposed)}", details,
                      "Turn debug off (never app.run(debug=True) or FLASK_DEBUG=1 outside your own machine); serve "
                      "with a production WSGI server such as waitress; return JSON errors without tracebacks.")
    return result("debug_mode_off", "pass", "no debugger, console or traceback exposed", details)


def check_webhook_forgery(webhook_url: str | None) -> CheckResult:
    """POST a forged ``payment_intent.succeeded`` (through :mod:`labkit.webhooks.probe`, the kit's one
    forged-event probe): once unsigned, once signed with a wrong secret. A 2xx to either is a gap
    (the handler would fulfil an order nobody paid for)."""
    if not webhook_url:
        return result("webhook_rejects_forgeries", "n/a", "no webhook URL given", [])
    url = webhook_endpoint(webhook_url)
    attempts = (("unsigned", None), ("signed with a wrong secret", "whsec_" + secrets.token_hex(24)))
    details: list[str] = [f"endpoint: {url}"]
    accepted, not_found, errors = [], 0, 0
    for name, secret in attempts:
        body = probe.stripe_body(probe.forged_payment(tag="labkitpciforged", amount=100))
        answer = probe.post_event(url, body, None if secret is None else signature_header(body, secret),
                                  timeout=TIMEOUT)
        code = answer.status
        if code is None:
            errors += 1
            details.append(f"{name}: {answer.text}")
            continue
        if answer.ok:
            accepted.append(name)
            verdict = "ACCEPTED"
        elif code in (404, 405):
            not_found += 1
            verdict = "no such route (not found)" if code == 404 else "no POST route here (method not allowed)"
        elif code >= 500:
            verdict = "refused with a server error (Stripe would retry a real one; a 400 says 'rejected')"
        else:
            verdict = "rejected"
        details.append(f"{name}: HTTP {code}, {verdict}")
    if accepted:
        return result("webhook_rejects_forgeries", "gap", f"accepted a forged event ({', '.join(accepted)})", details,
                      "Verify Stripe-Signature on the raw body with the endpoint's signing secret "
                      "(stripe.Webhook.construct_event) before parsing or acting on an event; answer 400 otherwise.")
    if errors + not_found == len(attempts):
        return result("webhook_rejects_forgeries", "error",
                      "no webhook endpoint at this URL" if not_found else "no webhook endpoint answered", details)
    return result("webhook_rejects_forgeries", "pass", "rejected the unsigned and the wrongly signed event", details)


def _fetch_same_origin_assets(http: requests.Session, page_url: str, page: PageParser) -> list[tuple[str, str]]:
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
    with http_session() as http:
        for path in paths:
            url = checkout_url.rstrip("/") + path if path != "/" else checkout_url
            try:
                resp = http.get(url, timeout=TIMEOUT)
            except requests.RequestException as exc:
                details.append(f"{path}: no answer ({type(exc).__name__})")
                continue
            texts.append((url, resp.text))
            if resp.status_code >= 400:
                details.append(f"{path}: HTTP {resp.status_code} (scanned all the same)")
            if "html" in resp.headers.get("Content-Type", ""):
                texts += _fetch_same_origin_assets(http, url, parse_page(resp.text))
    texts += list((extra_texts or {}).items())
    if not texts:
        return result("secret_key_not_in_pages", "error", "the checkout did not answer", details)
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
        return result("secret_key_not_in_pages", "gap", f"a secret appears in {', '.join(leaks)}", details,
                      "Remove the secret key from templates and scripts (only the publishable key belongs in a "
                      "page), then roll the exposed key in the Stripe Dashboard: it must be treated as stolen.")
    return result("secret_key_not_in_pages", "pass", "no secret or restricted key, no webhook secret in any page", details)


def check_scripts_csp(checkout_url: str, stripe_origin: str | None = None,
                      browser: BrowserEvidence | None = None) -> CheckResult:
    """The payment page's scripts (inventory) and whether a Content-Security-Policy limits them
    to the page's own origin and Stripe.js: the SAQ A r1 script criterion, and what 6.4.3 asked."""
    try:
        with http_session() as http:
            resp = http.get(checkout_url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return result("scripts_restricted_by_csp", "error", f"the checkout page did not answer ({type(exc).__name__})")
    if resp.status_code >= 400:
        return result("scripts_restricted_by_csp", "error",
                      f"the checkout page answered HTTP {resp.status_code}, not a payment page",
                      [f"GET {checkout_url}: HTTP {resp.status_code}, {resp.headers.get('Content-Type', 'no type')}"])
    merchant = origin_of(resp.url or checkout_url)
    page = parse_page(resp.text)
    stripe = (stripe_origin or (browser.stripe_origin if browser else None) or guess_stripe_origin(page, resp.url)
              or "").rstrip("/").lower()
    header = resp.headers.get("Content-Security-Policy", "")
    report_only = resp.headers.get("Content-Security-Policy-Report-Only", "")
    source = "header"
    if not header and page.meta_csp:
        header, source = page.meta_csp[0], "meta tag"
    details: list[str] = []
    inventory = script_inventory(page, resp.url or checkout_url, browser)
    details.append("script inventory (what 6.4.3 asked for):")
    for s in inventory:
        details.append(f"  - {s['label']}")
    if stripe:
        details.append(f"Stripe.js origin: {stripe}")
    if not header:
        if report_only:
            details.append("only Content-Security-Policy-Report-Only is set: the browser reports but does not block")
        return result("scripts_restricted_by_csp", "gap", "no Content-Security-Policy restricts the page's scripts",
                      details, _CSP_REMEDIATION.format(stripe=stripe or "https://js.stripe.com"))
    policy = parse_csp(header)
    directive = "script-src" if "script-src" in policy else "default-src" if "default-src" in policy else None
    details.append(f"CSP ({source}): {header}")
    if directive is None:
        return result("scripts_restricted_by_csp", "gap", "the CSP has no script-src or default-src", details,
                      _CSP_REMEDIATION.format(stripe=stripe or "https://js.stripe.com"))
    problems, findings = _policy_findings(policy, directive, inventory, merchant, stripe, browser)
    details += findings
    if problems:
        details[:0] = [f"problem: {p}" for p in problems]
        return result("scripts_restricted_by_csp", "gap", problems[0], details,
                      _CSP_REMEDIATION.format(stripe=stripe or "https://js.stripe.com"))
    return result("scripts_restricted_by_csp", "pass",
                  f"the CSP limits scripts to the page's own origin and Stripe.js ({directive})", details)


def _source_problems(directive: str, sources: list[str], allowed_hosts: set[str], nonce_or_hash: bool) -> list[str]:
    """What a script directive lets in beyond the page's own origin and Stripe.js."""
    problems = []
    for s in sources:
        if s in ("*", "http:", "https:", "data:", "blob:", "filesystem:"):
            problems.append(f"{directive} allows {s} (any script from anywhere of that kind)")
        elif s == "'unsafe-inline'" and not nonce_or_hash:
            problems.append(f"{directive} allows 'unsafe-inline' (an injected <script> would run)")
        elif s == "'unsafe-eval'":
            problems.append(f"{directive} allows 'unsafe-eval'")
        elif not (s.startswith("'") or s in allowed_hosts or s.rstrip("/") in allowed_hosts):
            problems.append(f"{directive} allows scripts from {s}, which is neither this page's origin nor Stripe.js")
    return problems


def _policy_findings(policy: dict[str, list[str]], directive: str, inventory: list[dict], merchant: str,
                     stripe: str, browser: BrowserEvidence | None) -> tuple[list[str], list[str]]:
    """(problems, details) of a page's CSP against its script inventory and what the browser reported."""
    sources = [s.lower() for s in policy[directive]]
    nonce_or_hash = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)
    problems = _source_problems(directive, sources, {"'self'", merchant, stripe} - {""}, nonce_or_hash)
    details = ["no script-src: default-src governs scripts"] if directive == "default-src" else []
    for s in inventory:
        if s["origin"] and s["origin"] not in (merchant, stripe):
            problems.append(f"the page loads a script from {s['origin']}")
        if s["inline"] and not nonce_or_hash and "'unsafe-inline'" not in sources:
            details.append(f"inline script {s['label']} would be blocked by this CSP")
    frames = policy.get("frame-src") or policy.get("child-src") or policy.get("default-src") or []
    details.append(f"frames allowed from: {' '.join(frames) or '(anywhere)'}")
    if browser is not None and browser.csp_violations:
        details.append(f"the browser reported {len(browser.csp_violations)} CSP violation(s): "
                       + "; ".join(sorted(set(browser.csp_violations))[:3]))
    if not any(s.get("integrity") for s in inventory if s["origin"]):
        details.append("no script carries Subresource Integrity (integrity=…); the reference suggests it where possible")
    details.append("not covered by any check here: watching the page for changes over time (what 11.6.1 asked)")
    return problems, details


_CSP_REMEDIATION = ("Send a Content-Security-Policy header on the payment page, e.g. \"script-src 'self' {stripe}; "
                    "frame-src {stripe}; object-src 'none'; base-uri 'none'\" (no 'unsafe-inline', no wildcards), "
                    "keep an inventory of the page's scripts with the reason for each, and watch the page for "
                    "changes; or obtain Stripe's written confirmation under PCI SSC FAQ 1588.")


