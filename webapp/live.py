"""Live push over Socket.IO. Rooms are chosen by the server from the signed-in user, never by the client."""
import threading
from collections import deque

from flask import current_app
from flask_socketio import join_room
from sqlalchemy.orm import Session, sessionmaker

from dispatch.account.enums import Role
from dispatch.account.policy import Principal, reveals_contact, visible_squad
from dispatch.bus import Message
from dispatch.case.events import event_message, moved_away_message
from dispatch.case.service import moved_away_since, timeline_since
from dispatch.privacy import mask_values
from webapp.auth import resolve_principal
from webapp.extensions import socketio
from webapp.platform import db_session

LIVE_KEY = "gridpatrol_live"
POSITIONS_KEY = "gridpatrol_positions"
DISPATCH_ROOM = "dispatch"
CATCH_UP_LIMIT = 500
REMEMBERED_EVENTS = 10_000
REPLAY_MARGIN = 100  # ids below the newest sent that may still commit later


def squad_room(squad_code: str) -> str:
    return f"squad:{squad_code}"


def positions_room(squad_code: str) -> str:
    """Where a squad's officers' positions go: its leader only (officers and other squads never join it)."""
    return f"positions:{squad_code}"


class PositionPush:
    """Officers' positions and patrol changes to the centre and each officer's own squad leader, in every process
    (through Socket.IO's message queue when several run), as one `officer_positions` list per room every `batch_s`:
    2,000 phones then cost a few messages a second, not hundreds. Messages keep their order within a process; those
    still waiting when the process stops are not sent (they are stored: a page reload shows them)."""

    def __init__(self, batch_s: float) -> None:
        self.batch_s = batch_s
        self.pending: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def push(self, message: dict) -> None:
        with self.lock:
            for room in (DISPATCH_ROOM, positions_room(message["squad_code"])):
                self.pending.setdefault(room, []).append(message)
            if self.batch_s > 0 and self.timer is None:
                self.timer = threading.Timer(self.batch_s, self.flush)
                self.timer.daemon = True
                self.timer.start()
        if self.batch_s == 0:
            self.flush()

    def flush(self) -> None:
        """Send what waits now, one message per room."""
        with self.lock:
            pending, self.pending, timer, self.timer = self.pending, {}, self.timer, None
        if timer is not None:
            timer.cancel()  # flushed before the timer fired (a test): it would find nothing left to send
        for room, messages in pending.items():
            socketio.emit("officer_positions", messages, to=room)


def push_position(message: dict) -> None:
    """An officer's position or patrol change to the rooms that may see it (PositionPush, this app's)."""
    current_app.extensions[POSITIONS_KEY].push(message)


def room_of(principal: Principal) -> str:
    squad = visible_squad(principal)
    return DISPATCH_ROOM if squad is None else squad_room(squad)


class LivePush:
    """Sends committed case events to the dispatch room and the owning squad's room, each event once.

    Every web process receives every bus message (Redis pub/sub when several run), so each sends
    to its own clients only (ignore_queue). Messages published while this process was cut off
    from Redis never arrive: when the bus reconnects, `replay` sends them from the timeline.
    """

    def __init__(self, sessions: sessionmaker[Session], *, remember: int = REMEMBERED_EVENTS) -> None:
        self.sessions = sessions
        self.sent_order: deque[int] = deque(maxlen=remember)
        self.sent: set[int] = set()
        self.lock = threading.Lock()

    def push(self, message: Message) -> None:
        with self.lock:
            if message["id"] in self.sent:
                return
            if len(self.sent_order) == self.sent_order.maxlen:
                self.sent.discard(self.sent_order[0])
            self.sent_order.append(message["id"])
            self.sent.add(message["id"])
        socketio.emit("case_event", message, to=DISPATCH_ROOM, ignore_queue=True)
        # Squads may not see callers' contacts: what the text holds of them is masked in their copy.
        socketio.emit("case_event", mask_values(message), to=squad_room(message["case"]["squad_code"]),
                      ignore_queue=True)
        left = (message.get("data") or {}).get("from_squad")
        if left and left != message["case"]["squad_code"]:  # dispatched to another squad: off the first one's map
            socketio.emit("case_event", moved_away_message(message), to=squad_room(left), ignore_queue=True)

    def replay(self) -> None:
        """Send what the timeline holds beyond the events sent before the gap (commits land slightly out of order)."""
        with self.lock:
            after_id = max(0, max(self.sent_order, default=0) - REPLAY_MARGIN)
        with self.sessions() as session:
            for event in timeline_since(session=session, after_id=after_id, squad_code=None, limit=CATCH_UP_LIMIT):
                self.push(event_message(event))


@socketio.on("connect")
def connect(_auth=None) -> bool:
    principal = resolve_principal()
    if principal is None or principal.role is None:
        return False  # refused: only signed-in people watch dashboards
    join_room(room_of(principal))
    if principal.role is Role.SQUAD_LEADER:
        join_room(positions_room(principal.squad_code))
    return True


@socketio.on("catch_up")
def catch_up(data: dict | None) -> dict:
    """Events after the client's last seen id that its room would have received: a dropped link hides nothing."""
    principal = resolve_principal()
    if principal is None or principal.role is None:
        return {"error": "not signed in"}
    after_id = (data or {}).get("after_id", 0)
    if isinstance(after_id, bool) or not isinstance(after_id, int) or after_id < 0:
        return {"error": "after_id must be a non-negative integer"}
    squad = visible_squad(principal)
    events = timeline_since(session=db_session(), after_id=after_id, squad_code=squad, limit=CATCH_UP_LIMIT)
    messages = [event_message(event) for event in events]
    if not reveals_contact(principal):
        messages = [mask_values(message) for message in messages]
    if squad is not None:  # and the cases dispatched away from this squad meanwhile, as bare removals
        messages += [moved_away_message(event_message(event))
                     for event in moved_away_since(session=db_session(), after_id=after_id, squad_code=squad,
                                                   limit=CATCH_UP_LIMIT)]
        messages = sorted(messages, key=lambda message: message["id"])[:CATCH_UP_LIMIT]
    return {"events": messages, "complete": len(messages) < CATCH_UP_LIMIT}
