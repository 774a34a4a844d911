"""The local web app: the report's views over a live store, page by page, with the JSON API they read.

Read-only: the store is opened read-only and only GET is answered. It binds to loopback by default (and then
answers only requests addressed to localhost, against DNS rebinding); on any other address it asks for a
token, given as ``Authorization: Bearer TOKEN`` or ``?token=TOKEN`` (which also sets a cookie for the page's
own requests). Every response carries a Content-Security-Policy with no outside source.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from newstrace.present import views
from newstrace.present.report import SCRIPTS, STYLE, WORLD, asset, render_page
from newstrace.store import Store, StoreError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# The most rows one API page returns.
MAX_LIMIT = 500
TOKEN_COOKIE = "newstrace_token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")

SECURITY_HEADERS = {
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
ASSETS = (*SCRIPTS, STYLE, WORLD)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


class BadRequest(ValueError):
    """A query parameter the API cannot use."""


def _int(request: Request, name: str, default: int, low: int = 0, high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        raise BadRequest(
            f"{name} must be between {low} and {high}" if high else f"{name} must be {low} or more"
        )
    return value


def _limit(request: Request) -> int:
    return _int(request, "limit", views.PAGE_SIZE, 1, MAX_LIMIT)


class _Guard(BaseHTTPMiddleware):
    """Read-only methods, the token when one is set, and the security headers on every response."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    def _presented(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        return request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method not in ("GET", "HEAD"):
            response: Response = JSONResponse(
                {"error": "this server is read-only: only GET"}, 405, headers={"Allow": "GET, HEAD"}
            )
        elif self.token and not hmac.compare_digest(
            (self._presented(request) or "").encode(), self.token.encode()
        ):
            response = JSONResponse(
                {"error": "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN"},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        elif self.token and request.url.path == "/" and "token" in request.query_params:
            # Trade the token in the address for a cookie, so that the page's own requests carry it and the
            # token leaves the address bar.
            response = RedirectResponse("/", 303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(db: str | Path, token: str | None = None, local_only: bool = True) -> Starlette:
    """The web app over the store ``db``. With ``token``, every request must present it; with
    ``local_only``, only requests addressed to localhost are answered."""
    store = Store(db, read_only=True)
    lock = threading.Lock()
    title = views.default_title(store)

    def api(answer: Callable[[Store, Request], Any]) -> Callable[[Request], Response]:
        # Endpoints are plain functions, run in Starlette's thread pool; one DuckDB connection serves
        # them one at a time.
        def endpoint(request: Request) -> Response:
            try:
                with lock:
                    return JSONResponse(answer(store, request))
            except BadRequest as exc:
                return JSONResponse({"error": str(exc)}, 400)
            except views.NotFound as exc:
                return JSONResponse({"error": str(exc)}, 404)
            except StoreError as exc:
                return JSONResponse({"error": str(exc)}, 500)

        return endpoint

    def page(request: Request) -> Response:
        return HTMLResponse(render_page(title))

    def asset_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return JSONResponse({"error": f"no asset {name!r}"}, 404)
        return Response(asset(name), media_type=_ASSET_TYPES[Path(name).suffix])

    def claims(s: Store, r: Request) -> Any:
        about = r.query_params.get("about")
        if not about:
            raise BadRequest("give the actor: /api/claims?about=ACTOR (an id, a name or an alias)")
        return views.claims_about(s, about, _int(r, "offset", 0), _limit(r))

    routes = [
        Route("/", page),
        Route("/assets/{name}", asset_file),
        Route("/api/overview", api(lambda s, r: views.overview(s, title))),
        Route(
            "/api/narratives",
            api(
                lambda s, r: views.narrative_list(
                    s, _int(r, "offset", 0), _limit(r), recurring_only=r.query_params.get("all") != "1"
                )
            ),
        ),
        Route(
            "/api/narratives/{narrative_id}",
            api(lambda s, r: views.narrative_detail(s, r.path_params["narrative_id"])),
        ),
        Route(
            "/api/documents",
            api(
                lambda s, r: views.document_list(
                    s, _int(r, "offset", 0), _limit(r), r.query_params.get("title")
                )
            ),
        ),
        Route("/api/documents/{doc_id}", api(lambda s, r: views.document_detail(s, r.path_params["doc_id"]))),
        Route("/api/claims", api(claims)),
        Route("/api/framing/{actor}", api(lambda s, r: views.framing(s, r.path_params["actor"]))),
        Route(
            "/api/predictions",
            api(
                lambda s, r: views.predictions(
                    s, r.query_params.get("narrative") or None, _int(r, "offset", 0), _limit(r)
                )
            ),
        ),
        Route("/api/actors", api(lambda s, r: views.actor_list(s))),
        Route("/api/actors/{actor}", api(lambda s, r: views.actor_detail(s, r.path_params["actor"]))),
        Route("/api/places", api(lambda s, r: views.places(s))),
        Route(
            "/api/search",
            api(
                lambda s, r: views.search(s, r.query_params.get("q", ""), _int(r, "limit", 100, 1, MAX_LIMIT))
            ),
        ),
    ]
    # The guard comes first, so that its headers are on every response, refusals included.
    middleware = [Middleware(_Guard, token=token)]
    if local_only:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK_NAMES)))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.store = store
    return app


def serve(
    db: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None
) -> None:
    """Serve the store ``db`` until interrupted (see :func:`create_app`; the caller decides the token)."""
    import uvicorn

    app = create_app(db, token=token, local_only=is_loopback(host))
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
