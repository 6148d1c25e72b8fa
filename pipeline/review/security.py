"""Who may use the review app, and what a browser may do with its pages (one ASGI middleware).

The app shows employees' names and recordings of calls, so it is locked down even on a laptop:

* **Bind**: localhost by default; ``serve`` refuses any other address without a token.
* **Token**: when one is set, every request needs it, as ``Authorization: Bearer <token>`` or as
  the ``callcheck_token`` cookie (which holds a hash of the token). Opening any URL once with ``?token=<token>`` sets that cookie
  (HttpOnly, SameSite=Strict) and redirects to the same URL without the token, so it does not
  stay in the address bar or the history. Tokens are compared with ``secrets.compare_digest``.
* **Host**: without a token, only the names of the local machine are accepted in the ``Host``
  header (127.0.0.1, localhost, ::1); that defeats DNS rebinding, where a web page gets its own
  host name pointed at 127.0.0.1 to read the app from the reviewer's browser.
* **CSRF**: each browser gets a random ``callcheck_csrf`` cookie; every POST must repeat it in
  the ``csrf`` form field (the app checks the field), and a POST whose ``Origin`` is another
  origin is refused here (other ports of localhost are the same *site*, so SameSite cookies
  alone would not stop them).
* **Headers**: a Content-Security-Policy that allows only this origin (no inline script or
  style, no framing), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` and
  ``Cache-Control: no-store`` on pages.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "callcheck_token"
CSRF_COOKIE = "callcheck_csrf"
MAX_BODY = 256 * 1024  # bytes of a request body (a review form is a few kB)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def is_local_host(host: str) -> bool:
    """Whether ``host`` (a bind address) is this machine only."""
    return host.strip().strip("[]").lower() in LOCAL_HOSTS


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` header (``[::1]:8000`` -> ``::1``)."""
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def tokens_equal(given: str | None, token: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), token.encode())


def cookie_value(token: str) -> str:
    """What the token cookie holds: a hash of the token (any token fits in a cookie)."""
    return hashlib.sha256(b"callcheck-review\0" + token.encode()).hexdigest()


class Guard:
    """The middleware described in the module docstring. ``allowed_hosts`` None: any Host."""

    def __init__(self, app: ASGIApp, token: str | None,
                 allowed_hosts: Iterable[str] | None = LOCAL_HOSTS):
        self.app = app
        self.token = token
        self.allowed_hosts = None if allowed_hosts is None else {
            h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        cookies = _cookies(headers.get("cookie", ""))
        response = self._refuse(scope, headers, cookies)
        new_cookies: list[str] = []
        csrf = cookies.get(CSRF_COOKIE, "")
        if len(csrf) != 43:  # token_urlsafe(32); anything else was not set by us
            csrf = secrets.token_urlsafe(32)
            new_cookies.append(_cookie(CSRF_COOKIE, csrf))
        scope.setdefault("state", {})["csrf"] = csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h["X-Content-Type-Options"] = "nosniff"
                h["Content-Security-Policy"] = CSP
                h["X-Frame-Options"] = "DENY"
                h["Referrer-Policy"] = "same-origin"
                h["Cross-Origin-Resource-Policy"] = "same-origin"
                if h.get("content-type", "").startswith(("text/html", "text/csv")):
                    h["Cache-Control"] = "no-store"
                for c in new_cookies:
                    h.append("set-cookie", c)
            await send(message)

        if response is None and self.token is not None:
            response = self._check_token(scope, headers, cookies, new_cookies)
        if response is not None:
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, _limited(receive), send_with_headers)

    def _refuse(self, scope: Scope, headers: dict[str, str],
                cookies: dict[str, str]) -> PlainTextResponse | None:
        if self.allowed_hosts is not None:
            if host_name(headers.get("host", "")) not in self.allowed_hosts:
                return PlainTextResponse("unexpected Host header", status_code=400)
        if scope["method"] not in ("GET", "HEAD", "POST"):
            return PlainTextResponse("method not allowed", status_code=405)
        if scope["method"] == "POST":
            origin = headers.get("origin")
            if origin is not None:
                parts = urlsplit(origin)
                if origin == "null" or parts.netloc.lower() != headers.get("host", "").lower():
                    return PlainTextResponse("cross-origin request refused", status_code=403)
            length = headers.get("content-length")
            if length is None or not length.isdigit():
                return PlainTextResponse("length required", status_code=411)
            if int(length) > MAX_BODY:
                return PlainTextResponse("request too large", status_code=413)
        return None

    def _check_token(self, scope: Scope, headers: dict[str, str], cookies: dict[str, str],
                     new_cookies: list[str]):
        assert self.token is not None
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and tokens_equal(auth[7:].strip(), self.token):
            return None
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                          keep_blank_values=True)
        given = [v for k, v in query if k == "token"]
        if given and scope["method"] in ("GET", "HEAD"):
            if not tokens_equal(given[-1], self.token):
                return _unauthorised()
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            raw = scope.get("raw_path") or quote(scope["path"]).encode()  # percent-encoded
            path = "/" + raw.decode("latin-1").lstrip("/")  # never "//host": stay on this site
            response = RedirectResponse(path + ("?" + rest if rest else ""), status_code=303)
            new_cookies.append(_cookie(TOKEN_COOKIE, cookie_value(self.token)))
            return response
        if tokens_equal(cookies.get(TOKEN_COOKIE), cookie_value(self.token)):
            return None
        return _unauthorised()


def _unauthorised() -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><title>callcheck review: token required</title>"
        "<h1>Access token required</h1><p>Open this address once with <code>?token=</code> "
        "and the token the app was started with, or send <code>Authorization: Bearer</code>."
        "</p>", status_code=401, headers={"WWW-Authenticate": "Bearer"})


def _cookie(name: str, value: str) -> str:
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict"


def _cookies(header: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header: treat as none
        return {}
    return {k: m.value for k, m in jar.items()}


def _limited(receive: Receive) -> Receive:
    """``receive`` that stops a body larger than ``MAX_BODY`` (whatever Content-Length said)."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise ValueError("request body too large")
        return message

    return wrapped
