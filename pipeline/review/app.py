"""The review app: FastAPI, server-rendered Jinja2 pages, one small script for the player.

Pages and endpoints (every one behind ``security.Guard``):

* ``GET /``                     the queue: flagged and unreviewed calls first, then the audit
                                sample's, filters (``reviews.parse_filter``), transcript
                                search, counts, the audited error rate per decision;
* ``GET /call/<file>``          a call: audio player, role timeline, transcript with the
                                evidence highlighted, every decision with the machine's value,
                                confidence, evidence, reasons, the reviews and a review form;
* ``POST /call/<file>``         save reviews (``reviews.save_reviews``): 303 back to the page,
                                400 with the form kept on bad input, 409 on a conflict;
* ``GET /audio/<file>``         the call's recording as cached WAV, with range requests;
* ``GET /export.csv``           ``export.export_csv`` (``?pseudonymise=yes`` for shared copies);
* ``/static/...``               ``pipeline/static`` (CSS and the player script).

``<file>`` is a call's file name as stored; anything that is not a row of ``calls`` is 404, so
no URL can name a path on disk. Nothing is loaded from other origins: the app works offline.
Each request opens its own SQLite connection (WAL: readers do not wait for a running batch).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.review import media, reviews, views
from pipeline.review.export import export_csv
from pipeline.review.security import LOCAL_HOSTS, Guard, is_local_host
from pipeline.runs import store

logger = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
REVIEWER_COOKIE = "callcheck_reviewer"
MIN_TOKEN_LENGTH = 16
TOKEN_ENV = "CALLCHECK_REVIEW_TOKEN"


# ------------------------------------------------------------------------------ helpers

def _open(path: Path) -> sqlite3.Connection:
    """A connection for one request (the schema was created by ``create_app``)."""
    return store.connect(path, create=False, check_same_thread=False)


def _secs(v: Any) -> str:
    if v is None or v == "":
        return "–"
    try:
        return f"{float(v):.2f} s"
    except (TypeError, ValueError):
        return str(v)


def _when(t: float | None) -> str:
    return "" if t is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _value(v: Any) -> str:
    return "(none)" if v is None or v == "" else str(v)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"], default=True))
    env.filters.update(
        callurl=lambda file: "/call/" + quote(file, safe="/"),
        audiourl=lambda file: "/audio/" + quote(file, safe="/"),
        secs=_secs, when=_when, value=_value,
        pct=lambda x: "–" if x is None else f"{100 * float(x):.0f}%",
        reasons=lambda rs: ", ".join(r.replace("_", " ") for r in rs),
    )
    return env


def _reviewer_from(request: Request) -> str:
    raw = unquote(request.cookies.get(REVIEWER_COOKIE, ""))
    try:
        return reviews.validate_reviewer(raw)
    except reviews.ReviewInputError:
        return ""


# ------------------------------------------------------------------------------ the app

def create_app(out: str | Path, token: str | None = None,
               allowed_hosts: tuple[str, ...] | None = LOCAL_HOSTS) -> FastAPI:
    """The review app over the output folder ``out`` of ``callcheck analyze``.

    ``token``: required on every request when set. ``allowed_hosts``: the ``Host`` names
    accepted (None: any; use that only with a token).
    """
    out = Path(out).resolve()
    db_path = out / store.STORE_NAME
    if not db_path.is_file():
        raise FileNotFoundError(f"no {store.STORE_NAME} in {out} (run `callcheck analyze`)")
    store.connect(db_path).close()  # create the tables a new store lacks, once

    app = FastAPI(title="callcheck review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.out = out
    app.state.db_path = db_path
    templates = Jinja2Templates(env=_environment())
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    def db() -> Iterator[sqlite3.Connection]:
        conn = _open(db_path)
        try:
            yield conn
        finally:
            conn.close()

    def page(request: Request, name: str, context: dict[str, Any],
             status_code: int = 200) -> HTMLResponse:
        context.setdefault("csrf", request.state.csrf)
        context.setdefault("out", out)
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def error_page(request: Request, status: int, message: str) -> HTMLResponse:
        return page(request, "review_error.html", {"status": status, "message": message},
                    status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not hasattr(request.state, "csrf"):
            return Response(str(exc.detail), status_code=exc.status_code)
        return error_page(request, exc.status_code, str(exc.detail))

    # --- the queue --------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def queue_page(request: Request, conn: sqlite3.Connection = Depends(db)) -> Response:
        try:
            flt = reviews.parse_filter(request.query_params.multi_items(),
                                       reviews.metadata_columns(conn))
        except reviews.ReviewInputError as e:
            return error_page(request, 400, str(e))
        q = reviews.queue(conn, flt)
        return page(request, "review_queue.html", {
            "q": q, "flt": flt, "filterable": reviews.FILTERABLE,
            "verdicts": dict(flt.verdicts), "meta": dict(flt.metadata),
            "page_url": lambda n: "/?" + urlencode(flt.params(page=n)),
        })

    # --- a call -----------------------------------------------------------------------------
    def render_call(request: Request, conn: sqlite3.Connection, file: str, *,
                    pending: Mapping[str, Mapping[str, str]] | None = None,
                    reviewer: str | None = None,
                    conflicts: list[reviews.Conflict] | None = None,
                    error: str | None = None, saved: int = 0,
                    status_code: int = 200) -> Response:
        try:
            call = reviews.call_row(conn, file)
        except reviews.UnknownCallError:
            return error_page(request, 404, "no such call in this output folder")
        turns = store.turns_of(conn, file)
        segments = store.segments_of(conn, file)
        result = store.load_result(out, file)
        if result is not None and result.key == call.key and result.transcript is not None:
            heard = result.transcript.segments
            if len(heard) == len(segments):  # same transcript: words give exact times
                segments = [replace(s, words=h.words) for s, h in zip(segments, heard,
                                                                       strict=True)]
        agent_start_reasons = (result.timeline.reasons
                               if result is not None and result.timeline is not None else ())
        evidence = store.evidence_of(conn, file)
        machine = {r["name"]: {"value": r["value"], "confidence": r["confidence"]}
                   for r in conn.execute("SELECT name, value, confidence FROM decisions "
                                         "WHERE file = ?", (file,))}
        review_reasons = list(call.review_reasons)
        hist = reviews.history(conn, file)
        duration = views.duration_of(call.duration_s, turns, segments)
        meta = {r["column"]: r["value"] for r in conn.execute(
            'SELECT "column", value FROM metadata WHERE file = ? ORDER BY "column"', (file,))}
        context = {
            "call": call, "file": file, "meta": meta, "duration": duration,
            "audit": file in store.audit_sample(conn),
            "lanes": views.timeline(turns, duration),
            "markers": views.markers(evidence, call.agent_start_s, duration),
            "segments": views.transcript(segments, turns, evidence),
            "decisions": views.decisions(machine, evidence, review_reasons, hist,
                                         agent_start_reasons),
            "review_reasons": review_reasons,
            "pending": pending or {}, "reviewer": reviewer or _reviewer_from(request),
            "conflicts": conflicts or [], "error": error, "saved": saved,
            "limits": {"reviewer": reviews.MAX_REVIEWER, "comment": reviews.MAX_COMMENT,
                       "name": reviews.MAX_NAME},
        }
        return page(request, "review_call.html", context, status_code=status_code)

    @app.get("/call/{file:path}", response_class=HTMLResponse)
    def call_page(request: Request, file: str, saved: str = "",
                  conn: sqlite3.Connection = Depends(db)) -> Response:
        n = int(saved) if saved.isascii() and saved.isdigit() and len(saved) < 4 else 0
        return render_call(request, conn, file, saved=n)

    @app.post("/call/{file:path}", response_class=HTMLResponse)
    async def save_call(request: Request, file: str) -> Response:
        try:
            form = await request.form(max_files=0, max_fields=200)
        except Exception as e:  # malformed body or too many fields
            return error_page(request, 400, f"cannot read the form: {e}")
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if len(fields) != len(form.multi_items()):
            return error_page(request, 400, "a field is repeated or is a file")
        return await run_in_threadpool(_save, request, file, fields)

    def _save(request: Request, file: str, fields: dict[str, str]) -> Response:
        conn = _open(db_path)
        try:
            if not secrets.compare_digest(fields.get("csrf", "").encode(),
                                          str(request.state.csrf).encode()):
                return error_page(request, 403, "the form has expired or did not come from "
                                  "this app: reload the page and try again")
            pending = _pending(fields)
            typed = str(fields.get("reviewer", ""))[: reviews.MAX_REVIEWER + 20]
            try:
                reviewer, items = reviews.parse_submission(fields)
                ids = reviews.save_reviews(conn, file, reviewer, items)
            except reviews.UnknownCallError:
                return error_page(request, 404, "no such call in this output folder")
            except reviews.ReviewInputError as e:
                return render_call(request, conn, file, pending=pending, reviewer=typed,
                                   error=str(e), status_code=400)
            except reviews.ReviewConflict as e:
                # the form shown again is based on what is stored now: a resubmit is deliberate
                rebased = {d: {k: v for k, v in p.items() if k not in ("base", "machine")}
                           for d, p in pending.items()}
                return render_call(request, conn, file, pending=rebased, reviewer=reviewer,
                                   conflicts=e.conflicts, status_code=409)
            logger.info("%s saved %d review(s) of %s", reviewer, len(ids), file)
            response = RedirectResponse(f"/call/{quote(file, safe='/')}?saved={len(ids)}",
                                        status_code=303)
            response.set_cookie(REVIEWER_COOKIE, quote(reviewer), max_age=365 * 86400,
                                httponly=True, samesite="strict")
            return response
        finally:
            conn.close()

    # --- audio and export -------------------------------------------------------------------
    @app.get("/audio/{file:path}")
    def audio(request: Request, file: str, conn: sqlite3.Connection = Depends(db)) -> Response:
        row = conn.execute("SELECT key, sample_rate FROM calls WHERE file = ?",
                           (file,)).fetchone()
        if row is None:
            return Response("no such call", status_code=404, media_type="text/plain")
        info = store.get_info(conn)
        try:
            path = media.playable_wav(out, info.get("input_root"), file, row["key"],
                                      row["sample_rate"])
        except media.MediaError as e:
            logger.warning("audio of %s: %s", file, e)
            return Response(str(e), status_code=e.status, media_type="text/plain")
        return FileResponse(path, media_type="audio/wav",
                            headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/export.csv")
    def export(pseudonymise: str = "no") -> Response:
        if pseudonymise not in ("yes", "no"):
            return Response("pseudonymise: yes or no", status_code=400,
                            media_type="text/plain")
        name = "results_reviewed" + ("_pseudonymised" if pseudonymise == "yes" else "")
        return Response(export_csv(out, pseudonymise == "yes"), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})

    app.add_middleware(Guard, token=token, allowed_hosts=allowed_hosts)
    return app


_PENDING_KEYS = ("action", "value", "comment", "base", "machine")


def _pending(fields: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The submitted per-decision inputs, to show again when they were not saved. After bad
    input the form keeps the submitted base (review id and machine value), so a change made
    by someone else meanwhile is still detected on the next save."""
    out: dict[str, dict[str, str]] = {}
    for key, value in fields.items():
        kind, _, decision = key.partition(".")
        if kind in _PENDING_KEYS and decision in store.REVIEWABLE:
            out.setdefault(decision, {})[kind] = str(value)[: reviews.MAX_COMMENT]
    return out


