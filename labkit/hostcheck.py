"""The Host header check every server of the kit runs behind (against DNS rebinding).

A page on ``http://attacker.example`` whose name is re-pointed at 127.0.0.1 can make the
student's browser talk to our loopback servers, but its requests still carry
``Host: attacker.example``. Only the names of this machine (``localhost``, ``127.0.0.1``,
``[::1]``) and the names the user configured (``LABKIT_ALLOWED_HOSTS``, for example a
JupyterHub's proxy host) are served; anything else gets a 400 JSON error.

This is Flask's ``TRUSTED_HOSTS`` idea as WSGI middleware, so it also guards apps the kit
did not build (the student's own Flask app, the fake Stripe).
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Callable, Iterable

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def host_name(host_header: str) -> str:
    """``"LOCALHOST:5000"`` → ``"localhost"``; ``"[::1]:80"`` → ``"::1"``; junk → ``""``."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else ""
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    elif host.count(":") > 1:  # a bare IPv6 address without brackets is not a valid Host
        return ""
    return host.rstrip(".")


def host_allowed(host_header: str, extra: Iterable[str] = ()) -> bool:
    """Is this Host header one of this machine's names or a configured one?"""
    name = host_name(host_header)
    if not name:
        return False
    allowed = {*LOOPBACK_NAMES, *(e.strip().lower().rstrip(".") for e in extra if e and e.strip())}
    if name in allowed:
        return True
    try:  # 127.0.0.0/8 and ::1 (ASCII digits only: str.isdigit() would take "127.²")
        return name.isascii() and ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# jupyter-server-proxy forwards the hub's own Host header and adds X-Forwarded-Prefix
# (``/user/alice/proxy/5000``). A web page cannot forge that header in a DNS-rebinding attack: a
# custom header makes the browser send a CORS preflight first, and the preflight (no such header,
# a foreign Host) is refused here. So a request carrying it came through the Jupyter server's
# authenticated proxy, and is served whatever its Host.
_JUPYTER_PROXY_PREFIX = re.compile(r"(?:/[^/\s]+)*/proxy/(?:absolute/)?\d{1,5}/?")


def through_jupyter_proxy(environ: dict[str, Any]) -> bool:
    prefix = environ.get("HTTP_X_FORWARDED_PREFIX") or ""
    return bool(prefix) and len(prefix) < 300 and _JUPYTER_PROXY_PREFIX.fullmatch(prefix) is not None


class HostCheck:
    """WSGI middleware: answer 400 to any request whose Host is not an allowed name (requests
    that came through a Jupyter server's proxy excepted, see :func:`through_jupyter_proxy`)."""

    def __init__(self, app: Callable[..., Any], extra: Iterable[str] = ()) -> None:
        self.app = app
        self.extra = tuple(extra)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if host_allowed(host, self.extra) or through_jupyter_proxy(environ):
            return self.app(environ, start_response)
        body = json.dumps({"error": {
            "type": "invalid_request_error",
            "message": "Unknown Host header: this server only answers to localhost and 127.0.0.1 "
                       "(add a name to LABKIT_ALLOWED_HOSTS to allow it).",
        }}).encode()
        start_response("400 Bad Request", [("Content-Type", "application/json"),
                                           ("Content-Length", str(len(body)))])
        return [body]

    def __getattr__(self, name: str) -> Any:  # keep app.debug, app.config, … visible
        return getattr(self.app, name)
