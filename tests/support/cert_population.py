"""A small registry for certificate tests: every case the content rules distinguish, once.

Built through the registry's own services (so records are what the counter would make), on
SQLite or PostgreSQL; shared by the integration and end-to-end certificate tests.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw

from juki.certificates import tables as certificate_tables
from juki.certificates.desk import CertificateDesk
from juki.certificates.render import CertificateRenderer
from juki.core.clock import JST, FixedClock
from juki.core.identifiers import MyNumber, ResidentCode
from juki.core.settings import Settings
from juki.registry import services as svc
from juki.registry import tables as registry_tables
from juki.registry.commands import (
    AbolishSeal,
    ForeignItems,
    JoinHousehold,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordBirth,
    RecordMoveIn,
    RegisterSeal,
    RemoveByAuthority,
)
from juki.registry.model import (
    ForeignResidentCategory,
    Municipality,
    Relationship,
    ResidentRecord,
    Sex,
)
from juki.registry.store.municipality import add_allotment, save_municipality
from juki.registry.support.commands import RecordSupportMeasure, RenewSupportMeasure
from juki.registry.support.model import RestrainedParty, SupportKind
from juki.registry.support.services import record_support_measure, renew_support_measure
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage import counters as counters_module
from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated

INAGI = Municipality("132250", "東京都", "稲城市")
CLERK = Actor("clerk-1", Role.COUNTER_CLERK, "T01")
SUPERVISOR = Actor("super-1", Role.REGISTRY_SUPERVISOR, "T02")
AUDITOR = Actor("audit-1", Role.AUDITOR, "T09")
MANAGER = Actor("ops-1", Role.OPERATIONS_MANAGER, "console")
NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
KUZU_IVS = "葛\U000e0102"  # 葛󠄂
TSUJI_IVS = "辻\U000e0102"  # 辻󠄂
HOME = "東京都稲城市東長沼1丁目1番1号"
HONSEKI = "東京都稲城市東長沼2111番地"


def fixed_clock() -> FixedClock:
    return FixedClock(NOW)


def init_registry(url: str) -> sa.Engine:
    create_migrated(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        save_municipality(conn, INAGI)
        add_allotment(conn, 1322500000, 1322599999, "test")
    return engine


def seal_png(size: int = 96) -> bytes:
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, size - 4, size - 4), outline=(200, 30, 30), width=6)
    draw.line((size // 2, 10, size // 2, size - 10), fill=(200, 30, 30), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def person(
    family: str,
    given: str,
    family_kana: str,
    given_kana: str,
    birth: date,
    sex: Sex = Sex.MALE,
    *,
    honseki: str | None = HONSEKI,
    koseki_head: str | None = None,
    former_surname: str | None = None,
    foreign: ForeignItems | None = None,
) -> PersonalItems:
    return PersonalItems(
        family_name=family,
        given_name=given,
        family_name_kana=family_kana,
        given_name_kana=given_kana,
        birth_date=birth,
        sex=sex,
        honseki=None if foreign else honseki,
        koseki_head=None if foreign else (koseki_head or f"{family}　{given}"),
        former_surname=former_surname,
        former_surname_kana="サトウ" if former_surname else None,
        foreign=foreign,
    )


class Registry:
    """Services bound to one engine and clock."""

    def __init__(self, engine: sa.Engine, clock: FixedClock | None = None) -> None:
        self.engine = engine
        self.clock = clock or fixed_clock()
        self._code = 2000000000
        self._number = 30000000000

    def uow(self) -> SqlRegistryUnitOfWork:
        return SqlRegistryUnitOfWork(self.engine, clock=self.clock)

    def next_code(self) -> str:
        self._code += 7
        return ResidentCode.complete(f"{self._code:010d}").value

    def next_number(self) -> str:
        self._number += 13
        return MyNumber.complete(f"{self._number:011d}").value

    def move_in(
        self,
        p: PersonalItems,
        *,
        join: tuple[str, Relationship] | None = None,
        address: str = HOME,
        my_number: bool = True,
    ) -> ResidentRecord:
        return svc.record_move_in(
            self.uow(),
            CLERK,
            RecordMoveIn(
                person=p,
                origin=MoveInOrigin.ABROAD if p.foreign else MoveInOrigin.CERTIFICATE,
                address=address,
                moved_on=date(2025, 3, 20),
                notified_on=date(2025, 3, 25),
                previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
                placement=JoinHousehold(*join) if join else NewHousehold(),
                resident_code=self.next_code(),
                my_number=self.next_number() if my_number else None,
                move_out_certificate_number=None if p.foreign else "142051-0001",
                previous_lg_code=None if p.foreign else "142051",
            ),
        )

    def birth(self, p: PersonalItems, household_id: str) -> ResidentRecord:
        return svc.record_birth(
            self.uow(),
            CLERK,
            RecordBirth(
                person=p,
                household_id=household_id,
                relationship=Relationship.CHILD,
                notified_on=date(2025, 3, 31),
            ),
        )

    def seal(self, record: ResidentRecord) -> str:
        reg = svc.register_seal(
            self.uow(), CLERK, RegisterSeal(record.record_id, seal_png(), date(2025, 3, 28))
        )
        return reg.registration_number

    def abolish_seal(self, number: str) -> None:
        svc.abolish_seal(self.uow(), CLERK, AbolishSeal(number, date(2025, 3, 30), "紛失"))

    def remove(self, record: ResidentRecord) -> ResidentRecord:
        return svc.remove_by_authority(
            self.uow(),
            SUPERVISOR,
            RemoveByAuthority(record.record_id, date(2025, 3, 29), "実態調査により居住の事実なし"),
        )

    def support(self, record: ResidentRecord) -> ResidentRecord:
        """A 支援措置 protecting `record`, decided on 2025-03-30 (its first year ends on
        2026-03-29), renewed in each last month until it also covers the real date: node
        processes and browser tests issue on the system clock, and a measure ends by its date."""
        measure = record_support_measure(
            self.uow(),
            SUPERVISOR,
            RecordSupportMeasure(
                kind=SupportKind.DOMESTIC_VIOLENCE,
                requested_on=date(2025, 3, 28),
                record_ids=(record.record_id,),
                restrained=(RestrainedParty("渡辺", "剛", birth_date=date(1985, 1, 2)),),
                note="警察署の意見（相談記録あり）",
                starts_on=date(2025, 3, 30),
            ),
        )
        while measure.last_day < date.today() + timedelta(days=60):
            on = measure.last_day  # the last day of the period: within the renewal window
            clock = FixedClock(datetime(on.year, on.month, on.day, 10, 0, tzinfo=JST))
            measure = renew_support_measure(
                SqlRegistryUnitOfWork(self.engine, clock=clock),
                SUPERVISOR,
                RenewSupportMeasure(measure.measure_id, on),
            )
        return svc.get_record(self.uow(), SUPERVISOR, record.record_id)


@dataclass(frozen=True)
class People:
    head: ResidentRecord  # 葛󠄂西 辻󠄂: IVS name, householder, 本籍, 個人番号
    wife: ResidentRecord  # 旧氏 佐藤
    child_heisei: ResidentRecord  # born 平成31年4月30日
    child_reiwa: ResidentRecord  # born 令和元年5月1日
    foreigner: ResidentRecord  # 外国人住民 with 通称 and every 在留 item
    removed: ResidentRecord  # 除票
    sealed: ResidentRecord  # live seal
    abolished: ResidentRecord  # seal abolished
    supported: ResidentRecord  # 支援措置
    supported_child: ResidentRecord  # member of the supported person's household


def populate(reg: Registry) -> People:
    head = reg.move_in(
        person(
            f"{KUZU_IVS}西",
            TSUJI_IVS,
            "カサイ",
            "ツジ",
            date(1980, 5, 5),
            koseki_head=f"{KUZU_IVS}西　{TSUJI_IVS}",
        )
    )
    wife = reg.move_in(
        person(
            f"{KUZU_IVS}西",
            "花子",
            "カサイ",
            "ハナコ",
            date(1982, 7, 7),
            Sex.FEMALE,
            koseki_head=f"{KUZU_IVS}西　{TSUJI_IVS}",
            former_surname="佐藤",
        ),
        join=(head.household_id, Relationship.WIFE),
    )
    reg.seal(wife)  # a seal registered by someone with a 旧氏
    child_heisei = reg.birth(
        person(f"{KUZU_IVS}西", "平太", "カサイ", "ヘイタ", date(2019, 4, 30)), head.household_id
    )
    child_reiwa = reg.birth(
        person(f"{KUZU_IVS}西", "令子", "カサイ", "レイコ", date(2019, 5, 1), Sex.FEMALE),
        head.household_id,
    )
    foreigner = reg.move_in(
        person(
            "SMITH",
            "JOHN",
            "スミス",
            "ジョン",
            date(1985, 3, 2),
            foreign=ForeignItems(
                nationality="アメリカ合衆国",
                category=ForeignResidentCategory.MID_LONG_TERM,
                residence_status="技術・人文知識・国際業務",
                period_of_stay="3年",
                stay_expiry=date(2027, 3, 31),
                residence_card_number="AB12345678CD",
                alias_name="山田　ジョン",
                alias_name_kana="ヤマダ　ジョン",
            ),
        ),
        address="東京都稲城市百村1612番地",
    )
    gone = reg.move_in(
        person("鈴木", "一郎", "スズキ", "イチロウ", date(1970, 1, 15)),
        address="東京都稲城市矢野口100番地",
    )
    removed = reg.remove(gone)
    sealed = reg.move_in(
        person("高橋", "誠", "タカハシ", "マコト", date(1975, 8, 20)),
        address="東京都稲城市平尾1丁目1番",
    )
    reg.seal(sealed)
    abolished = reg.move_in(
        person("田中", "実", "タナカ", "ミノル", date(1960, 2, 2)),
        address="東京都稲城市坂浜200番地",
    )
    reg.abolish_seal(reg.seal(abolished))
    supported_head = reg.move_in(
        person("渡辺", "恵", "ワタナベ", "メグミ", date(1990, 9, 9), Sex.FEMALE),
        address="東京都稲城市若葉台2丁目3番",
    )
    supported_child = reg.birth(
        person("渡辺", "陽", "ワタナベ", "ヒナタ", date(2020, 6, 1)), supported_head.household_id
    )
    supported = reg.support(supported_head)
    return People(
        head=head,
        wife=wife,
        child_heisei=child_heisei,
        child_reiwa=child_reiwa,
        foreigner=foreigner,
        removed=removed,
        sealed=sealed,
        abolished=abolished,
        supported=supported,
        supported_child=supported_child,
    )


def plain_record(family: str, given: str) -> ResidentRecord:
    """A record built directly (no database), for rendering tests."""
    return ResidentRecord(
        record_id="r-1",
        lg_code="132250",
        resident_code="24727059608",
        family_name=family,
        given_name=given,
        family_name_kana="カサイ",
        given_name_kana="ツジ",
        birth_date=date(1980, 5, 5),
        sex=Sex.MALE,
        household_id="h-1",
        relationship=Relationship.HOUSEHOLDER,
        resident_since=date(2025, 3, 20),
        address=HOME,
        address_since=date(2025, 3, 20),
    )


@dataclass
class CertEnv:
    engine: sa.Engine
    reg: Registry
    people: People
    desk: CertificateDesk
    tmp: Path

    def count(self, table: sa.Table, where: Any = None) -> int:
        stmt = sa.select(sa.func.count()).select_from(table)
        if where is not None:
            stmt = stmt.where(where)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def state(self) -> dict[str, Any]:
        """Everything issuance may change, to show a refused request changed none of it."""
        with self.engine.connect() as conn:
            counters = dict(
                conn.execute(
                    sa.select(counters_module.counters.c.name, counters_module.counters.c.value)
                ).all()
            )
            statuses = sorted(
                conn.execute(
                    sa.select(
                        certificate_tables.certificates.c.certificate_id,
                        certificate_tables.certificates.c.status,
                    )
                ).all()
            )
        printed = sorted(p.name for p in (self.tmp / "print").glob("*"))
        return {
            "certificates": statuses,
            "register": self.count(certificate_tables.certificate_register),
            "fees": self.count(certificate_tables.certificate_fees),
            "counters": counters,
            "records": self.count(registry_tables.resident_records),
            "printed": printed,
        }


def cert_env(url: str, tmp: Path) -> CertEnv:
    engine = init_registry(url)
    reg = Registry(engine)
    people = populate(reg)
    return CertEnv(engine, reg, people, make_desk(engine, tmp, reg.clock), tmp)


def clone_env(template: CertEnv, url: str, tmp: Path) -> CertEnv:
    """An env on `url`, a copy of `template`'s database: the same people and the same next
    codes, without building them again (a test's set-up in milliseconds, not a second)."""
    engine = make_engine(url)
    reg = Registry(engine)
    reg._code, reg._number = template.reg._code, template.reg._number
    return CertEnv(engine, reg, template.people, make_desk(engine, tmp, reg.clock), tmp)


_RENDERER: CertificateRenderer | None = None


def shared_renderer() -> CertificateRenderer:
    """One renderer for the whole test session: it caches fonts and the mayor's seal."""
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = CertificateRenderer()
    return _RENDERER


def make_desk(engine: sa.Engine, tmp: Path, clock: FixedClock | None = None) -> CertificateDesk:
    settings = Settings(
        keys_dir=str(tmp / "keys"),
        print_dir=str(tmp / "print"),
        public_url="http://verify.test",
    )
    return CertificateDesk(
        engine, settings, clock=clock or fixed_clock(), renderer=shared_renderer()
    )


class LiveServer:
    """The registry app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        import threading

        import uvicorn

        # A browser keeps connections open after its page is closed: stop waiting for them.
        self.config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def registry_app(env: CertEnv) -> Any:
    from juki.nodes.apps import create_registry_app

    app = create_registry_app(env.engine, clock=env.reg.clock)
    app.state.certificates.use(env.desk)
    return app
