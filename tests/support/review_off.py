"""The municipality setting `change_review` off, for tests about something else than review.

Every municipality reviews its operators' changes by default (仮登録 → 本登録, juki.registry
.review): an event filed over the API is then answered 202 and applied only when another
supervisor approves it. Tests of the network, of crashes mid-burst or of screens that need a
resident filed first turn it off for their municipalities, as a municipality may
(docs/operators.md), so each change is applied as filed; review itself is tested in
tests/integration/registry/test_review_*.py and tests/e2e/test_review_browser.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from juki.nodes.config import NetworkFiles, NodeConfig


def applied_as_filed(files: NetworkFiles, municipalities: Iterable[str]) -> None:
    """Set `change_review: false` in each municipality's node.json (before `network up`)."""
    for lg in municipalities:
        path = files.node_file(lg)
        config = NodeConfig.load(path)
        dataclasses.replace(config, change_review=False).save(path)
