"""Japan's figures, rounded, that give the synthetic population its shape.

Kept apart from the code that draws from them so that a figure can be checked against its source
(and updated when a new census is out) without reading the generator: 2020 census household
sizes (38 % one person, 28 % two …), ages of householders by kind of household, the mix of
household kinds by size, places elsewhere in Japan, and the 2023 mix of foreign residents'
nationalities, names and statuses of residence with their periods of stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

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
class Nation:
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
    Nation(
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
    Nation(
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
    Nation(
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
    Nation(
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
    Nation(
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
    Nation(
        "ネパール", "ネパール", 5,
        _pairs("GURUNG=グルン; SHRESTHA=シュレスタ; TAMANG=タマン; RAI=ライ; MAGAR=マガル;"
               "THAPA=タパ; ADHIKARI=アディカリ; POUDEL=パウデル"),
        _pairs("RAM=ラム; BIKASH=ビカス; SURESH=スレス; PRAKASH=プラカシュ; SANJAY=サンジャイ"),
        _pairs("SITA=シタ; ANITA=アニタ; SUNITA=スニタ; PUJA=プジャ; GITA=ギタ"),
        _weights("留学=35; 技術・人文知識・国際業務=30; 技能=25; 永住者=10"),
    ),
    Nation(
        "インドネシア", "インドネシア共和国", 4,
        _pairs("SAPUTRA=サプトラ; PRATAMA=プラタマ; WIJAYA=ウィジャヤ; SETIAWAN=セティアワン;"
               "HIDAYAT=ヒダヤット; KURNIAWAN=クルニアワン"),
        _pairs("AGUS=アグス; BUDI=ブディ; DEDI=デディ; RIZKY=リズキー; ANDI=アンディ"),
        _pairs("SITI=シティ; DEWI=デウィ; PUTRI=プトリ; RINA=リナ; AYU=アユ"),
        _weights("技能実習=45; 特定技能=35; 留学=10; 技術・人文知識・国際業務=10"),
    ),
    Nation(
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
