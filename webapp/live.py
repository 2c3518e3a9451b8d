"""Live push over Socket.IO. Rooms are chosen by the server from the signed-in user, never by the client."""
from flask_socketio import join_room

from dispatch.account.policy import Principal, visible_squad
from dispatch.bus import Message
from dispatch.case.events import event_message
from dispatch.case.service import timeline_since
from webapp.auth import resolve_principal
from webapp.extensions import socketio
from webapp.platform import db_session

DISPATCH_ROOM = "dispatch"
CATCH_UP_LIMIT = 500


def squad_room(squad_code: str) -> str:
    return f"squad:{squad_code}"


def room_of(principal: Principal) -> str:
    squad = visible_squad(principal)
    return DISPATCH_ROOM if squad is None else squad_room(squad)


def push_case_event(message: Message) -> None:
    """Send a committed case event to the dispatch room and to the owning squad's room.

    Every web process receives every bus message (Redis pub/sub when several run), so each sends
    to its own clients only (ignore_queue) and no client gets an event twice.
    """
    for room in (DISPATCH_ROOM, squad_room(message["case"]["squad_code"])):
        socketio.emit("case_event", message, to=room, ignore_queue=True)


@socketio.on("connect")
def connect(_auth=None) -> bool:
    principal = resolve_principal()
    if principal is None or principal.role is None:
        return False  # refused: only signed-in people watch dashboards
    join_room(room_of(principal))
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
    events = timeline_since(session=db_session(), after_id=after_id, squad_code=visible_squad(principal),
                            limit=CATCH_UP_LIMIT)
    return {"events": [event_message(event) for event in events], "complete": len(events) < CATCH_UP_LIMIT}
