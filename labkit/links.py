"""The links a student's own browser can open, wherever the notebooks run.

On one's own machine the kit's servers listen on ``http://127.0.0.1:PORT`` and the browser on the
same machine opens them. On a JupyterHub, Binder or a remote JupyterLab the kernel (and so every
server the kit starts) runs on another computer: the student's browser reaches them only through
the Jupyter server's own address, via jupyter-server-proxy at ``<jupyter>/proxy/PORT/``.

:func:`browser_url` turns a local server URL into that link; :func:`show` prints it in a notebook.
Where the notebooks run comes from :class:`labkit.settings.Settings` (``jupyter_url``,
``jupyter_host``), read from ``JUPYTERHUB_SERVICE_PREFIX`` or ``LABKIT_JUPYTER_URL``.

Behind the proxy every server shares the Jupyter server's origin. Pages still work when they use
relative paths (the checkout page does; the fake Stripe.js finds its API from its own URL, see
:func:`proxied_sibling`), but the fake Stripe's card field is then the *same origin* as the shop:
:func:`card_field_isolated` says so, for notebook 04's evidence.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from labkit.kit_server import is_loopback_url
from labkit.settings import Settings, load_settings

# jupyter-server-proxy's X-Forwarded-Prefix: "<base_url>proxy/<port>" (handlers.py, _get_context_path).
_PROXY_PREFIX = re.compile(r"^((?:/[A-Za-z0-9._~%@+-]+)*)/proxy/(\d{1,5})$")

WHERE = {
    "": "on this machine",
    "jupyterhub": "on a JupyterHub",
    "binder": "on Binder",
    "remote": "behind a remote Jupyter server",
}


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


def behind_proxy(settings: Settings | None = None) -> bool:
    """Do the notebooks run on a Jupyter server the student's browser reaches from elsewhere?"""
    return bool(_settings(settings).jupyter_url)


def where(settings: Settings | None = None) -> str:
    """Where the notebooks run, in words: "on this machine", "on a JupyterHub", "on Binder"…"""
    return WHERE.get(_settings(settings).jupyter_host, WHERE["remote"])


def browser_url(local_url: str, settings: Settings | None = None) -> str:
    """The address of a kit server (``http://127.0.0.1:5000/path?q``) for the student's own browser.

    On this machine: the URL itself (the servers listen on 127.0.0.1, which every browser reaches;
    ``localhost`` may be tried as ``::1`` first). Behind a Jupyter server: ``<jupyter_url>proxy/5000/path?q``; a path such as
    ``/user/alice/proxy/5000/`` when only the hub's path is known (a link opened from the notebook
    resolves it against the hub's address). URLs of other machines are returned unchanged.
    """
    s = _settings(settings)
    parts = urlsplit(local_url)
    if not is_loopback_url(local_url) or not parts.port:
        return local_url
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    if not s.jupyter_url:
        return f"{parts.scheme}://{parts.netloc}{path}{query}"
    return f"{s.jupyter_url}proxy/{parts.port}{path}{query}"


def forwarded_prefix(value: str | None) -> str | None:
    """The proxy path a request came through (``/user/alice/proxy/5000``), from jupyter-server-proxy's
    ``X-Forwarded-Prefix`` header; ``None`` when absent or not of that shape (never trusted as is)."""
    if not value:
        return None
    value = value.strip().rstrip("/")
    return value if _PROXY_PREFIX.match(value) else None


def proxied_sibling(prefix: str, local_url: str) -> str:
    """Another local server's URL as seen through the same proxy as ``prefix``.

    ``proxied_sibling("/user/a/proxy/5000", "http://127.0.0.1:12111/v3/")`` → ``/user/a/proxy/12111/v3/``.
    """
    m = _PROXY_PREFIX.match(prefix)
    parts = urlsplit(local_url)
    if not m or not is_loopback_url(local_url) or not parts.port:
        raise ValueError(f"cannot reach {local_url!r} through the proxy path {prefix!r}")
    query = f"?{parts.query}" if parts.query else ""
    return f"{m.group(1)}/proxy/{parts.port}{parts.path or '/'}{query}"


def card_field_isolated(settings: Settings | None = None, backend=None) -> tuple[bool, str]:
    """Is the card field a separate origin from the shop *in the student's browser*? ``(yes, why)``.

    On this machine the fake Stripe listens on its own port: another origin, as js.stripe.com is.
    In Stripe test mode the card field comes from js.stripe.com wherever the notebooks run.
    Behind a Jupyter server, the fake Stripe is reached through the same proxy, on the same origin
    as the shop: the shop's scripts could read the card field, which real Stripe never allows.
    """
    s = backend.settings if backend is not None and settings is None else _settings(settings)
    offline = backend.offline if backend is not None else s.offline
    if not offline:
        return True, ("the card field is Stripe's iframe from https://js.stripe.com, another origin than the "
                      "shop's, wherever the notebooks run")
    if not s.jupyter_url:
        return True, ("the fake Stripe's card field is an iframe from the fake Stripe's own port: another "
                      "origin than the shop's, as js.stripe.com is")
    return False, (f"the notebooks run {where(s)}, so the browser reaches the shop and the fake Stripe through "
                   "the same jupyter-server-proxy address: the card iframe has the shop's origin, and the "
                   "shop's scripts could read it. With real Stripe test keys (js.stripe.com) it is isolated; "
                   "run the kit on your own machine to see the fake's iframe isolated")


def show(local_url: str, label: str, settings: Settings | None = None) -> str:
    """In a notebook: a link to a kit server that the student's browser can open (returns the address)."""
    from IPython.display import HTML, display

    s = _settings(settings)
    url = browser_url(local_url, s)
    note = "" if not s.jupyter_url else (
        f" <small>(through this Jupyter server's proxy: the notebooks run {html.escape(where(s))}; "
        "the page opens in a new tab, signed in as you)</small>")
    display(HTML(f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">'
                 f"{html.escape(label)}</a>: <code>{html.escape(url)}</code>{note}"))
    return url


class ProxyPrefix:
    """WSGI middleware: a request that came through jupyter-server-proxy (a well-formed
    ``X-Forwarded-Prefix``) gets that path as ``SCRIPT_NAME``, so Flask's ``url_for`` builds
    links that stay under ``<jupyter>/proxy/PORT/``; other requests pass unchanged."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        prefix = forwarded_prefix(environ.get("HTTP_X_FORWARDED_PREFIX"))
        if prefix:
            environ["SCRIPT_NAME"] = prefix + environ.get("SCRIPT_NAME", "")
            environ["labkit.proxy_prefix"] = prefix
        return self.app(environ, start_response)

    def __getattr__(self, name: str):  # keep app.debug, app.config, … visible
        return getattr(self.app, name)
