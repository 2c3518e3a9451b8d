"""Sending the outbox of closure replies to the hotline's webhook, with retries and exponential back-off."""
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.hotline import HotlineConfig, ReplyConfig
from dispatch.hotline.enums import ReplyStatus
from dispatch.hotline.models import HotlineReply

def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of `body`: what our replies carry back."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def push_signature(*, method: str, path: str, timestamp: str, body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 a pushed work order carries: of its method, path and timestamp (a line each), then the body."""
    return sign(f"{method}\n{path}\n{timestamp}\n".encode() + body, secret)


def hotline_body(reply: HotlineReply, config: ReplyConfig) -> dict[str, Any]:
    """The reply in the hotline's field names, the handling result in its words."""
    result = reply.payload["result"]
    ours = {**reply.payload, "result_text": config.results_zh.get(result or "", result)}
    return {config.fields[key]: ours[key] for key in config.fields}


def backoff_s(attempts: int, config: ReplyConfig) -> float:
    """Seconds before try `attempts + 1`: base, 2 × base, 4 × base, ... up to the maximum."""
    return min(config.backoff_base_s * 2 ** (attempts - 1), config.backoff_max_s)


def send_due_replies(*, session: Session, config: HotlineConfig, now: dt.datetime) -> dict[str, int]:
    """Try each due pending reply once (up to batch_size), one transaction each; counts sent, retried, failed."""
    replies_config = config.replies
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if replies_config.webhook_url is None:
        return counts
    due = (select(HotlineReply)
           .where(HotlineReply.status == ReplyStatus.PENDING.value, HotlineReply.next_attempt_at <= now)
           .order_by(HotlineReply.id).limit(1)
           .with_for_update(skip_locked=True))  # the row stays locked while it is sent: no second sender takes it
    for _ in range(replies_config.batch_size):
        reply = session.scalars(due).one_or_none()
        if reply is None:
            break
        body = json.dumps(hotline_body(reply, replies_config), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": reply.idempotency_key}
        if config.secret:
            headers[config.signature_header] = sign(body, config.secret)
        reply.attempts += 1
        try:
            response = requests.post(replies_config.webhook_url, data=body, headers=headers,
                                     timeout=replies_config.timeout_s)
            error = None if response.ok else f"HTTP {response.status_code}: {response.text[:200]}"
        except requests.RequestException as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:500]
        if error is None:
            reply.status, reply.sent_at, reply.last_error = ReplyStatus.SENT.value, now, None
            counts["sent"] += 1
        elif reply.attempts >= replies_config.max_attempts:
            reply.status, reply.last_error = ReplyStatus.FAILED.value, error
            counts["failed"] += 1
        else:
            reply.last_error = error
            reply.next_attempt_at = now + dt.timedelta(seconds=backoff_s(reply.attempts, replies_config))
            counts["retry"] += 1
        session.commit()
    session.commit()  # ends the transaction of the last, empty look-up
    return counts


def list_replies(*, session: Session, status: ReplyStatus | None, limit: int) -> list[HotlineReply]:
    query = select(HotlineReply).order_by(HotlineReply.id.desc()).limit(limit)
    if status is not None:
        query = query.where(HotlineReply.status == status.value)
    return list(session.scalars(query))