# ------------------------------------------------------------------------------ serving

class _RedactToken(logging.Filter):
    """Keep ``?token=...`` out of the access log."""

    _re = re.compile(r"(token=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._re.sub(r"\1***", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def serve(out: str | Path, host: str = "127.0.0.1", port: int = 8000,
          token: str | None = None) -> int:
    """Run the app until interrupted. -> exit code (2: refused to start)."""
    token = token or os.environ.get(TOKEN_ENV) or None
    if not is_local_host(host) and token is None:
        print(f"callcheck review: refusing to listen on {host!r} without a token: the app "
              "shows call recordings and employees' names. Use --token (or set "
              f"{TOKEN_ENV}), or bind to 127.0.0.1.", file=sys.stderr)
        return 2
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        print(f"callcheck review: the token must be at least {MIN_TOKEN_LENGTH} characters "
              "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')",
              file=sys.stderr)
        return 2
    if not 0 < port < 65536:
        print(f"callcheck review: invalid port {port}", file=sys.stderr)
        return 2
    try:
        app = create_app(out, token, allowed_hosts=LOCAL_HOSTS if token is None else None)
    except FileNotFoundError as e:
        print(f"callcheck review: {e}", file=sys.stderr)
        return 2
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False,
                            proxy_headers=False)
    logging.getLogger("uvicorn.access").addFilter(_RedactToken())
    shown = f"[{host}]" if ":" in host else host
    print(f"callcheck review: {Path(out).resolve()} on http://{shown}:{port}/"
          + (" (append ?token=<token> once)" if token else ""), file=sys.stderr)
    uvicorn.Server(config).run()
    return 0
