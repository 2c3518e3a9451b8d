from enum import StrEnum


class TicketSource(StrEnum):
    HOTLINE_12319 = "hotline_12319"
    HOTLINE_12345 = "hotline_12345"
    CAMERA = "camera"
    DRONE = "drone"
    PATROL = "patrol"


class TicketStatus(StrEnum):
    UNLOCATED = "unlocated"  # waits in the "locate manually" queue
    LINKED = "linked"        # belongs to a case (its first report or merged into it)
