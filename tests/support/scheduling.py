"""pytest-xdist's `loadscope` with one exception: a package listed here is one work unit.

`loadscope` sends each module whole to one worker, so a module-scoped fixture is built once.
The modules of tests/e2e/e2e_network share one running network of node processes (a
package-scoped fixture), which only works if they run on the same worker, one after the other.
xdist's own schedulers (`loadfile`, `loadgroup`) are built the same way, by choosing the scope
of a test id.
"""

from __future__ import annotations

from typing import Final

from xdist.scheduler import LoadScopeScheduling

SHARED_PACKAGES: Final = ("tests/e2e/e2e_network/",)


class SharedPackageScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        for package in SHARED_PACKAGES:
            if nodeid.startswith(package):
                return package
        return super()._split_scope(nodeid)
