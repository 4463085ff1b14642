"""What the two certificate UIs (the public verification pages and the counter terminal) share.

One Jinja environment over the package's templates — autoescaped, and strict so that a name a
template misses fails instead of printing nothing — and the security headers every page is
sent with (no scripts, no framing, no caching of pages that show personal data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import Response

if TYPE_CHECKING:
    from jinja2 import Environment

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def templates(*more: str) -> Environment:
    """`more`: packages whose `templates/` add pages (screens another feature adds to the
    terminal, wired by `juki.nodes`); ours are found first."""
    from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=ChoiceLoader([PackageLoader(p, "templates") for p in ("juki.certificates", *more)]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


def with_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
