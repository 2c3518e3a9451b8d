from enum import StrEnum


class CaseStatus(StrEnum):
    REPORTED = "reported"      # 上报
    REGISTERED = "registered"  # 立案
    REJECTED = "rejected"      # 不予立案
    DISPATCHED = "dispatched"  # 派遣
    ACCEPTED = "accepted"      # 签收
    HANDLED = "handled"        # 处置
    VERIFIED = "verified"      # 核查
    CLOSED = "closed"          # 结案


OPEN_STATUSES = frozenset(
    {CaseStatus.REPORTED, CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.ACCEPTED,
     CaseStatus.HANDLED, CaseStatus.VERIFIED}
)
# States in which the squad's handling deadline is running.
RUNNING_STATUSES = frozenset({CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.ACCEPTED})


class CaseAction(StrEnum):
    REGISTER = "register"
    REJECT = "reject"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    HANDLE = "handle"
    VERIFY = "verify"
    RETURN = "return"  # verification failed: back to the squad for rework (返工)
    REOPEN = "reopen"  # the caller was dissatisfied with a closed case: back to the squad for rework
    CLOSE = "close"


class HandlingResult(StrEnum):
    PERSUADED = "persuaded"                  # 劝离/教育后整改
    WARNED = "warned"                        # 警告、首违不罚 (a first minor offence let off)
    SIMPLE_PENALTY = "simple_penalty"        # 简易程序处罚
    GENERAL_PROCEDURE = "general_procedure"  # 一般程序立案
    NOT_FOUND = "not_found"                  # 现场未发现
    OFFSITE_NOTICE = "offsite_notice"        # 非现场执法：camera photos and plate, a notice instead of a site visit


class EventKind(StrEnum):
    CREATED = "created"
    MERGED = "merged"
    SPLIT = "split"
    REGISTERED = "registered"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    HANDLED = "handled"
    VERIFIED = "verified"
    RETURNED = "returned"
    REOPENED = "reopened"
    CLOSED = "closed"
    OVERDUE = "overdue"
    REGRIDDED = "regridded"  # a new city grid placed the case in another cell or squad
    SIGNED_OFF = "signed_off"  # 签批: an approver's opinion on a step (dispatch/case/signoff.py)
    PLATE = "plate"  # the vehicle's plate read, extracted or corrected (dispatch/plates)
    LENIENCY = "leniency"  # 首违不罚: the suggested handling for the plate's first or repeat offence


class ReviewStatus(StrEnum):
    """A camera or drone case's check by a dispatcher before it may be registered (人工复核)."""

    PENDING = "pending"      # 待复核
    CONFIRMED = "confirmed"  # 确认：registered
    REJECTED = "rejected"    # 驳回：closed as rejected, never reaches a squad


class ReviewReason(StrEnum):
    """Why a dispatcher rejects a camera or drone case."""

    FALSE_DETECTION = "false_detection"  # 误检：no such object in the box (a shadow, a sign, a reflection)
    NOT_A_VIOLATION = "not_a_violation"  # the object is real, the rule was wrong (moving, permitted, outside)
    DUPLICATE = "duplicate"              # another case already holds this violation
