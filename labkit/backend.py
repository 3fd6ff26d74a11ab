"""Backend choice: the offline fake Stripe or Stripe test mode, behind one StripeClient.

Everything in the kit talks to Stripe through :class:`Backend`: the same code path for
both modes, only the API base and the Stripe.js URL differ.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

import requests
import stripe

from labkit.errors import LabClosedError, RunFromTheTop
from labkit.money import format_money
from labkit.settings import Settings, redact

STRIPE_API_BASE = "https://api.stripe.com"
STRIPE_JS_URL = "https://js.stripe.com/v3/"
SHARED_FAKE_PORT = 12111  # `labkit fakestripe`'s default, shared by the standalone commands


def unreachable(api_base: str) -> str:
    """The one-line message for a Stripe API that does not answer (no network, firewall…)."""
    host = api_base.split("://", 1)[-1].split("/", 1)[0] or api_base
    return f"no answer from {host}: check the connection, or set LABKIT_BACKEND=fake to work offline"


class StripeUnreachable(RuntimeError):
    """The Stripe API did not answer; the message is one line that says what to do."""


def problem_line(exc: BaseException) -> str | None:
    """One line (what happened, what to do) for an error the environment caused: no network,
    no browser, a closed lab. ``None`` for any other error (a bug keeps its traceback)."""
    if isinstance(exc, stripe.APIConnectionError):
        at = re.search(r"host='([^']+)'(?:, port=(\d+))?", str(exc))  # as requests/urllib3 word it
        host = at.group(1) + (f":{at.group(2)}" if at.group(2) not in (None, "80", "443") else "") if at else ""
        mine = re.search(r"Stripe API at ([^\s(]+)", str(exc))  # as labkit.stripe_transport words it
        host = host or (mine.group(1) if mine else "")
        return unreachable(host or "the Stripe API")
    from labkit.chromium import ChromiumNotFound

    if isinstance(exc, (StripeUnreachable, ChromiumNotFound)) or getattr(exc, "one_line", False):
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        todo = getattr(exc, "what_to_do", "")
        return f"{line.rstrip('.')}: {todo}" if todo else line
    return None


def _show_folded(text: str) -> None:
    """What the student's code printed (its traceback), folded under the one-line message."""
    import html

    from IPython.display import HTML, display

    display(HTML("<details><summary>the traceback and what the file printed</summary>"
                 f"<pre>{html.escape(text)}</pre></details>"), metadata={"labkit": "folded"})


