"""The demo city: a generated grid with four squads, demo accounts and tokens with random secrets."""
import json
import secrets
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from dispatch.account.enums import Role
from dispatch.account.service import create_user, issue_token
from config.hotline import AddressConfig
from dispatch.address.demo import demo_addresses
from dispatch.address.service import store_addresses
from dispatch.squad.service import store_grid
from grid.crs import CoordSys
from dispatch.ticket.enums import TicketSource
from grid.demo import demo_city

CREDENTIALS_FILE = "demo-credentials.json"


def create_demo_accounts(session: Session, squad_codes: list[str]) -> dict:
    """An admin, a dispatcher, a leader and three officers per squad (a roster to stagger), and two machine tokens."""
    accounts = [("admin", Role.ADMIN, None), ("dispatcher", Role.DISPATCHER, None)]
    for code in squad_codes:
        accounts += [(f"leader_{code.lower()}", Role.SQUAD_LEADER, code)]
        accounts += [(f"officer_{code.lower()}{suffix}", Role.OFFICER, code) for suffix in ("", "b", "c")]
    users = {}
    for username, role, squad_code in accounts:
        password = secrets.token_urlsafe(9)
        create_user(session=session, username=username, password=password, role=role, squad_code=squad_code)
        users[username] = {"password": password, "role": role.value, "squad": squad_code}
    tokens = {
        "hotline-gateway": issue_token(session=session, name="hotline-gateway",
                                       sources=[TicketSource.HOTLINE_12345, TicketSource.HOTLINE_12319]),
        "vision-worker": issue_token(session=session, name="vision-worker",
                                     sources=[TicketSource.CAMERA, TicketSource.DRONE]),
    }
    return {"users": users, "tokens": tokens}


def seed_demo(
    sessions: sessionmaker[Session], instance_dir: Path, *, with_accounts: bool, address_config: AddressConfig
) -> None:
    """Write the demo city, its standard addresses (and accounts; their secrets go to a file only the owner reads)."""
    cells, squads = demo_city()
    with sessions() as session:
        store_grid(session=session, cells=cells, squads=squads)
        store_addresses(session=session, rows=demo_addresses(), crs=CoordSys.WGS84, config=address_config)
        credentials = create_demo_accounts(session, [squad["code"] for squad in squads]) if with_accounts else None
        session.commit()
    if credentials is None:
        return
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / CREDENTIALS_FILE
    path.write_text(json.dumps(credentials, ensure_ascii=False, indent=2), encoding="utf-8")
    path.chmod(0o600)


def read_demo_credentials(instance_dir: Path) -> dict | None:
    path = instance_dir / CREDENTIALS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
