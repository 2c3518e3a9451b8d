"""Camera footage to a case: the street clip's parked car becomes one illegal-parking case in the
camera's cell, with two evidence photos, pushed to the owning squad's room."""
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from sqlalchemy import select

from config.sources import SourceConfig, load_sources
from dispatch.case.models import Case, Evidence
from tests.factories import site_photo_form
from tests.requirements import shared_path
from grid.geodesy import offset_m
from vision.geo import Intrinsics
from vision.motion import EgoMotion
from vision.worker import VisionWorker, ground_mapper
from webapp.extensions import socketio

EXAMPLE = "config/examples/demo_cctv_sources.yaml"


@pytest.fixture
def cctv_source() -> SourceConfig:
    source = load_sources(Path(EXAMPLE)).sources[0]
    clip = shared_path("data/media/cctv_street_no_parking_zone.mp4")
    return source.model_copy(update={"uri": str(clip), "model": None})


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_street_clip_becomes_one_case_with_two_photos(platform, app, login, cctv_source, vision_config, detector,
                                                      tmp_path) -> None:
    camera_cell = platform.ctx.grid.locate_one(*ground_mapper(cctv_source)((307.0, 236.0)))  # the zone's kerb
    squad = platform.ctx.grid.cells.set_index("code").loc[camera_cell, "squad_code"]
    leader = socketio.test_client(app, flask_test_client=login("squad_leader", squad))
    other = socketio.test_client(app, flask_test_client=login("squad_leader", "SQ01" if squad != "SQ01" else "SQ02"))

    worker = VisionWorker(sources=[cctv_source], vision=vision_config, send=platform.detections.add,
                          evidence_dir=tmp_path / "vision", detectors={vision_config.detector.model: detector})
    worker.run(threading.Event(), post_health=platform.source_health.put)
    consumer = platform.detection_consumer()
    while consumer.poll():
        pass

    assert consumer.refused == []
    with platform.sessions() as session:
        cases = session.scalars(select(Case)).all()
        assert len(cases) == 1
        case = cases[0]
        assert (case.category, case.cell_code, case.squad_code) == ("0505", camera_cell, squad)
        assert case.tickets[0].source == "camera" and case.tickets[0].external_id.startswith("cctv_street:")
        evidence = session.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()
        photos = [e for e in evidence if e.box_xyxy is None]
        assert len(photos) == 2
        assert all(platform.evidence.path_of(item.uri) is not None for item in evidence)
        # the first photo's frame unannotated, with the parked car's box on it: a training sample once reviewed
        (frame,) = [e for e in evidence if e.box_xyxy is not None]
        x1, y1, x2, y2 = frame.box_xyxy
        assert case.review_status == "pending" and 0 <= x1 < x2 and 0 <= y1 < y2 and frame.caption.startswith("frame ")
    pushed = [p["args"][0] for p in leader.get_received() if p["name"] == "case_event"]
    assert [(m["kind"], m["case"]["id"]) for m in pushed] == [("created", case.id)]
    assert [p for p in other.get_received() if p["name"] == "case_event"] == []
    health = {source["id"]: source for source in login("dispatcher").get("/api/sources").json}
    assert health["cctv_street"]["frames_read"] >= 40 and health["cctv_street"]["ended"] is True


