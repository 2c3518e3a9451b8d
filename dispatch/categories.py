"""The case category table, read from config/categories.yaml."""
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    description: str
    time_limit_h: float
    priority: int
    handling_photo_required: tuple[str, ...] = ()  # handling results that need an on-site photo


class CategoryTable:
    """Categories by code; the YAML file is the authority, not the code."""

    def __init__(self, categories: list[Category]) -> None:
        self.by_code = {category.code: category for category in categories}

    @classmethod
    def from_yaml(cls, path: Path) -> "CategoryTable":
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rows = document.get("categories") or []
        photo_default = tuple(document.get("handling_photo_required") or ())
        categories = []
        for row in rows:
            try:
                photo = tuple(row.get("handling_photo_required", photo_default) or ())
                categories.append(Category(**{**row, "code": str(row["code"]), "handling_photo_required": photo}))
            except (TypeError, KeyError) as exc:
                raise ValueError(f"{path}: bad category entry {row!r}: {exc}") from exc
        if not categories:
            raise ValueError(f"{path}: no categories")
        return cls(categories)

    def get(self, code: str) -> Category | None:
        return self.by_code.get(code)

    def __iter__(self):
        return iter(self.by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self.by_code
