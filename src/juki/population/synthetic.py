"""A realistic synthetic population for one municipality, reproducible from a seed.

Demos, benchmarks and load tests need residents that look like a Japanese town's: household sizes,
ages, names with matching readings, 本籍 and 筆頭者, foreign residents with plausible statuses,
real town names. Everything here is pure: the same arguments give the same households, record for
record, so a demo or a failing benchmark can be rebuilt exactly.

Randomness comes from one `random.Random` and one seeded faker ja_JP instance (only for Japanese
name pairs, so kanji and reading match). Both are keyed by the seed *and* the first resident-code
body: seeding the same database again with the same seed (codes continue from the allotment)
adds different people rather than twins of the first batch.

The figures are Japan's, rounded: 2020 census household sizes (38 % one person, 28 % two …),
an age structure with a median near 49, and the 2023 mix of foreign residents' nationalities
and statuses of residence, at about 3 % of residents.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from faker import Faker

from juki.core.identifiers import MyNumber, ResidentCode
from juki.population.addresses import TownArea
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    Household,
    Municipality,
    RecordChange,
    Relationship,
    ResidentRecord,
    Sex,
    initial_fields,
)

R = Relationship
NOTE: Final = "合成データ (synthetic population)"

# -- Japan's figures ----------------------------------------------------------------------------

# Household size → weight (2020 census, general households).
HOUSEHOLD_SIZES: Final = ((1, 38.0), (2, 28.0), (3, 17.0), (4, 12.0), (5, 3.7), (6, 1.0), (7, 0.3))
FOREIGN_HOUSEHOLD_SIZES: Final = ((1, 52.0), (2, 22.0), (3, 14.0), (4, 10.0), (5, 2.0))

# Age bands (first, last, weight) of householders by kind of household.
Bands = tuple[tuple[int, int, float], ...]
SINGLE_AGES: Final[Bands] = (
    (20, 24, 10), (25, 29, 9), (30, 34, 6), (35, 39, 6), (40, 44, 6), (45, 49, 7), (50, 54, 7),
    (55, 59, 6), (60, 64, 6), (65, 69, 8), (70, 74, 10), (75, 79, 9), (80, 84, 8), (85, 95, 8),
)  # fmt: skip
COUPLE_AGES: Final[Bands] = (
    (22, 29, 3), (30, 39, 5), (40, 49, 5), (50, 59, 11), (60, 69, 25), (70, 79, 33), (80, 95, 21),
)  # fmt: skip
FAMILY_AGES: Final[Bands] = (
    (25, 29, 3), (30, 34, 7), (35, 39, 11), (40, 44, 13), (45, 49, 15), (50, 54, 15),
    (55, 59, 13), (60, 69, 14), (70, 79, 10), (80, 89, 3),
)  # fmt: skip
SINGLE_PARENT_AGES: Final[Bands] = (
    (25, 39, 20), (40, 49, 28), (50, 59, 17), (60, 74, 17), (75, 90, 18),
)  # fmt: skip
WITH_PARENTS_AGES: Final[Bands] = ((30, 39, 20), (40, 49, 35), (50, 59, 33), (60, 66, 12))

# (template, weight) by household size; 5 and more share the last row.
TEMPLATES: Final = {
    2: (("couple", 62), ("single_parent", 18), ("with_parents", 13), ("siblings", 4),
        ("cohabitant", 3)),
    3: (("couple_kids", 64), ("single_parent", 12), ("couple_parents", 12), ("with_parents", 8),
        ("siblings", 2), ("cohabitant", 2)),
    4: (("couple_kids", 80), ("couple_parents", 16), ("single_parent", 4)),
    5: (("couple_kids", 45), ("couple_parents", 55)),
}  # fmt: skip

# Places elsewhere in Japan: previous addresses and 本籍 outside this municipality.
ELSEWHERE: Final = (
    ("北海道札幌市中央区", ("大通西", "北一条西", "南三条西")),
    ("青森県青森市", ("新町", "本町", "古川")),
    ("宮城県仙台市青葉区", ("一番町", "国分町", "本町")),
    ("福島県郡山市", ("駅前", "堂前町", "虎丸町")),
    ("茨城県水戸市", ("泉町", "南町", "大工町")),
    ("埼玉県さいたま市浦和区", ("高砂", "常盤", "岸町")),
    ("千葉県千葉市中央区", ("中央", "富士見", "新町")),
    ("東京都世田谷区", ("太子堂", "三軒茶屋", "北沢")),
    ("東京都新宿区", ("西新宿", "高田馬場", "百人町")),
    ("神奈川県横浜市中区", ("山下町", "元町", "本町")),
    ("新潟県新潟市中央区", ("古町通", "東堀通", "万代")),
    ("長野県長野市", ("大門町", "権堂町", "鶴賀")),
    ("石川県金沢市", ("広坂", "香林坊", "片町")),
    ("静岡県静岡市葵区", ("追手町", "紺屋町", "呉服町")),
    ("愛知県名古屋市中区", ("栄", "錦", "丸の内")),
    ("岐阜県岐阜市", ("金町", "神田町", "長住町")),
    ("京都府京都市左京区", ("下鴨", "岩倉", "北白川")),
    ("大阪府大阪市北区", ("梅田", "天神橋", "中之島")),
    ("兵庫県神戸市中央区", ("三宮町", "元町通", "北野町")),
    ("奈良県奈良市", ("三条町", "高畑町", "法蓮町")),
    ("岡山県岡山市北区", ("表町", "奉還町", "野田屋町")),
    ("広島県広島市中区", ("紙屋町", "大手町", "本通")),
    ("山口県山口市", ("中市町", "道場門前", "米屋町")),
    ("愛媛県松山市", ("大街道", "一番町", "湊町")),
    ("福岡県福岡市博多区", ("博多駅前", "中洲", "住吉")),
    ("熊本県熊本市中央区", ("水前寺", "新市街", "上通町")),
    ("鹿児島県鹿児島市", ("東千石町", "山之口町", "千日町")),
    ("沖縄県那覇市", ("久茂地", "牧志", "泉崎")),
)


@dataclass(frozen=True, slots=True)
class _Nation:
    """A nationality: its share of foreign residents, its names and statuses of residence."""

    name: str  # 国籍・地域 as written on the 住民票
    country: str  # the country's name, for a previous address abroad
    weight: float
    family: tuple[tuple[str, str], ...]  # (Latin, katakana)
    male: tuple[tuple[str, str], ...]
    female: tuple[tuple[str, str], ...]
    statuses: tuple[tuple[str, float], ...]
    keeps_surname: bool = False  # spouses keep their own family name


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """ "WANG=ワン; LI=リ" → (("WANG", "ワン"), ("LI", "リ")): Latin name and its katakana."""
    items = (item.split("=") for item in text.split(";"))
    return tuple((latin.strip(), kana.strip()) for latin, kana in items)


def _weights(text: str) -> tuple[tuple[str, float], ...]:
    return tuple((name, float(w)) for name, w in _pairs(text))


NATIONS: Final = (
    _Nation(
        "中国", "中華人民共和国", 24,
        _pairs("WANG=ワン; LI=リ; ZHANG=チャン; LIU=リウ; CHEN=チェン; YANG=ヤン; ZHAO=チャオ;"
               "HUANG=ホアン; ZHOU=チョウ; WU=ウー; XU=シュー; SUN=スン; MA=マー; HU=フー;"
               "GUO=グオ"),
        _pairs("WEI=ウェイ; HAO=ハオ; JUN=ジュン; LEI=レイ; MING=ミン; QIANG=チアン; TAO=タオ;"
               "YONG=ヨン; JIE=ジエ; BO=ボー"),
        _pairs("FANG=ファン; JING=ジン; LI=リー; NA=ナー; YAN=イエン; YING=イン; XIN=シン;"
               "HUI=フイ; MEI=メイ; LING=リン"),
        _weights("永住者=35; 技術・人文知識・国際業務=22; 留学=15; 技能実習=8; 定住者=6; 技能=4"),
        keeps_surname=True,
    ),
    _Nation(
        "ベトナム", "ベトナム社会主義共和国", 17,
        _pairs("NGUYEN=グエン; TRAN=チャン; LE=レ; PHAM=ファム; HOANG=ホアン; HUYNH=フイン;"
               "VU=ヴー; VO=ヴォー; DANG=ダン; BUI=ブイ; DO=ドー; NGO=ゴー"),
        _pairs("VAN HUNG=ヴァン フン; DUC MINH=ドゥック ミン; VAN NAM=ヴァン ナム;"
               "QUANG HUY=クアン フイ; MINH TUAN=ミン トゥアン; THANH LONG=タイン ロン;"
               "VAN DUC=ヴァン ドゥック; HOANG ANH=ホアン アイン"),
        _pairs("THI LAN=ティ ラン; THI HOA=ティ ホア; THI MAI=ティ マイ; THI HUONG=ティ フオン;"
               "NGOC ANH=ゴック アイン; THU TRANG=トゥー チャン; THI THAO=ティ タオ;"
               "THI LINH=ティ リン"),
        _weights("技能実習=35; 特定技能=20; 技術・人文知識・国際業務=20; 留学=15; 永住者=6;"
                 "定住者=4"),
        keeps_surname=True,
    ),
    _Nation(
        "韓国", "大韓民国", 12,
        _pairs("KIM=キム; LEE=イ; PARK=パク; CHOI=チェ; JUNG=チョン; KANG=カン; CHO=チョ;"
               "YOON=ユン; JANG=チャン; LIM=イム"),
        _pairs("MINJUN=ミンジュン; SEOJUN=ソジュン; JIHOON=ジフン; HYUNWOO=ヒョンウ;"
               "SUNGMIN=ソンミン; DONGHYUN=ドンヒョン; YOUNGSOO=ヨンス; JAEHO=ジェホ"),
        _pairs("SEOYEON=ソヨン; JIWOO=ジウ; MINJI=ミンジ; HYEJIN=ヘジン; EUNJI=ウンジ;"
               "YOUNGHEE=ヨンヒ; SUJIN=スジン; MIKYUNG=ミギョン"),
        _weights("特別永住者=58; 永住者=20; 技術・人文知識・国際業務=14; 留学=8"),
        keeps_surname=True,
    ),
    _Nation(
        "フィリピン", "フィリピン共和国", 9,
        _pairs("SANTOS=サントス; REYES=レイエス; CRUZ=クルス; GARCIA=ガルシア;"
               "BAUTISTA=バウティスタ; MENDOZA=メンドーサ; RAMOS=ラモス; DELA CRUZ=デラ クルス;"
               "VILLANUEVA=ビジャヌエバ; TORRES=トーレス"),
        _pairs("JOSE=ホセ; MARK=マーク; JOHN PAUL=ジョン ポール; MICHAEL=マイケル;"
               "ANGELO=アンジェロ; CARLO=カルロ"),
        _pairs("MARIA=マリア; ANGELICA=アンジェリカ; KRISTINE=クリスティン; JOY=ジョイ;"
               "MARIBEL=マリベル; ROSALIE=ロザリー"),
        _weights("永住者=50; 定住者=20; 技能実習=15; 特定技能=15"),
    ),
    _Nation(
        "ブラジル", "ブラジル連邦共和国", 6,
        _pairs("SILVA=シルバ; SANTOS=サントス; OLIVEIRA=オリベイラ; SOUZA=ソウザ;"
               "PEREIRA=ペレイラ; COSTA=コスタ; FERREIRA=フェヘイラ; NAKAMURA=ナカムラ;"
               "SATO=サトウ; ALMEIDA=アルメイダ"),
        _pairs("LUCAS=ルーカス; GABRIEL=ガブリエル; RAFAEL=ハファエル; MATEUS=マテウス;"
               "PEDRO=ペドロ; THIAGO=チアゴ"),
        _pairs("ANA=アナ; JULIANA=ジュリアナ; BEATRIZ=ベアトリス; FERNANDA=フェルナンダ;"
               "CAMILA=カミラ; LARISSA=ラリッサ"),
        _weights("永住者=55; 定住者=45"),
    ),
    _Nation(
        "ネパール", "ネパール", 5,
        _pairs("GURUNG=グルン; SHRESTHA=シュレスタ; TAMANG=タマン; RAI=ライ; MAGAR=マガル;"
               "THAPA=タパ; ADHIKARI=アディカリ; POUDEL=パウデル"),
        _pairs("RAM=ラム; BIKASH=ビカス; SURESH=スレス; PRAKASH=プラカシュ; SANJAY=サンジャイ"),
        _pairs("SITA=シタ; ANITA=アニタ; SUNITA=スニタ; PUJA=プジャ; GITA=ギタ"),
        _weights("留学=35; 技術・人文知識・国際業務=30; 技能=25; 永住者=10"),
    ),
    _Nation(
        "インドネシア", "インドネシア共和国", 4,
        _pairs("SAPUTRA=サプトラ; PRATAMA=プラタマ; WIJAYA=ウィジャヤ; SETIAWAN=セティアワン;"
               "HIDAYAT=ヒダヤット; KURNIAWAN=クルニアワン"),
        _pairs("AGUS=アグス; BUDI=ブディ; DEDI=デディ; RIZKY=リズキー; ANDI=アンディ"),
        _pairs("SITI=シティ; DEWI=デウィ; PUTRI=プトリ; RINA=リナ; AYU=アユ"),
        _weights("技能実習=45; 特定技能=35; 留学=10; 技術・人文知識・国際業務=10"),
    ),
    _Nation(
        "米国", "アメリカ合衆国", 2,
        _pairs("SMITH=スミス; JOHNSON=ジョンソン; WILLIAMS=ウィリアムズ; BROWN=ブラウン;"
               "JONES=ジョーンズ; MILLER=ミラー; DAVIS=デイビス; WILSON=ウィルソン"),
        _pairs("JAMES=ジェームズ; JOHN=ジョン; ROBERT=ロバート; MICHAEL=マイケル;"
               "DAVID=デイビッド; DANIEL=ダニエル"),
        _pairs("MARY=メアリー; JENNIFER=ジェニファー; SARAH=サラ; EMILY=エミリー;"
               "JESSICA=ジェシカ; LAURA=ローラ"),
        _weights("技術・人文知識・国際業務=35; 教育=25; 永住者=40"),
    ),
)  # fmt: skip

PERMANENT: Final = frozenset({"永住者", "特別永住者"})
# Statuses that do not bring a family (特定技能1号, 技能実習) or rarely do (留学).
SOLO_STATUSES: Final = frozenset({"技能実習", "特定技能", "留学"})
# Period of stay → days, by status; 家族滞在 follows the supporting member's status.
PERIODS: Final = {
    "技能実習": (("1年", 365), ("2年", 730)),
    "特定技能": (("1年", 365), ("6月", 182)),
    "留学": (("1年3月", 456), ("2年3月", 821), ("4年3月", 1552)),
    "技術・人文知識・国際業務": (("1年", 365), ("3年", 1095), ("5年", 1826)),
    "技能": (("1年", 365), ("3年", 1095), ("5年", 1826)),
    "教育": (("1年", 365), ("3年", 1095)),
    "定住者": (("1年", 365), ("3年", 1095), ("5年", 1826)),
    "家族滞在": (("1年", 365), ("3年", 1095), ("5年", 1826)),
}
HEAD_AGES_BY_STATUS: Final = {
    "技能実習": (20, 34),
    "特定技能": (21, 40),
    "留学": (20, 30),
    "技術・人文知識・国際業務": (23, 50),
    "技能": (25, 52),
    "教育": (25, 62),
    "定住者": (20, 68),
    "永住者": (28, 82),
    "特別永住者": (35, 95),
}


# -- output -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyntheticHousehold:
    """A household and its members, each with the first change that created its record."""

    household: Household
    members: tuple[tuple[ResidentRecord, RecordChange], ...]

    @property
    def foreign_residents(self) -> int:
        return sum(1 for record, _ in self.members if record.is_foreign)


# -- a bijection from resident-code bodies to my_number bodies -------------------------------

_M64: Final = (1 << 64) - 1
_ROUND_KEYS: Final = (
    0x9E3779B97F4A7C15, 0xD1B54A32D192ED03, 0x8CB92BA72F3D8DD7, 0xA24BAED4963EE407,
    0xB492B66FBE98F273, 0x9FB21C651E98DF25,
)  # fmt: skip


def _mix(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def my_number_for(resident_code_body: int) -> str:
    """The synthetic 個人番号 of a resident code: a fixed, keyed permutation of 0 … 10¹¹−1.

    J-LIS derives a person's number from their 住民票コード; here a six-round decimal Feistel
    network does it. Because it is a bijection and resident codes are unique (they come from
    allotments that never overlap), my_numbers are unique too — across seeding runs, seeds and
    municipalities — without reading the database or keeping a set of numbers drawn so far.
    """
    if not 0 <= resident_code_body < 10**10:
        raise ValueError("a resident-code body has 10 digits")
    hi, lo = divmod(resident_code_body, 10**5)  # hi < 10**6, lo < 10**5
    for i, key in enumerate(_ROUND_KEYS):
        if i % 2 == 0:
            hi = (hi + _mix(lo ^ key)) % 10**6
        else:
            lo = (lo + _mix(hi ^ key)) % 10**5
    return MyNumber.complete(f"{hi * 10**5 + lo:011d}").value


# -- people before they are records -------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    relationship: Relationship
    sex: Sex
    age: int
    birth_date: date = date.min
    family_name: str = ""
    given_name: str = ""
    family_name_kana: str = ""
    given_name_kana: str = ""
    former_surname: str | None = None
    former_surname_kana: str | None = None
    honseki: str | None = None
    koseki_head: str | None = None
    nationality: str | None = None
    residence_status: str | None = None
    alias: tuple[str, str] | None = None


def _other(sex: Sex) -> Sex:
    return Sex.FEMALE if sex is Sex.MALE else Sex.MALE


def _spouse_rel(sex: Sex, registered: bool = True) -> Relationship:
    if sex is Sex.FEMALE:
        return R.WIFE if registered else R.WIFE_UNREGISTERED
    return R.HUSBAND if registered else R.HUSBAND_UNREGISTERED


def _anniversary(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


class _Generator:
    def __init__(
        self,
        municipality: Municipality,
        towns: Sequence[TownArea],
        today: date,
        rng: random.Random,
        fake: Faker,
        new_id: Callable[[], str],
    ) -> None:
        if not towns:
            raise ValueError("a municipality needs at least one town area")
        self.m = municipality
        self.towns = towns
        self.today = today
        self.rng = rng
        self.fake = fake
        self.new_id = new_id
        self.elsewhere = [p for p in ELSEWHERE if p[0] != municipality.address_prefix]
        self.sizes = self._table(HOUSEHOLD_SIZES)
        self.foreign_sizes = self._table(FOREIGN_HOUSEHOLD_SIZES)
        self._nations = (list(NATIONS), [n.weight for n in NATIONS])

    # -- small draws ---------------------------------------------------------------------------

    @staticmethod
    def _table(rows: Sequence[tuple[int, float]]) -> tuple[list[int], list[float]]:
        return [r[0] for r in rows], [r[1] for r in rows]

    def _pick(self, rows: Sequence[tuple[str, float]]) -> str:
        return self.rng.choices([r[0] for r in rows], weights=[r[1] for r in rows])[0]

    def _age(self, bands: Bands) -> int:
        lo, hi, _ = self.rng.choices(bands, weights=[b[2] for b in bands])[0]
        return self.rng.randint(lo, hi)

    def _birth(self, age: int) -> date:
        """A birth date giving exactly `age` today; a year's difference in age keeps order."""
        last_birthday_days = int(age * 365.25)
        return self.today - timedelta(days=last_birthday_days + self.rng.randrange(365))

    def _between(self, first: date, last: date) -> date:
        if last <= first:
            return first
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    def _clamp(self, value: float, lo: int, hi: int) -> int:
        return max(lo, min(hi, round(value)))

    # -- addresses -----------------------------------------------------------------------------

    def _address(self) -> str:
        town = self.rng.choice(self.towns)
        rng = self.rng
        head = f"{town.prefecture}{town.city}{town.town}"
        if town.chome:
            chome = rng.choices((1, 2, 3, 4, 5, 6), weights=(30, 26, 19, 12, 8, 5))[0]
            return f"{head}{chome}丁目{rng.randint(1, 30)}番{rng.randint(1, 28)}号"
        banchi = int(rng.paretovariate(0.9) * 20) % 3000 + 1
        if rng.random() < 0.4:
            return f"{head}{banchi}番地{rng.randint(1, 20)}"
        return f"{head}{banchi}番地"

    def _address_elsewhere(self) -> str:
        prefix, towns = self.rng.choice(self.elsewhere)
        town = self.rng.choice(towns)
        r = self.rng
        return f"{prefix}{town}{r.randint(1, 5)}丁目{r.randint(1, 30)}番{r.randint(1, 28)}号"

    def _honseki(self, here: float = 0.45) -> str:
        if self.rng.random() < here:
            town = self.rng.choice(self.towns)
            prefix = f"{town.prefecture}{town.city}{town.town}"
        else:
            place, towns = self.rng.choice(self.elsewhere)
            prefix = place + self.rng.choice(towns)
        return f"{prefix}{self.rng.randint(1, 2500)}番地"

    # -- Japanese households ---------------------------------------------------------------------

    def _children(self, parents: Sequence[_Person], n: int) -> list[_Person] | None:
        """n children 20–45 years younger than the younger parent, 1–4 years apart."""
        if n == 0:
            return []
        youngest_parent = min(p.age for p in parents)
        for _ in range(8):
            gap = self._clamp(self.rng.gauss(32, 4.5), 20, 42)
            ages = [youngest_parent - gap]
            for _ in range(n - 1):
                ages.append(ages[-1] - self.rng.randint(1, 4))
            if ages[-1] >= 0 and youngest_parent - ages[-1] <= 45:
                return [_Person(R.CHILD, self.rng.choice((Sex.MALE, Sex.FEMALE)), a) for a in ages]
        return None

    def _couple(self, bands: Bands, registered: bool = True) -> list[_Person]:
        head_sex = Sex.MALE if self.rng.random() < 0.9 else Sex.FEMALE
        head = _Person(R.HOUSEHOLDER, head_sex, self._age(bands))
        delta = self.rng.gauss(2.2, 3.2)
        spouse_age = head.age - delta if head_sex is Sex.MALE else head.age + delta
        spouse = _Person(
            _spouse_rel(_other(head_sex), registered),
            _other(head_sex),
            self._clamp(spouse_age, 18, 104),
        )
        return [head, spouse]

    def _parents_of(self, child_age: int, relationship_side: str, n: int) -> list[_Person]:
        """The householder's (or spouse's) father and/or mother, alive and older than them."""
        mother_age = min(104, child_age + self._clamp(self.rng.gauss(29, 4), 20, 42))
        father_age = min(104, mother_age + self._clamp(self.rng.gauss(3, 2.5), 0, 12))
        father, mother = (
            (R.FATHER, R.MOTHER)
            if relationship_side == "own"
            else (R.SPOUSES_FATHER, R.SPOUSES_MOTHER)
        )
        if n == 2:
            return [_Person(father, Sex.MALE, father_age), _Person(mother, Sex.FEMALE, mother_age)]
        if self.rng.random() < 0.75:  # women outlive men
            return [_Person(mother, Sex.FEMALE, mother_age)]
        return [_Person(father, Sex.MALE, father_age)]

    def _japanese_members(self, size: int) -> tuple[str, list[_Person]]:
        rng = self.rng
        if size == 1:
            age = self._age(SINGLE_AGES)
            # young singles are more often men, old ones more often widows
            sex = Sex.MALE if rng.random() < (0.6 if age < 60 else 0.36) else Sex.FEMALE
            return "single", [_Person(R.HOUSEHOLDER, sex, age)]
        templates = TEMPLATES[min(size, 5)]
        for _ in range(20):
            kind = self._pick(templates)
            people = self._compose(kind, size)
            if people is not None:
                return kind, people
        # Always possible: a couple of 60 with adult children.
        head = _Person(R.HOUSEHOLDER, Sex.MALE, 60)
        wife = _Person(R.WIFE, Sex.FEMALE, 58)
        kids = [_Person(R.CHILD, Sex.MALE, 30 - i) for i in range(size - 2)]
        return "couple_kids", [head, wife, *kids]

    def _compose(self, kind: str, size: int) -> list[_Person] | None:
        rng = self.rng
        if kind == "couple":
            return self._couple(COUPLE_AGES, registered=rng.random() > 0.03)
        if kind == "couple_kids":
            couple = self._couple(FAMILY_AGES, registered=rng.random() > 0.01)
            kids = self._children(couple, size - 2)
            return None if kids is None else couple + kids
        if kind == "single_parent":
            sex = Sex.FEMALE if rng.random() < 0.82 else Sex.MALE
            head = _Person(R.HOUSEHOLDER, sex, self._age(SINGLE_PARENT_AGES))
            kids = self._children([head], size - 1)
            return None if kids is None else [head, *kids]
        if kind == "couple_parents":
            couple = self._couple(WITH_PARENTS_AGES)
            n_parents = 2 if size >= 4 and rng.random() < 0.35 else 1
            side = "own" if rng.random() < 0.75 else "spouse"
            elder = max(couple[0].age, couple[1].age) if side == "spouse" else couple[0].age
            parents = self._parents_of(elder, side, n_parents)
            kids = self._children(couple, size - 2 - n_parents)
            return None if kids is None else couple + parents + kids
        if kind == "with_parents":
            head = _Person(R.HOUSEHOLDER, rng.choice((Sex.MALE, Sex.FEMALE)), 0)
            head.age = self._age(WITH_PARENTS_AGES)
            n_parents = min(size - 1, 2 if rng.random() < 0.3 else 1)
            parents = self._parents_of(head.age, "own", n_parents)
            kids = self._children([head], size - 1 - n_parents)
            return None if kids is None else [head, *parents, *kids]
        if kind == "siblings":
            head = _Person(
                R.HOUSEHOLDER, rng.choice((Sex.MALE, Sex.FEMALE)), self._age(SINGLE_AGES)
            )
            out = [head]
            for _ in range(size - 1):
                older = rng.random() < 0.5 and head.age < 90
                age = head.age + rng.randint(1, 6) if older else head.age - rng.randint(1, 6)
                if age < 0:
                    return None
                sex = rng.choice((Sex.MALE, Sex.FEMALE))
                rel = {
                    (True, Sex.MALE): R.ELDER_BROTHER,
                    (True, Sex.FEMALE): R.ELDER_SISTER,
                    (False, Sex.MALE): R.YOUNGER_BROTHER,
                    (False, Sex.FEMALE): R.YOUNGER_SISTER,
                }[(older, sex)]
                out.append(_Person(rel, sex, age))
            return out
        # cohabitant: friends or partners sharing a home
        head = _Person(R.HOUSEHOLDER, rng.choice((Sex.MALE, Sex.FEMALE)), self._age(SINGLE_AGES))
        return [head] + [
            _Person(
                R.COHABITANT,
                rng.choice((Sex.MALE, Sex.FEMALE)),
                self._clamp(head.age + rng.gauss(0, 6), 18, 100),
            )
            for _ in range(size - 1)
        ]

    def _full(self, family: str, given: str) -> str:
        return f"{family}\u3000{given}"

    def _given(self, sex: Sex) -> tuple[str, str]:
        pair = (
            self.fake.first_name_male_pair()
            if sex is Sex.MALE
            else self.fake.first_name_female_pair()
        )
        return pair[0], pair[1]

    def _surname(self) -> tuple[str, str]:
        pair = self.fake.last_name_pair()
        return pair[0], pair[1]

    def _name_japanese(self, kind: str, people: list[_Person]) -> None:
        """Names, 本籍 and 筆頭者: the household's 戸籍, the parents' and anyone else's own."""
        rng = self.rng
        surname = self._surname()
        head = people[0]
        in_laws = self._surname()
        for p in people:
            p.family_name, p.family_name_kana = surname
            if p.relationship in (R.SPOUSES_FATHER, R.SPOUSES_MOTHER):
                p.family_name, p.family_name_kana = in_laws
            elif p.relationship in (R.WIFE_UNREGISTERED, R.HUSBAND_UNREGISTERED, R.COHABITANT):
                p.family_name, p.family_name_kana = self._surname()
            p.given_name, p.given_name_kana = self._given(p.sex)

        # The couple's 戸籍: headed by the husband (96 % of marriages take his name).
        spouse = next((p for p in people if p.relationship in (R.WIFE, R.HUSBAND)), None)
        family_honseki = self._honseki()
        parents_honseki = family_honseki if rng.random() < 0.6 else self._honseki()
        fathers = [p for p in people if p.relationship is R.FATHER]
        father_name = (
            self._full(fathers[0].family_name, fathers[0].given_name)
            if fathers
            else self._full(surname[0], self._given(Sex.MALE)[0])
        )
        if spouse is not None:
            husband = head if head.sex is Sex.MALE else spouse
            family_head = self._full(husband.family_name, husband.given_name)
            wife = spouse if husband is head else head
            if wife is spouse and rng.random() < 0.03:
                maiden = (
                    in_laws
                    if any(p.relationship in (R.SPOUSES_FATHER, R.SPOUSES_MOTHER) for p in people)
                    else self._surname()
                )
                wife.former_surname, wife.former_surname_kana = maiden
        elif kind == "single_parent" or head.age >= 45 or (head.age >= 30 and rng.random() < 0.5):
            family_head = self._full(head.family_name, head.given_name)
            if head.sex is Sex.FEMALE and head.age >= 60 and kind == "single":
                # a widow stays in her late husband's 戸籍
                family_head = self._full(surname[0], self._given(Sex.MALE)[0])
        else:
            # young and unmarried: still in the parents' 戸籍
            family_head, family_honseki = father_name, parents_honseki

        for p in people:
            rel = p.relationship
            if rel in (R.HOUSEHOLDER, R.WIFE, R.HUSBAND, R.CHILD):
                p.honseki, p.koseki_head = family_honseki, family_head
            elif rel in (R.FATHER, R.MOTHER, R.ELDER_BROTHER, R.ELDER_SISTER, R.YOUNGER_BROTHER,
                         R.YOUNGER_SISTER):  # fmt: skip
                p.honseki, p.koseki_head = parents_honseki, father_name
            elif rel in (R.SPOUSES_FATHER, R.SPOUSES_MOTHER):
                in_law_father = next(
                    (q for q in people if q.relationship is R.SPOUSES_FATHER), None
                )
                name = in_law_father.given_name if in_law_father else self._given(Sex.MALE)[0]
                p.honseki, p.koseki_head = self._honseki(0.3), self._full(in_laws[0], name)
            else:  # unregistered partners and cohabitants keep their own 戸籍
                p.honseki = self._honseki(0.2)
                p.koseki_head = (
                    self._full(p.family_name, p.given_name)
                    if p.age >= 35
                    else self._full(p.family_name, self._given(Sex.MALE)[0])
                )

    # -- foreign households ---------------------------------------------------------------------

    def _foreign_members(self, size: int) -> tuple[_Nation, list[_Person]]:
        rng = self.rng
        nation = rng.choices(self._nations[0], weights=self._nations[1])[0]
        status = self._pick(nation.statuses)
        if status in SOLO_STATUSES and (status != "留学" or rng.random() < 0.9):
            size = 1
        lo, hi = HEAD_AGES_BY_STATUS[status]
        head = _Person(R.HOUSEHOLDER, Sex.MALE if rng.random() < 0.6 else Sex.FEMALE, 0)
        head.age = rng.randint(lo, hi)
        people = [head]
        if size >= 2:
            spouse_age = self._clamp(
                head.age + rng.gauss(-2 if head.sex is Sex.MALE else 2, 3), 18, 100
            )
            people.append(_Person(_spouse_rel(_other(head.sex)), _other(head.sex), spouse_age))
            kids = self._children(people, size - 2)
            if kids is None:  # too young for that many children: a couple only
                kids = []
            people += kids
        dependant = "家族滞在" if status not in PERMANENT | {"定住者"} else status
        for p in people:
            p.nationality = nation.name
            p.residence_status = status if p is head else dependant
        self._name_foreign(nation, people)
        return nation, people

    def _name_foreign(self, nation: _Nation, people: list[_Person]) -> None:
        rng = self.rng
        family = rng.choice(nation.family)
        head = people[0]
        spouse_family = rng.choice(nation.family) if nation.keeps_surname else family
        father_family = family if head.sex is Sex.MALE else spouse_family
        alias_surname = self._surname() if head.residence_status == "特別永住者" else None
        for p in people:
            if p is head:
                fam = family
            elif p.relationship is R.CHILD:
                fam = father_family
            else:
                fam = spouse_family
            given = rng.choice(nation.male if p.sex is Sex.MALE else nation.female)
            p.family_name, p.family_name_kana = fam[0], fam[1]
            p.given_name, p.given_name_kana = given[0], given[1].replace(" ", "\u3000")
            p.family_name_kana = p.family_name_kana.replace(" ", "\u3000")
            if alias_surname is not None and rng.random() < 0.9:
                first, first_kana = self._given(p.sex)
                p.alias = (
                    self._full(alias_surname[0], first),
                    self._full(alias_surname[1], first_kana),
                )

    def _foreign_items(self, p: _Person, head_expiry: tuple[str, date] | None) -> dict[str, Any]:
        rng = self.rng
        status = p.residence_status or ""
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        card = (
            "".join(rng.choice(letters) for _ in range(2))
            + f"{rng.randrange(10**8):08d}"
            + "".join(rng.choice(letters) for _ in range(2))
        )
        period: str | None = None
        expiry: date | None = None
        if status not in PERMANENT:
            if status == "家族滞在" and head_expiry is not None:
                period, expiry = head_expiry
            else:
                period, days = rng.choice(PERIODS[status])
                expiry = self.today + timedelta(days=rng.randint(30, days))
        category = (
            ForeignResidentCategory.SPECIAL_PERMANENT
            if status == "特別永住者"
            else ForeignResidentCategory.MID_LONG_TERM
        )
        return {
            "is_foreign": True,
            "nationality": p.nationality,
            "foreign_category": category,
            "residence_status": status,
            "period_of_stay": period,
            "stay_expiry": expiry,
            "residence_card_number": card,
            "alias_name": p.alias[0] if p.alias else None,
            "alias_name_kana": p.alias[1] if p.alias else None,
        }

    # -- dates, welfare and records ---------------------------------------------------------------

    def household(self, size: int, foreign: bool, codes: Iterator[int]) -> SyntheticHousehold:
        rng = self.rng
        nation: _Nation | None = None
        if foreign:
            nation, people = self._foreign_members(size)
        else:
            kind, people = self._japanese_members(size)
            self._name_japanese(kind, people)
        for p in people:
            p.birth_date = self._birth(p.age)
        head = people[0]
        status = head.residence_status or ""

        # When the household came (formed_on) and when it moved to its present address.
        if foreign and status not in PERMANENT | {"定住者"}:
            years = rng.uniform(0, min(4.5, head.age - 18))
        else:
            years = (head.age - 18) * rng.random() ** 1.2
        formed_on = max(
            _anniversary(head.birth_date, 18), self.today - timedelta(days=int(years * 365.25))
        )
        formed_on = min(formed_on, self.today)
        address_date = formed_on
        if rng.random() < 0.25:
            address_date = self._between(formed_on, self.today)
        native = (not foreign or status == "特別永住者") and rng.random() < 0.2
        abroad = foreign and status not in PERMANENT and rng.random() < 0.7
        if abroad and nation is not None:
            previous = nation.country
        elif not foreign and rng.random() < 0.02:
            previous = rng.choice(
                ("アメリカ合衆国", "連合王国", "シンガポール共和国", "オーストラリア連邦")
            )
            abroad = True
        else:
            previous = self._address_elsewhere()

        address = self._address()
        household = Household(
            household_id=self.new_id(),
            lg_code=self.m.lg_code,
            address=address,
            formed_on=formed_on,
        )

        nhi = self._nhi_household(head, status)
        head_expiry: tuple[str, date] | None = None
        members: list[tuple[ResidentRecord, RecordChange]] = []
        eligible_kids = [p for p in people if p.relationship is R.CHILD and p.age < 18]
        for p in people:
            if p.birth_date >= formed_on or (p is head and native):
                reason, since, prev = ChangeReason.BIRTH, p.birth_date, None
            else:
                reason = ChangeReason.IMMIGRATION if abroad else ChangeReason.MOVE_IN
                since, prev = formed_on, previous
            notified = min(self.today, since + timedelta(days=rng.randint(0, 14)))
            fields: dict[str, Any] = {}
            if p.nationality is not None:
                fields = self._foreign_items(p, head_expiry)
                if p is head and fields["stay_expiry"] is not None:
                    head_expiry = (fields["period_of_stay"], fields["stay_expiry"])
            fields.update(self._welfare(p, since, nhi, foreign, head, eligible_kids))
            body = next(codes)
            record = ResidentRecord(
                record_id=self.new_id(),
                lg_code=self.m.lg_code,
                resident_code=ResidentCode.complete(f"{body:010d}").value,
                family_name=p.family_name,
                given_name=p.given_name,
                family_name_kana=p.family_name_kana,
                given_name_kana=p.given_name_kana,
                birth_date=p.birth_date,
                sex=p.sex,
                household_id=household.household_id,
                relationship=p.relationship,
                resident_since=since,
                address=address,
                address_since=max(address_date, since),
                my_number=my_number_for(body),
                former_surname=p.former_surname,
                former_surname_kana=p.former_surname_kana,
                honseki=p.honseki,
                koseki_head=p.koseki_head,
                notified_on=notified,
                previous_address=prev,
                **fields,
            )
            change = RecordChange(reason, since, notified, initial_fields(record), NOTE)
            members.append((record, change))
        return SyntheticHousehold(household, tuple(members))

    def _nhi_household(self, head: _Person, status: str) -> bool:
        """国民健康保険: the self-employed, the retired under 75, students; not employees."""
        if status == "留学":
            return True
        if status in SOLO_STATUSES or status in {"技術・人文知識・国際業務", "教育", "技能"}:
            return False
        p = 0.75 if 65 <= head.age < 75 else 0.5 if head.age >= 75 else 0.2
        return self.rng.random() < p

    def _welfare(
        self,
        p: _Person,
        since: date,
        nhi: bool,
        foreign: bool,
        head: _Person,
        eligible_kids: Sequence[_Person],
    ) -> dict[str, Any]:
        today = self.today
        age = p.age
        out: dict[str, Any] = {}
        # 選挙人名簿: Japanese, 18 or over, resident here for three months.
        out["electoral_registered"] = (
            not foreign and age >= 18 and since <= today - timedelta(days=92)
        )
        if age >= 75:
            out["late_elderly_insured_since"] = max(since, _anniversary(p.birth_date, 75))
        elif nhi:
            retired = _anniversary(head.birth_date, 60)
            out["nhi_insured_since"] = min(today, max(since, retired) if head.age >= 65 else since)
        if age >= 65:
            out["ltc_insured_since"] = max(since, _anniversary(p.birth_date, 65))
        # 国民年金: category 1 (self-employed, students) and 3 (dependent spouse of an employee).
        if 20 <= age < 60:
            adult = max(since, _anniversary(p.birth_date, 20))
            if nhi:
                out["national_pension_category"], out["national_pension_since"] = "1", adult
            elif p.relationship is R.WIFE and self.rng.random() < 0.45:
                out["national_pension_category"], out["national_pension_since"] = "3", adult
            elif p.relationship is R.CHILD and age <= 22 and self.rng.random() < 0.5:
                out["national_pension_category"], out["national_pension_since"] = "1", adult
        # 児童手当: recorded on the recipient, the parent who heads the household.
        if p is head and eligible_kids:
            out["child_allowance_since"] = max(since, min(k.birth_date for k in eligible_kids))
        return out


