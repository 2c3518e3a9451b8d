"""Fuzzy matching of a caller's address against the standard-address table, offline."""
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dispatch.address.normalize import address_key, house_number

# Right street but another (or no) house number: a candidate to offer, never a confident match.
NUMBER_MISMATCH_FACTOR = 0.8
SHORTLIST_FACTOR = 4       # rescore this many times the wanted candidates after the fast first pass


@dataclass(frozen=True)
class Candidate:
    address: str
    lon: float  # WGS-84
    lat: float
    score: float  # 0-100


class AddressMatcher:
    """Standard addresses by normalised key, matched with rapidfuzz's WRatio and a house-number check.

    >>> matcher = AddressMatcher([("信阳市浉河区新华路123号", 114.07, 32.12)], prefixes=["信阳市", "浉河区"])
    >>> best = matcher.match("新华路一二三号")[0]
    >>> best.address, best.score
    ('信阳市浉河区新华路123号', 100.0)
    """

    def __init__(self, rows: Sequence[tuple[str, float, float]], *, prefixes: Sequence[str]) -> None:
        self.rows = list(rows)
        self.prefixes = list(prefixes)
        self.keys = [address_key(address, self.prefixes) for address, _, _ in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def match(self, address: str, *, limit: int = 5) -> list[Candidate]:
        """The best `limit` candidates for `address`, best first (empty when the table is)."""
        query = address_key(address, self.prefixes)
        if not query or not self.rows:
            return []
        number = house_number(query)
        shortlist = process.extract(query, self.keys, scorer=fuzz.WRatio, limit=limit * SHORTLIST_FACTOR)
        candidates = []
        for key, score, index in shortlist:
            other = house_number(key)
            if other is not None and other != number:
                score *= NUMBER_MISMATCH_FACTOR
            address_text, lon, lat = self.rows[index]
            candidates.append(Candidate(address_text, lon, lat, round(float(score), 1)))
        candidates.sort(key=lambda c: -c.score)
        return candidates[:limit]
