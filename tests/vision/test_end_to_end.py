"""Camera footage to a case: the street clip's parked car becomes one illegal-parking case in the
camera's cell, with two evidence photos, pushed to the owning squad's room."""
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from config.sources import SourceConfig, load_sources
from dispatch.case.models import Case, Evidence
from tests.requirements import shared_path
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
        photos = session.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()
        assert len(photos) == 2
        assert all(platform.evidence.path_of(photo.uri) is not None for photo in photos)
    pushed = [p["args"][0] for p in leader.get_received() if p["name"] == "case_event"]
    assert [(m["kind"], m["case"]["id"]) for m in pushed] == [("created", case.id)]
    assert [p for p in other.get_received() if p["name"] == "case_event"] == []
    health = {source["id"]: source for source in login("dispatcher").get("/api/sources").json}
    assert health["cctv_street"]["frames_read"] >= 40 and health["cctv_street"]["ended"] is True