def generate_population(
    municipality: Municipality,
    towns: Sequence[TownArea],
    n_residents: int,
    *,
    seed: int,
    today: date,
    resident_code_bodies: Iterable[int],
    new_id: Callable[[], str] | None = None,
    foreign_share: float = 0.03,
) -> Iterator[SyntheticHousehold]:
    """Exactly `n_residents` residents in households, lazily, the same for the same arguments.

    `resident_code_bodies` gives the 10-digit bodies to use, in order (e.g. the `range` reserved
    in the allotment); each resident's my_number is `my_number_for` their body. Ids come from the
    random source unless `new_id` is given.
    """
    if n_residents < 0:
        raise ValueError("n_residents must not be negative")
    codes = iter(resident_code_bodies)
    first = next(codes, None)
    if first is None:
        if n_residents:
            raise ValueError("no resident-code bodies to assign")
        return
    pending = iter((first,))

    def all_codes() -> Iterator[int]:
        yield from pending
        yield from codes

    code_iter = all_codes()
    rng = random.Random(f"juki-synthetic:{seed}:{first}")
    id_rng = random.Random(f"juki-synthetic-ids:{seed}:{first}")
    fake = Faker("ja_JP")
    fake.seed_instance(rng.getrandbits(64))

    def random_id() -> str:
        return str(uuid.UUID(int=id_rng.getrandbits(128), version=4))

    gen = _Generator(municipality, towns, today, rng, fake, new_id or random_id)
    # Foreign households are smaller (≈ 1.5 vs 2.2 people): weight the household draw so that
    # about `foreign_share` of residents are foreign.
    p_foreign = foreign_share * 2.2 / (1.5 + foreign_share * (2.2 - 1.5))
    remaining = n_residents
    while remaining > 0:
        foreign = rng.random() < p_foreign
        sizes, weights = gen.foreign_sizes if foreign else gen.sizes
        size = min(rng.choices(sizes, weights=weights)[0], remaining)
        try:
            household = gen.household(size, foreign, code_iter)
        except StopIteration:
            raise ValueError("ran out of resident-code bodies") from None
        remaining -= len(household.members)
        yield household
