"""The transparency report as an HTML page (Jinja2) and a PDF (WeasyPrint, as certificates are)."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Final

from jinja2 import Environment, FileSystemLoader, select_autoescape

from juki.nodes.transparency.model import TransparencyReport

TEMPLATES: Final = Path(__file__).parent / "templates"
# The page's labels for the codes the records hold.
KIND_JA: Final = MappingProxyType(
    {"municipality": "市区町村", "prefecture": "都道府県", "national": "全国（機構）"}
)
CLASS_JA: Final = MappingProxyType(
    {
        "config": "設定",
        "personal": "住民の個人情報",
        "identity_info": "本人確認情報",
        "audit": "監査記録",
        "security": "セキュリティ",
        "network": "通信",
        "fuhyo": "附票",
    }
)
OUTCOME_JA: Final = MappingProxyType(
    {"provided": "提供", "not_found": "該当なし", "refused": "拒否"}
)


def render_html(report: TransparencyReport) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("transparency.html").render(
        r=report,
        KIND_JA=KIND_JA,
        CLASS_JA=CLASS_JA,
        OUTCOME_JA=OUTCOME_JA,
    )


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