def _one_line_traceback(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
    line = problem_line(value)
    if line is None:  # not ours after all: the usual traceback
        return shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    stb = [f"{etype.__name__}: {line}"]
    show = getattr(shell, "_showtraceback", None)  # ipykernel: an error output of one line
    if show is not None:
        show(etype, line, stb)
    else:
        print(stb[0], file=sys.stderr)
    if getattr(value, "folded", ""):
        _show_folded(value.folded)
    return stb


def notebook_messages(exc_types: tuple[type, ...] = ()) -> bool:
    """In a notebook (IPython), show environment errors as one line instead of a traceback.

    Called by :func:`connect` and the browser runs; does nothing outside IPython or when the
    notebook set its own handler. Returns whether the handler is in place.
    """
    ipython = sys.modules.get("IPython")  # not imported: not a notebook (and no import cost for the CLI)
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    from labkit.chromium import ChromiumNotFound
    from labkit.student.runner import StudentServerError

    ours = getattr(shell, "_labkit_exc_types", None)
    if shell.custom_exceptions and ours is None:
        return False  # someone else's handler: leave it
    wanted = tuple(dict.fromkeys((*(ours or ()), stripe.APIConnectionError, StripeUnreachable, ChromiumNotFound,
                                  LabClosedError, RunFromTheTop, StudentServerError, *exc_types)))
    if wanted != ours:
        shell.set_custom_exc(wanted, _one_line_traceback)
        shell._labkit_exc_types = wanted
    return True


@dataclass
class Backend:
    settings: Settings
    api_base: str
    js_url: str
    client: stripe.StripeClient
    fake: Any = None  # offline: the FakeStripe this backend started, or a RemoteFake for one started elsewhere
    _closed: bool = field(default=False, repr=False)

    @property
    def offline(self) -> bool:
        return self.settings.offline

    @property
    def js_origin(self) -> str:
        """The origin Stripe.js (and its card iframe) comes from, for the page's CSP."""
        scheme, rest = self.js_url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @property
    def api_origin(self) -> str:
        scheme, rest = self.api_base.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def account(self) -> dict[str, Any]:
        """The account's test-mode state, read through the API (a plain dict)."""
        try:
            acct = self.client.v1.accounts.retrieve_current().to_dict()
            balance = self.client.v1.balance.retrieve()
        except stripe.APIConnectionError:
            raise StripeUnreachable(unreachable(self.api_base)) from None
        return {
            "account id": acct["id"],
            "business name": (acct.get("business_profile") or {}).get("name")
            or (acct.get("settings") or {}).get("dashboard", {}).get("display_name"),
            "country": acct.get("country"),
            "default currency": acct.get("default_currency"),
            "charges enabled": acct.get("charges_enabled"),
            "payouts enabled": acct.get("payouts_enabled"),
            "card payments": (acct.get("capabilities") or {}).get("card_payments"),
            "test mode (livemode false)": not balance.livemode,
            "pending balance": ", ".join(format_money(b.amount, b.currency) for b in balance.pending) or "0",
        }

    def ping(self) -> tuple[bool, str]:
        """Does the API answer with these keys? ``(ok, human-readable detail)``."""
        try:
            acct = self.client.v1.accounts.retrieve_current()
            return True, f"answers at {self.api_base} (account {acct.id})"
        except stripe.AuthenticationError as exc:
            return False, f"the API at {self.api_base} rejected the secret key: {exc.user_message}"
        except stripe.APIConnectionError:
            return False, unreachable(self.api_base)
        except stripe.StripeError as exc:
            return False, f"the API at {self.api_base} answered with an error: {exc.user_message}"

    def close(self) -> None:
        if self.fake is not None and not self._closed:
            self.fake.stop()
        self._closed = True

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def make_client(secret_key: str, api_base: str) -> stripe.StripeClient:
    """The kit's Stripe client; for the fake on this machine, over :mod:`labkit.stripe_transport`."""
    from labkit.kit_server import is_loopback_url

    http_client = None
    if is_loopback_url(api_base):
        from labkit.stripe_transport import LoopbackHTTPClient

        http_client = LoopbackHTTPClient()
    return stripe.StripeClient(secret_key, base_addresses={"api": api_base}, max_network_retries=2,
                               http_client=http_client)


def connect(settings: Settings) -> Backend:
    """Open the backend the settings choose; in offline mode start the fake unless one is given."""
    notebook_messages()
    fake = None
    if settings.offline:
        if settings.api_base:
            from labkit.fakestripe import RemoteFake

            api_base = settings.api_base
            fake = RemoteFake(api_base, settings.secret_key)  # started elsewhere (the demo): not stopped here
        else:
            from labkit.fakestripe import FakeStripe

            fake = FakeStripe(host="127.0.0.1", port=0).start()
            api_base = fake.url
        js_url = api_base + "/v3/"
    else:
        api_base = settings.api_base or STRIPE_API_BASE
        js_url = STRIPE_JS_URL
    return Backend(settings=settings, api_base=api_base, js_url=js_url,
                   client=make_client(settings.secret_key, api_base), fake=fake)


KEY_ROLES = (
    ("STRIPE_SECRET_KEY", "secret_key", "server only: creates, confirms and reads payments",
     "never in a page, a log or a notebook output"),
    ("STRIPE_PUBLISHABLE_KEY", "publishable_key", "browser: loads Stripe.js and the card field",
     "public by design; it can only tokenize cards and confirm with a client secret"),
    ("STRIPE_WEBHOOK_SECRET", "webhook_secret", "webhook handler: checks each Stripe-Signature",
     "per endpoint; offline the kit registers one with the fake and uses its secret"),
)


def key_table(settings: Settings) -> list[dict[str, str]]:
    """The three keys, redacted, with what each one is for (for notebooks and reports)."""
    return [{"variable": var, "value (redacted)": redact(getattr(settings, attr)), "used by": role, "care": care}
            for var, attr, role, care in KEY_ROLES]


def _fake_answers(url: str) -> bool:
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1: no proxy from the environment may capture it, no .netrc
        try:
            with session.get(url + "/", timeout=0.5, stream=True, allow_redirects=False) as resp:
                return b"fake Stripe" in next(resp.iter_content(200), b"")
        except requests.RequestException:
            return False


def connect_shared(settings: Settings, start: bool = True) -> Backend | None:
    """The offline backend the standalone commands share (checkout, webhooks, trigger), so a
    purchase on the checkout reaches the webhook handler as in the handout.

    ``LABKIT_STRIPE_API_BASE`` if set; else the fake at 127.0.0.1:12111 if one answers;
    else, with ``start``, a fake started here on that port (other terminals then reach it).
    ``None`` if there is none and ``start`` is false.
    """
    if settings.api_base:
        return connect(settings)
    url = f"http://127.0.0.1:{SHARED_FAKE_PORT}"
    if _fake_answers(url):
        return connect(settings.with_(api_base=url))
    if not start:
        return None
    from labkit.fakestripe import FakeStripe

    fake = FakeStripe(port=SHARED_FAKE_PORT)
    try:
        fake.start()
    except OSError:
        fake = FakeStripe(port=0).start()
    backend = connect(settings.with_(api_base=fake.url))
    backend.fake = fake  # ours to stop
    print(f"Started the offline fake Stripe at {fake.url}; other terminals reach it with "
          f"LABKIT_STRIPE_API_BASE={fake.url}", flush=True)
    return backend
