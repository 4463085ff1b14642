"""`python -m bench.bare_server CERT KEY CA PORT`: an idle uvicorn with a node's TLS set-up.

The raw limit of `python -m bench idle`: what one uvicorn server costs while nobody calls it —
the same certificate, key, client-certificate requirement and protocol as a node's listener,
with an app that does nothing. A node runs one (a municipality two) plus its stepper thread.
"""

from __future__ import annotations

import ssl
import sys
from typing import Any

import uvicorn


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def main(argv: list[str]) -> None:
    cert, key, ca, port = argv
    uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=int(port),
            ssl_certfile=cert,
            ssl_keyfile=key,
            ssl_ca_certs=ca,
            ssl_cert_reqs=ssl.CERT_REQUIRED,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    ).run()


if __name__ == "__main__":
    main(sys.argv[1:])
