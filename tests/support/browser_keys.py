"""Keyboard helpers for the terminal's browser tests: what has the focus, Tab until, Alt+key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def focused(page: Any) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => {
            const e = document.activeElement;
            const s = getComputedStyle(e);
            return {tag: e.tagName, id: e.id, name: e.name || "", value: e.value || "",
                    text: (e.innerText || "").trim(), label: e.getAttribute("aria-label") || "",
                    outline: s.outlineStyle + " " + s.outlineWidth};
        }"""
    )
    return info


def wait_for_focus(page: Any, element_id: str) -> None:
    """Autofocus lands after the load event; wait for it rather than type into nowhere."""
    page.wait_for_function(
        f"document.activeElement && document.activeElement.id === {element_id!r}"
    )


def tab_to(page: Any, match: Callable[[dict[str, Any]], bool], limit: int = 60) -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = focused(page)
        if match(info):
            return info
    raise AssertionError("could not reach the element with the Tab key")


def accesskey(page: Any, key: str) -> None:
    """Press Alt+key as a person would. Playwright's `keyboard.press("Alt+s")` leaves out the
    key's unmodified text, which Blink's access-key lookup needs, so send the event over CDP."""
    cdp = page.context.new_cdp_session(page)
    try:
        alt = {"key": "Alt", "code": "AltLeft", "windowsVirtualKeyCode": 18}
        code = {"key": key, "code": f"Key{key.upper()}", "windowsVirtualKeyCode": ord(key.upper())}
        cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "modifiers": 0, **alt})
        cdp.send(
            "Input.dispatchKeyEvent",
            {"type": "keyDown", "modifiers": 1, "unmodifiedText": key, **code},
        )
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": 1, **code})
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": 0, **alt})
    finally:
        cdp.detach()


def unlabelled_inputs(page: Any) -> list[str]:
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter(e => e.type !== "hidden")
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label"))
            .map(e => e.name || e.id)"""
    )
    return found
