"""The case file's PDF: the CJK font it embeds."""
from pydantic import Field

from config.base import StrictModel


class CaseFileConfig(StrictModel):
    font_file: str = Field("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                           description="a TrueType-outline CJK font to embed (Debian fonts-wqy-zenhei)")
    font_index: int = Field(0, ge=0, le=16, description="the face's index in a .ttc collection")
    photo_width_mm: float = Field(80, ge=20, le=170, description="width of an evidence photo on the page")
