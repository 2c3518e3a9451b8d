from enum import StrEnum


class ReplyStatus(StrEnum):
    PENDING = "pending"  # waits for its next try
    SENT = "sent"        # the hotline answered 2xx
    FAILED = "failed"    # gave up after replies.max_attempts tries


class Satisfaction(StrEnum):
    """The caller's rating in the follow-up call (回访)."""

    SATISFIED = "satisfied"                      # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"                # 不满意
