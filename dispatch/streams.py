"""What vision workers send the platform: detection reports (a queue) and their sources' health (a board).

In one process it is a plain queue. With Redis it is a Stream read by the consumer group
"dispatch": each report goes to one consumer, stays pending until acknowledged after the
database commit, and is claimed again by a live consumer if its reader died.

A report that can never be taken in (invalid, or failing every delivery) is parked with the
reason in a dead-letter stream ("<stream>:dead"), where an admin reads it, instead of coming back forever.
"""
import datetime as dt
import json
import os
import queue
import socket
from itertools import count
from typing import Any, Protocol

import redis

Message = dict[str, Any]
STREAM = "gridpatrol:detections"
GROUP = "dispatch"


class DetectionQueue(Protocol):
    def add(self, message: Message) -> str: ...
    def read(self, *, count: int, block_ms: int) -> list[tuple[str, Message]]: ...
    def ack(self, message_id: str) -> None: ...
    def backlog(self) -> dict[str, int]: ...
    def deliveries(self, message_id: str) -> int: ...
    def park(self, message_id: str, message: Any, reason: str) -> None: ...
    def dead_letters(self, *, limit: int) -> list[Message]: ...
    def dead_count(self) -> int: ...


def dead_letter(message_id: str, message: Any, reason: str) -> Message:
    """A parked report: its id on the stream, the message as sent, why it was parked, and when."""
    return {"id": message_id, "message": message, "reason": reason[:2000],
            "parked_at": dt.datetime.now(dt.timezone.utc).isoformat()}


class InProcessDetectionQueue:
    def __init__(self) -> None:
        self.items: queue.Queue[tuple[str, Message]] = queue.Queue()
        self.ids = count(1)
        self.dead: list[Message] = []

    def add(self, message: Message) -> str:
        message_id = str(next(self.ids))
        self.items.put((message_id, message))
        return message_id

    def read(self, *, count: int, block_ms: int) -> list[tuple[str, Message]]:
        batch = []
        try:
            batch.append(self.items.get(timeout=block_ms / 1000))
            while len(batch) < count:
                batch.append(self.items.get_nowait())
        except queue.Empty:
            pass
        return batch

    def ack(self, message_id: str) -> None:
        """Nothing to do: a report read from memory is gone with the process anyway."""

    def backlog(self) -> dict[str, int]:
        return {"waiting": self.items.qsize(), "pending": 0}

    def deliveries(self, message_id: str) -> int:
        return 1  # a report read from memory is never delivered again

    def park(self, message_id: str, message: Any, reason: str) -> None:
        self.dead.append(dead_letter(message_id, message, reason))

    def dead_letters(self, *, limit: int) -> list[Message]:
        return self.dead[::-1][:limit]

    def dead_count(self) -> int:
        return len(self.dead)


class RedisDetectionStream:
    def __init__(self, url: str, *, stream: str = STREAM, group: str = GROUP, claim_idle_ms: int = 30_000) -> None:
        self.client = redis.Redis.from_url(url)
        self.stream, self.group, self.claim_idle_ms = stream, group, claim_idle_ms
        self.dead_stream = f"{stream}:dead"
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self.ensure_group()

    def ensure_group(self) -> None:
        """The stream and its consumer group exist (again, after a Redis that keeps nothing restarted)."""
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _regrouping(self, call):
        """Run `call`; if Redis lost the stream or its group (restarted empty), make them again and retry once."""
        try:
            return call()
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc) and "no such key" not in str(exc):
                raise
            self.ensure_group()
            return call()

    def add(self, message: Message) -> str:
        return self.client.xadd(self.stream, {"json": json.dumps(message, ensure_ascii=False)}).decode()

    def read(self, *, count: int, block_ms: int) -> list[tuple[str, Message]]:
        return self._regrouping(lambda: self._read(count=count, block_ms=block_ms))

    def _read(self, *, count: int, block_ms: int) -> list[tuple[str, Message]]:
        # Reports a dead consumer read but never acknowledged come first.
        _, claimed, _ = self.client.xautoclaim(self.stream, self.group, self.consumer, self.claim_idle_ms,
                                               start_id="0-0", count=count)
        entries = [entry for entry in claimed if entry[1]]
        if not entries:
            answer = self.client.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms)
            entries = answer[0][1] if answer else []
        messages = []
        for entry_id, fields in entries:
            try:
                messages.append((entry_id.decode(), json.loads(fields[b"json"])))
            except (KeyError, UnicodeDecodeError, ValueError) as error:  # no handler could ever read it
                raw = {key.decode(errors="replace"): value.decode(errors="replace") for key, value in fields.items()}
                self.park(entry_id.decode(), raw, f"not a JSON report in field 'json': {error!r}")
        return messages

    def ack(self, message_id: str) -> None:
        self.client.xack(self.stream, self.group, message_id)

    def deliveries(self, message_id: str) -> int:
        """How often the group has handed this report out (1 on its first reading)."""
        entries = self.client.xpending_range(self.stream, self.group, min=message_id, max=message_id, count=1)
        return int(entries[0]["times_delivered"]) if entries else 1

    def park(self, message_id: str, message: Any, reason: str) -> None:
        """Copy the report with its reason to the dead-letter stream, then acknowledge it: it is not read again."""
        parked = dead_letter(message_id, message, reason)
        self.client.xadd(self.dead_stream, {"json": json.dumps(parked, ensure_ascii=False)})
        self.ack(message_id)

    def dead_letters(self, *, limit: int) -> list[Message]:
        return [json.loads(fields[b"json"]) for _, fields in self.client.xrevrange(self.dead_stream, count=limit)]

    def dead_count(self) -> int:
        return int(self.client.xlen(self.dead_stream))

    def backlog(self) -> dict[str, int]:
        """Reports not yet read by the group (its lag) and read but not acknowledged (pending)."""
        groups = self._regrouping(lambda: self.client.xinfo_groups(self.stream))
        group = next(g for g in groups if g["name"].decode() == self.group)
        return {"waiting": int(group.get("lag") or 0), "pending": int(group["pending"])}

    def close(self) -> None:
        self.client.close()


def make_detection_queue(redis_url: str | None, stream: str = STREAM) -> DetectionQueue:
    return RedisDetectionStream(redis_url, stream=stream) if redis_url else InProcessDetectionQueue()


HEALTH_KEY = "gridpatrol:source-health"


class HealthBoard(Protocol):
    def put(self, source_id: str, health: Message) -> None: ...
    def all(self) -> dict[str, Message]: ...


class InProcessHealthBoard:
    """Workers running inside the web process post their sources' health here."""

    def __init__(self) -> None:
        self.entries: dict[str, Message] = {}

    def put(self, source_id: str, health: Message) -> None:
        self.entries[source_id] = health

    def all(self) -> dict[str, Message]:
        return dict(self.entries)


class RedisHealthBoard:
    """Workers in other processes post to a Redis hash that every web process reads."""

    def __init__(self, url: str, key: str = HEALTH_KEY) -> None:
        self.client = redis.Redis.from_url(url)
        self.key = key

    def put(self, source_id: str, health: Message) -> None:
        self.client.hset(self.key, source_id, json.dumps(health))

    def all(self) -> dict[str, Message]:
        return {k.decode(): json.loads(v) for k, v in self.client.hgetall(self.key).items()}


def make_health_board(redis_url: str | None) -> HealthBoard:
    return RedisHealthBoard(redis_url) if redis_url else InProcessHealthBoard()
