from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"        # dispatch-center operator: every case
    SQUAD_LEADER = "squad_leader"    # 中队长: their squad's grid only
    OFFICER = "officer"              # 执法队员: their squad's grid only


SQUAD_ROLES = frozenset({Role.SQUAD_LEADER, Role.OFFICER})
CENTRE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})