def hovering_srt(lon: float, lat: float, *, seconds: int, height_m: float, pitch: float, yaw: float) -> str:
    """A DJI P4 RTK-style flight log of a drone hovering at one point (the footage has no log of its own)."""
    records = []
    for i in range(seconds):
        records.append(
            f"{i + 1}\n00:00:{i:02d},000 --> 00:00:{i + 1:02d},000\n"
            f"F/5.6, SS 400, ISO 100, EV 0, GPS ({lon:.6f}, {lat:.6f}, 15), HOME ({lon:.6f}, {lat:.6f}, 0.00m), "
            f"D 0.00m, H {height_m:.2f}m, H.S 0.00m/s, V.S 0.00m/s, F.PRY (0.0°, 0.0°, {yaw:.1f}°), "
            f"G.PRY ({pitch:.1f}°, 0.0°, {yaw:.1f}°)\n"
        )
    return "\n".join(records)


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_drone_clip_events_are_located_through_its_telemetry(platform, vision_config, detector, tmp_path) -> None:
    """A hovering drone looking north at 40° down from 40 m: each parked car's event lands on the ground in
    front of it, inside the demo city, and becomes a case in the cell there."""
    drone_lon, drone_lat = 114.0624462, 32.1215883
    log = tmp_path / "hover.SRT"
    log.write_text(hovering_srt(drone_lon, drone_lat, seconds=21, height_m=40, pitch=-40, yaw=0), encoding="utf-8")
    source = SourceConfig(id="drone_oblique_lot", kind="drone", media="file",
                          uri=str(shared_path("data/media/drone_oblique_parking_lot.mp4")),
                          zones="config/zones/drone_oblique_parking_lot.yaml",
                          telemetry={"srt": str(log), "focal_35mm": 24})
    reports: list[dict] = []
    worker = VisionWorker(sources=[source], vision=vision_config, send=reports.append,
                          evidence_dir=tmp_path / "vision", detectors={vision_config.detector.model: detector})
    worker.run(threading.Event())
    starts = [r for r in reports if r["phase"] == "start"]
    assert len(starts) >= 10  # the parked cars in the zone (the detection tests count them one by one)
    for report in starts:
        lon, lat = report["location"]["lon"], report["location"]["lat"]
        north_m, east_m = (lat - drone_lat) * 111_000, (lon - drone_lon) * 94_200
        assert 20 < north_m < 200 and abs(east_m) < 120, (north_m, east_m)  # ahead of the drone, in its view
        assert report["source"] == "drone"
    for report in reports:
        platform.detections.add(report)
    consumer = platform.detection_consumer()
    while consumer.poll():
        pass
    with platform.sessions() as session:
        cases = session.scalars(select(Case)).all()
    assert consumer.refused == []
    assert 1 <= len(cases) <= len(starts)  # neighbouring cars within the merge radius share a case
    assert {case.cell_code for case in cases} <= set(platform.ctx.grid.cells["code"])


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_camera_rechecks_a_handled_case(platform, client, login, cctv_source, vision_config, detector,
                                        tmp_path) -> None:
    """Handled while the car still stands there: returned for rework. Handled after it left: verified."""
    worker = VisionWorker(sources=[cctv_source], vision=vision_config, send=platform.detections.add,
                          evidence_dir=tmp_path / "vision", detectors={vision_config.detector.model: detector})
    platform.bus.subscribe(worker.on_case_event)
    consumer = platform.detection_consumer()
    case_id = None
    while case_id is None and worker.step():
        if consumer.poll():
            case_id = client.get("/api/cases").json["items"][0]["id"]
    assert case_id is not None, "the parked car never became a case"

    def act(who, action: str, **body) -> None:
        response = who.post(f"/api/cases/{case_id}/transitions", json={"action": action, **body})
        assert response.status_code == 200, response.json

    def handle() -> None:
        case = client.get(f"/api/cases/{case_id}").json
        if case["status"] == "reported":  # a camera's case: the dispatcher confirms it, then dispatches
            confirmed = client.post(f"/api/cases/{case_id}/review", json={"verdict": "confirm"})
            assert confirmed.status_code == 200, confirmed.json
            act(client, "dispatch")
        leader = login("squad_leader", case["squad_code"])
        act(leader, "accept")
        uploaded = leader.post(f"/api/cases/{case_id}/evidence", data=site_photo_form(), content_type="multipart/form-data")
        assert uploaded.status_code == 201, uploaded.json
        act(leader, "handle", result="persuaded")

    handle()
    worker.step()  # the car is still parked: the recheck says so
    consumer.poll()
    case = client.get(f"/api/cases/{case_id}").json
    assert case["status"] == "dispatched" and case["rework_count"] == 1
    assert case["timeline"][-1]["kind"] == "returned" and case["timeline"][-1]["actor"] == "camera:cctv_street"

    while worker.step():  # the car drives off; the clip ends
        pass
    while consumer.poll():
        pass
    handle()
    worker.step()
    consumer.poll()
    case = client.get(f"/api/cases/{case_id}").json
    assert case["status"] == "verified" and case["timeline"][-1]["actor"] == "camera:cctv_street"


