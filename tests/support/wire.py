"""The in-memory network's transport, wrapped so a test can see every request and its reply."""

from __future__ import annotations

from collections import Counter

from juki.network.batch import MESSAGE_BATCH
from juki.network.transport import Reply, ReplyStatus
from juki.nodes.memory import InProcessNetwork

_BATCH = f'"message_type":"{MESSAGE_BATCH}"'.encode()


class Wire:
    """Every node of `net` sends through this: requests by kind (a batch or a message alone),
    replies by reason (or status), refusals by reason, and each message's reply inside a batch
    by status."""

    def __init__(self, net: InProcessNetwork) -> None:
        self.inner = net.transport
        self.requests: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        for node in net.nodes.values():
            node.worker.transport = self

    def send(self, recipient: str, endpoint: str, payload: bytes) -> Reply:
        self.requests["batch" if _BATCH in payload else "single"] += 1
        reply = self.inner.send(recipient, endpoint, payload)
        self.reasons[reply.reason or reply.status.value] += 1
        if reply.status is ReplyStatus.REFUSED:
            self.refused[reply.reason or ""] += 1
        for item in reply.items or (reply,):
            self.statuses[item.status.value] += 1
        return reply
