"""Keyword rules from configuration: the category whose keywords the text names most often."""
from collections.abc import Sequence

from config.hotline import KeywordRule


def classify_text(text: str, rules: Sequence[KeywordRule]) -> str | None:
    """The category of the rule with most keyword hits in `text` (the first such rule on a tie), or None.

    >>> from config.hotline import KeywordRule
    >>> classify_text("小区门口有人摆摊卖菜", [KeywordRule(category="0501", keywords=["摆摊", "卖菜"])])
    '0501'
    """
    best, best_hits = None, 0
    for rule in rules:
        hits = sum(text.count(word) for word in rule.keywords)
        if hits > best_hits:
            best, best_hits = rule.category, hits
    return best
