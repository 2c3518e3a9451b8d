"""Phone photos: a real-sized JPEG passes the upload limit; a refusal says which limit, in a key the pages translate."""
import datetime as dt

import numpy as np
import cv2

from tests.factories import site_photo_form
from tests.webapp.test_api_cases import new_case


def phone_jpeg(megabytes: float) -> bytes:
    """A 4032x3024 JPEG of noise, about `megabytes` large (noise does not compress)."""
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (3024, 4032, 3), dtype=np.uint8)
    for quality in (95, 85, 70, 50, 30):
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if data.nbytes <= megabytes * 1_048_576:
            return data.tobytes()
    return data.tobytes()


BOUNDARY = "gp-test-boundary"


def multipart(photo: bytes, name: str) -> bytes:
    """A prepared multipart body: the test client would spool a dict of files to a temporary file it never closes."""
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{name}\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + photo + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_five_megabyte_phone_photo_is_accepted(client) -> None:
    case = new_case(client)
    photo = phone_jpeg(6)
    assert len(photo) > 4 * 1_048_576  # well over the 1 MB JSON limit
    response = client.post(f"/api/cases/{case['id']}/evidence", data=multipart(photo, "IMG_0001.jpg"),
                           content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 201, response.json


def test_a_photo_over_the_upload_limit_names_it(client, app) -> None:
    case = new_case(client)
    limit = app.extensions["gridpatrol"].settings.app.max_upload_bytes
    response = client.post(f"/api/cases/{case['id']}/evidence", data=multipart(b"\xff\xd8" + b"0" * (limit + 10), "big.jpg"),
                           content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 413
    assert response.json["key"] == "too_large" and response.json["params"]["limit_mb"] == round(limit / 1_048_576, 1)


def test_a_json_body_keeps_the_small_limit(client, app) -> None:
    limit = app.extensions["gridpatrol"].settings.app.max_body_bytes
    response = client.post("/api/tickets", data=b"{" + b" " * (limit + 10) + b"}", content_type="application/json")
    assert response.status_code == 413 and response.json["params"]["limit_mb"] == round(limit / 1_048_576, 1)


def test_refusals_carry_keys_the_pages_translate(client, app) -> None:
    case = new_case(client)
    refused = client.post(f"/api/cases/{case['id']}/transitions", json={"action": "close"})
    assert refused.status_code == 409
    assert refused.json["key"] == "transition_refused"
    assert refused.json["params"] == {"action": "close", "state": "reported"}
    no_reason = client.post(f"/api/cases/{case['id']}/transitions", json={"action": "reject"})
    assert no_reason.status_code == 422 and no_reason.json["key"] == "reason_required"
    from webapp.i18n import MESSAGES
    for language in MESSAGES.values():
        for key in ("transition_refused", "reason_required", "too_large", "not_found", "http_403", "http_503",
                    "reopen_needs_dissatisfied", "photo_not_image", "network"):
            assert f"error.{key}" in language, key


def to_accepted(client, login) -> tuple[dict, object]:
    case = new_case(client)
    for action in ("register", "dispatch"):
        assert client.post(f"/api/cases/{case['id']}/transitions", json={"action": action}).status_code == 200
    leader = login("squad_leader", case["squad_code"])
    assert leader.post(f"/api/cases/{case['id']}/transitions", json={"action": "accept"}).status_code == 200
    return case, leader


def test_a_handling_report_needs_a_photo_taken_on_site(client, login) -> None:
    case, leader = to_accepted(client, login)
    handle = {"action": "handle", "result": "persuaded"}
    refused = leader.post(f"/api/cases/{case['id']}/transitions", json=handle)
    assert refused.status_code == 422 and refused.json["key"] == "site_photo_required"
    assert "photo" in refused.json["errors"]["json"]
    uploaded = leader.post(f"/api/cases/{case['id']}/evidence", content_type="multipart/form-data", data={
        **site_photo_form(), "taken_at": "2026-12-02T09:15:00+08:00", "lon": "114.07", "lat": "32.12",
        "original_bytes": "4812345", "original_size": "4032x3024"})
    assert uploaded.status_code == 201, uploaded.json
    taken = dt.datetime.fromisoformat(uploaded.json["taken_at"])  # the photo's own time, not the upload's
    assert taken == dt.datetime(2026, 12, 2, 1, 15, tzinfo=dt.timezone.utc)
    assert uploaded.json["exif"] == {"lon": 114.07, "lat": 32.12, "original_bytes": 4812345,
                                     "original_size": "4032x3024", "taken_at": "2026-12-02T09:15:00+08:00"}
    assert leader.post(f"/api/cases/{case['id']}/transitions", json=handle).status_code == 200


def test_rework_needs_a_new_photo_and_not_found_needs_none(client, login) -> None:
    case, leader = to_accepted(client, login)
    assert leader.post(f"/api/cases/{case['id']}/evidence", content_type="multipart/form-data",
                       data=site_photo_form()).status_code == 201
    moves = [(leader, {"action": "handle", "result": "persuaded"}), (client, {"action": "return", "reason": "未整改"}),
             (leader, {"action": "accept"})]
    for who, body in moves:
        assert who.post(f"/api/cases/{case['id']}/transitions", json=body).status_code == 200, body
    again = leader.post(f"/api/cases/{case['id']}/transitions", json={"action": "handle", "result": "persuaded"})
    assert again.status_code == 422 and again.json["key"] == "site_photo_required"  # the old photo predates rework
    nothing = leader.post(f"/api/cases/{case['id']}/transitions", json={"action": "handle", "result": "not_found"})
    assert nothing.status_code == 200
