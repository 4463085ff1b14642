"""What every terminal screen answers with: a page from the templates, or a redirect.

`Screens` is built once per terminal app (by `terminal_app`) and reaches the route functions as
a dependency, so the routes are plain module-level functions: they read the desk, the CS (when
the registry runs in a network node) and the templates from it instead of from a closure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from juki.certificates.desk import CertificateDesk
from juki.certificates.document import parse_document
from juki.certificates.ports import CertificateRecord, ContentSource
from juki.certificates.terminal.session import BASE, Session, mount_base
from juki.security.permissions import hidden_items

if TYPE_CHECKING:
    from jinja2 import Environment

CertificateIdPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


@dataclass(frozen=True, slots=True)
class Screens:
    """One terminal app's desk, CS (None when the registry runs alone) and templates, and
    `base`: where the terminal is mounted for the request at hand (`/terminal` on a standalone
    registry, `/registry/terminal` on a municipality node, behind whatever prefix a proxy adds),
    so every link, form action, redirect and cookie path follows the mount."""

    desk: Callable[[], CertificateDesk]
    wide_area: ContentSource | None
    templates: Environment
    base: str = BASE

    def page(
        self, name: str, session: Session | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        # `hidden`: the record items the operator's role may not see (SENSITIVE_ITEMS).
        hidden = hidden_items(session.actor.role) if session is not None else frozenset()
        html = self.templates.get_template(f"terminal/{name}").render(
            session=session, base=self.base, hidden=hidden, **context
        )
        return HTMLResponse(html, status_code=status)

    def see_other(self, path: str) -> RedirectResponse:
        """After a post: the screen at `path` under this terminal's mount."""
        return RedirectResponse(f"{self.base}{path}", status_code=303)


def screens_of(request: Request) -> Screens:
    screens: Screens = request.app.state.screens
    return dataclasses.replace(screens, base=mount_base(request))


TerminalScreens = Annotated[Screens, Depends(screens_of)]


def document_of(record: CertificateRecord) -> dict[str, Any]:
    """What an issued certificate says, as the result and void screens show it."""
    content, issuance = parse_document(record.content_json)
    return {"content": content, "issuance": issuance}


@dataclass(frozen=True, slots=True)
class Route:
    """One screen for `terminal_app` to add: method, path and function. A `public` one (sign-in)
    is marked open; every other one takes the operator's session in its signature."""

    method: str
    path: str
    endpoint: Callable[..., Any]
    public: bool = False


@dataclass(frozen=True, slots=True)
class ScreenSet:
    """Screens of a feature this package does not know (the governance ledgers), added to the
    terminal by the node's wiring: their routes (each taking the terminal's session as every
    screen does), the package whose `templates/terminal/` draws them, and the menu's links as
    (path, label, the permission that shows the link)."""

    routes: tuple[Route, ...]
    template_package: str
    menu: tuple[tuple[str, str, str], ...] = ()
