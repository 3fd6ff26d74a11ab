"""What a payment page contains: its scripts, iframes, inputs and Content-Security-Policy.

Pure parsing (no network): the HTTP checks and the browser evidence both read pages through
these helpers, so "is this a card input" and "which scripts does the page run" mean one thing.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

CARD_INPUT_NAMES = ("cardnumber", "card-number", "card_number", "cc-number", "ccnumber", "cvc", "cvv", "exp-date",
                     "cc-exp", "cc-csc")


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url`` in lower case; ``""`` for data:, about: and the like."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def webhook_endpoint(url: str) -> str:
    """A webhook server's base URL (``http://host:port``) or its endpoint: the endpoint."""
    url = url.rstrip("/")
    return url + "/webhook" if urlsplit(url).path in ("", "/") else url


class PageParser(HTMLParser):
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


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def is_card_input(attrs: Mapping[str, str]) -> bool:
    values = re.split(r"[\s/]+", " ".join(str(attrs.get(k, "")).lower() for k in ("name", "id", "autocomplete")))
    return any(n in values for n in CARD_INPUT_NAMES)


def parse_csp(header: str) -> dict[str, list[str]]:
    """``{"script-src": ["'self'", "https://js.stripe.com"], …}`` (first of a repeated directive wins)."""
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.strip().split()
        if tokens:
            policy.setdefault(tokens[0].lower(), tokens[1:])
    return policy


def executable_inline(script: Mapping[str, Any]) -> bool:
    t = (script.get("type") or "").lower().split(";")[0].strip()
    return not script.get("src") and t in ("", "text/javascript", "application/javascript", "module")


def guess_stripe_origin(page: PageParser, page_url: str) -> str | None:
    for s in page.scripts:
        src = s.get("src")
        if not src:
            continue
        url = urljoin(page_url, src)
        if "js.stripe.com" in url or re.search(r"/v3/?$", urlsplit(url).path):
            return origin_of(url)
    return None


def script_inventory(page: PageParser, page_url: str, browser: BrowserEvidence | None) -> list[dict[str, Any]]:
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
        elif executable_inline(s):
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


# What headless Chromium saw (filled in by labkit.pci.browser_evidence; read by the checks here and in
# labkit.pci.http_checks): kept beside the parsing helpers so that neither imports the browser module.
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
    notes: list[str] = field(default_factory=list)  # what the run did (where the card was typed, …)
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