def test_drone_zone_drawn_on_the_map(vision_config, detector, tmp_path) -> None:
    """A no-parking zone given in lon/lat: cars stationary where the telemetry puts them inside it report;
    the same zone moved 1 km away sees nothing."""
    drone_lon, drone_lat = 114.0624462, 32.1215883
    log = tmp_path / "hover.SRT"
    log.write_text(hovering_srt(drone_lon, drone_lat, seconds=21, height_m=40, pitch=-40, yaw=0), encoding="utf-8")

    def run(zone_lon: float, zone_lat: float) -> list[dict]:
        half_lon, half_lat = 0.0012, 0.0010  # about 110 m × 110 m, in front of the drone
        square = [[zone_lon - half_lon, zone_lat - half_lat], [zone_lon + half_lon, zone_lat - half_lat],
                  [zone_lon + half_lon, zone_lat + half_lat], [zone_lon - half_lon, zone_lat + half_lat]]
        zones = tmp_path / f"zones_{zone_lon}.yaml"
        zones.write_text(yaml.safe_dump({"source_id": "drone_map_zone", "zones": [
            {"id": "lot_on_map", "kind": "no_parking", "frame": "ground", "polygon": square, "dwell_s": 5,
             "stationary_tolerance": 0.5}]}), encoding="utf-8")
        source = SourceConfig(id="drone_map_zone", kind="drone", media="file",
                              uri=str(shared_path("data/media/drone_oblique_parking_lot.mp4")), zones=str(zones),
                              telemetry={"srt": str(log), "focal_35mm": 24})
        reports: list[dict] = []
        VisionWorker(sources=[source], vision=vision_config, send=reports.append, evidence_dir=tmp_path / "ev",
                     detectors={vision_config.detector.model: detector}).run(threading.Event())
        return [r for r in reports if r["phase"] == "start"]

    ahead = run(drone_lon, drone_lat + 0.0008)
    assert len(ahead) >= 5
    assert all(abs(r["location"]["lat"] - (drone_lat + 0.0008)) <= 0.0010 for r in ahead)
    assert run(drone_lon + 0.01, drone_lat) == []


def flight_log_from_stills(stills: list[Path], *, motion_config, lon: float, lat: float, height_m: float,
                           seconds_per_still: float, focal_35mm: float) -> str:
    """A nadir flight log for footage that came without one: the drone's path follows the stills' own motion.

    (The shared stills have no GPS; a real flight writes its DJI SRT beside the video.)
    """
    motion = EgoMotion(motion_config)
    width, height = 960, 540
    metres_per_px = height_m / Intrinsics.from_focal_35mm(focal_35mm, image_size=(width, height)).fx
    records = []
    for index, still in enumerate(stills):
        centre = motion.update(cv2.imread(str(still))) @ np.array([width / 2, height / 2, 1.0])
        east_m, north_m = (centre[0] - width / 2) * metres_per_px, -(centre[1] - height / 2) * metres_per_px
        point_lon, point_lat = offset_m(lon, lat, east_m, north_m)
        start, end = index * seconds_per_still, (index + 1) * seconds_per_still
        records.append(
            f"{index + 1}\n00:00:{int(start):02d},{round(start % 1 * 1000):03d} --> "
            f"00:00:{int(end):02d},{round(end % 1 * 1000):03d}\n"
            f"F/2.8, SS 500, ISO 100, EV 0, GPS ({point_lon:.7f}, {point_lat:.7f}, 18), HOME ({lon:.6f}, {lat:.6f}, "
            f"0.00m), D 0.00m, H {height_m:.2f}m, H.S 0.00m/s, V.S 0.00m/s, F.PRY (0.0°, 0.0°, 0.0°), "
            f"G.PRY (-90.0°, 0.0°, 0.0°)\n"
        )
    return "\n".join(records)


