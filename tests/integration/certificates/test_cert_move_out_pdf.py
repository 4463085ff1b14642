"""A 転出証明書 issued, rendered and signed like every certificate (SQLite and PostgreSQL), and
the record it certifies a 住民票 until the planned date."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from juki.certificates.model import ALL_MEMBERS, CertificateKind, CertificateRequest
from juki.registry import services as registry
from juki.registry.commands import RecordMoveOut
from support.cert_population import CLERK, CertEnv


def test_move_out_certificate_is_issued_signed_and_names_the_movers(env: CertEnv) -> None:
    head = env.people.head
    _, movers = registry.household_view(env.reg.uow(), CLERK, head.household_id)
    registry.record_move_out(
        env.reg.uow(),
        CLERK,
        RecordMoveOut(
            record_ids=tuple(m.record_id for m in movers),
            destination_address="神奈川県藤沢市鵠沼石上1丁目1番1号",
            planned_on=date(2025, 4, 10),
            notified_on=env.reg.clock.today(),
        ),
    )
    request = CertificateRequest(CertificateKind.MOVE_OUT, head.resident_code, members=ALL_MEMBERS)
    issued = env.desk.issue(CLERK, request)
    assert issued.content.title == "転出証明書"
    assert len(issued.content.persons) == len(movers)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(issued.pdf)).pages)
    assert "転出証明書" in text.replace(" ", "")
    assert "転出の予定年月日" in text and head.resident_code in text
    assert issued.pdf.startswith(b"%PDF") and b"/ByteRange" in issued.pdf  # signed (PAdES)
    # the same day, the movers still have a 住民票: a 写し is issued with the 転出予定 entry
    copy = env.desk.issue(CLERK, CertificateRequest(CertificateKind.RESIDENCE, head.resident_code))
    assert "move_out_planned" in {line.key for line in copy.content.persons[0].lines}
