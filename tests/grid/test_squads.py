import pytest
import shapely
from geopandas import GeoDataFrame

from grid.cells import build_cells
from grid.squads import assign_by_blocks, assign_by_cells, assign_by_district, squad_areas
from tests.grid.conftest import utm_rectangles


@pytest.fixture(scope="module")
def three_districts() -> GeoDataFrame:
    boundary = utm_rectangles([("411502", 0, 0, 500, 500), ("411503", 500, 0, 1000, 500),
                               ("411521", 1000, 0, 1500, 500)])
    boundary["district_name"] = ["浉河区", "平桥区", "罗山县"]
    return build_cells(boundary, cell_size_m=250, district_field="adcode")


def test_assign_by_district_with_listed_and_generated_squads(three_districts: GeoDataFrame) -> None:
    cells, squads = assign_by_district(three_districts, [
        {"code": "SH", "name": "浉河中队", "districts": ["411502"]},
        {"code": "PQ", "name": "平桥中队", "districts": [411503, "419999"]},  # serves two districts: no district_code
    ])
    assert squads == [
        {"code": "SH", "name": "浉河中队", "district_code": "411502"},
        {"code": "PQ", "name": "平桥中队", "district_code": None},
        {"code": "411521", "name": "罗山县执法中队", "district_code": "411521"},
    ]
    assert cells.groupby("district_code")["squad_code"].unique().map(list).to_dict() == {
        "411502": ["SH"], "411503": ["PQ"], "411521": ["411521"]}
    assert three_districts["squad_code"].isna().all()  # the input is left alone


def test_generated_squads_are_named_by_code_without_district_names(three_districts: GeoDataFrame) -> None:
    _, squads = assign_by_district(three_districts.drop(columns="district_name"), [])
    assert [s["name"] for s in squads] == ["411502执法中队", "411503执法中队", "411521执法中队"]


def test_a_district_cannot_have_two_squads(three_districts: GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="district 411502 is listed for squads A and B"):
        assign_by_district(three_districts, [{"code": "A", "name": "a", "districts": ["411502"]},
                                             {"code": "B", "name": "b", "districts": ["411502"]}])


def test_assign_by_cells(three_districts: GeoDataFrame) -> None:
    mapping = {code: "EAST" if code.startswith("411521") else "WEST" for code in three_districts["code"]}
    cells, squads = assign_by_cells(three_districts, mapping, names={"WEST": "西片中队"})
    assert squads == [{"code": "EAST", "name": "EAST", "district_code": "411521"},
                      {"code": "WEST", "name": "西片中队", "district_code": None}]
    assert cells["squad_code"].tolist() == [mapping[c] for c in cells["code"]]


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: {**m, "411502999999": "A"}, "names cells the grid does not have: 411502999999"),
    (lambda m: {k: v for k, v in m.items() if k != "411503000002"}, "1 cells have no squad, e.g. 411503000002"),
])
def test_assign_by_cells_refuses_incomplete_or_unknown_mappings(three_districts: GeoDataFrame, change, message) -> None:
    mapping = dict.fromkeys(three_districts["code"], "A")
    with pytest.raises(ValueError, match=message):
        assign_by_cells(three_districts, change(mapping))


def test_assign_by_blocks_numbers_from_the_north_west(three_districts: GeoDataFrame) -> None:
    # 6 × 2 cells of 250 m; 3 × 1 blocks: 2 × 2 cells each, one per district here.
    cells, squads = assign_by_blocks(three_districts, 1, 3, "B", names=["西", "中", "东"])
    assert squads == [{"code": "B01", "name": "西", "district_code": "411502"},
                      {"code": "B02", "name": "中", "district_code": "411503"},
                      {"code": "B03", "name": "东", "district_code": "411521"}]
    assert cells.groupby("squad_code")["district_code"].unique().map(list).to_dict() == {
        "B01": ["411502"], "B02": ["411503"], "B03": ["411521"]}
    north = assign_by_blocks(three_districts, 2, 1, "R")[0]
    assert north.set_index("code")["squad_code"].to_dict()["411502000001"] == "R01"  # first row is the northern one
    assert north["squad_code"].value_counts().to_dict() == {"R01": 6, "R02": 6}


@pytest.mark.parametrize(("rows", "cols", "names", "message"), [
    (0, 2, None, "at least 1"),
    (2, 2, ["a", "b"], "4 blocks need 4 names, not 2"),
])
def test_assign_by_blocks_refuses_bad_layouts(three_districts, rows, cols, names, message) -> None:
    with pytest.raises(ValueError, match=message):
        assign_by_blocks(three_districts, rows, cols, "B", names=names)


def test_squad_areas_union_their_cells(three_districts: GeoDataFrame) -> None:
    cells, _ = assign_by_blocks(three_districts, 1, 3, "B")
    areas = squad_areas(cells)
    assert areas["squad_code"].tolist() == ["B01", "B02", "B03"]
    assert areas.crs.equals(cells.crs)
    assert shapely.get_type_id(areas.geometry.to_numpy()).tolist() == [3, 3, 3]  # one polygon each, no seams
    city = shapely.union_all(cells.geometry.to_numpy())
    assert shapely.symmetric_difference(shapely.union_all(areas.geometry.to_numpy()), city).area < city.area * 1e-9