def test_nadir_drone_stills_with_the_aerial_model_give_located_parking_events(vision_config, tmp_path) -> None:
    """The flying drone's nadir stills (COCO sees nothing here): the aerial model, stabilised against the
    drone's own motion, tracks the cars; the white car parked at the kerb beside the planted median
    (its evidence photo, still 00098.jpg, looked at) stays past the dwell time in the kerb-lane zone and is located on the map."""
    folder = shared_path("data/media/drone_nadir_street_cn")
    aerial = str(shared_path("models/aerial_vehicle_yolo11n_openvino_model"))
    start_lon, start_lat = 114.0624462, 32.1185883
    log = tmp_path / "flight.SRT"
    log.write_text(flight_log_from_stills(sorted(folder.glob("*.jpg")), motion_config=vision_config.motion,
                                          lon=start_lon, lat=start_lat, height_m=35, seconds_per_still=0.2,
                                          focal_35mm=24), encoding="utf-8")
    zones = tmp_path / "kerb.yaml"  # the kerb lane, in the first still's pixels (the street drifts right)
    zones.write_text(yaml.safe_dump({"source_id": "nadir_street", "zones": [
        {"id": "kerb_lane", "kind": "no_parking", "polygon": [[330, 600], [630, 600], [1050, -5500], [750, -5500]],
         "dwell_s": 0.8, "stationary_tolerance": 0.3}]}), encoding="utf-8")
    source = SourceConfig(id="nadir_street", kind="drone", media="folder", uri=str(folder), analysis_fps=5,
                          zones=str(zones), model=aerial, stabilize=True, telemetry={"srt": str(log), "focal_35mm": 24})
    reports: list[dict] = []
    worker = VisionWorker(sources=[source], vision=vision_config, send=reports.append, evidence_dir=tmp_path / "ev")
    worker.run(threading.Event())
    report = worker.runs[0].pipeline.report
    assert report.frames_analysed == 60 and report.detections_by_kind["vehicle"] > 100 and report.tracks >= 10
    starts = [r for r in reports if r["phase"] == "start"]
    assert len(starts) >= 1 and all(r["rule"] == "illegal_parking" and r["source"] == "drone" for r in starts)
    for start in starts:
        lon, lat = start["location"]["lon"], start["location"]["lat"]
        assert abs(lon - start_lon) < 0.005 and 0 < lat - start_lat < 0.005  # up the street the drone flew
        assert len(start["photos"]) == 1


def test_openvino_runtime_reports_the_same_violation(cctv_source, vision_config, tmp_path) -> None:
    """detector.runtime: openvino (the fast path) gives the street clip's one parking event, like Ultralytics."""
    fast = vision_config.model_copy(update={"detector": vision_config.detector.model_copy(update={"runtime": "openvino"})})
    reports: list[dict] = []
    worker = VisionWorker(sources=[cctv_source], vision=fast, send=reports.append, evidence_dir=tmp_path / "ev")
    worker.run(threading.Event())
    assert [type(d).__name__ for d in worker.detectors.values()] == ["OpenVinoDetector"]
    starts = [r for r in reports if r["phase"] == "start"]
    assert len(starts) == 1 and starts[0]["rule"] == "illegal_parking" and 9 <= starts[0]["event"]["started_at_s"] + 5 <= 12
