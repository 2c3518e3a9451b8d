"""What the dispatch services need besides a session, built once per process."""
from dataclasses import dataclass, field

from config.dispatch import DispatchConfig
from config.plates import PlatesConfig
from dispatch.calendar import WorkCalendar
from dispatch.case.signoff import SignoffRules
from dispatch.casefile.review import ReviewRules
from dispatch.categories import CategoryTable
from grid.cells import UnitGrid


@dataclass
class DispatchContext:
    config: DispatchConfig
    categories: CategoryTable
    calendar: WorkCalendar
    grid: UnitGrid | None  # None until a city grid has been built
    signoffs: SignoffRules
    review: ReviewRules
    plates: PlatesConfig = field(default_factory=PlatesConfig)  # leniency, off-site handling, plate search
