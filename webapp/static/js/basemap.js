/* The offline base map: vector tiles from the platform's own PMTiles file (grid/basemap.py's layers), drawn on
   canvas by protomaps-leaflet with the browser's own fonts, so Chinese labels need no glyph files. */
(function () {
  "use strict";
  var GP = window.GP, P = window.protomapsL;
  var FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
  var COLOURS = {land: "#f4f1ea", water: "#a8cde6", green: "#d5e8c4", residential: "#ece8e1", other: "#e9e3ef",
                 building: "#ddd6cc", highway: "#f3b661", major: "#fbe2a2", minor: "#ffffff", path: "#c9c2b8",
                 casing: "#c8bfb1", rail: "#9a9a9a", label: "#3c3c3c", halo: "#ffffff"};

  /* A width that grows with the zoom between two (zoom, pixels) stops. */
  function widen(low, high) {
    return function (zoom) {
      var t = Math.max(0, Math.min(1, (zoom - low[0]) / (high[0] - low[0])));
      return low[1] + t * (high[1] - low[1]);
    };
  }
  function kind(name) { return function (zoom, feature) { return feature.props.kind === name; }; }
  function area(zoom, feature) { return feature.geomType === P.GeomType.Polygon; }
  function line(zoom, feature) { return feature.geomType === P.GeomType.Line; }

  function road(name, width, colour) {
    return [{dataLayer: "roads", filter: kind(name), symbolizer: new P.LineSymbolizer({
              color: COLOURS.casing, width: function (zoom) { return width(zoom) + 1.5; }, lineCap: "round"})},
            {dataLayer: "roads", filter: kind(name), symbolizer: new P.LineSymbolizer({
              color: colour, width: width, lineCap: "round"})}];
  }

  var PAINT = [
    {dataLayer: "landuse", filter: kind("residential"), symbolizer: new P.PolygonSymbolizer({fill: COLOURS.residential})},
    {dataLayer: "landuse", filter: kind("other"), symbolizer: new P.PolygonSymbolizer({fill: COLOURS.other})},
    {dataLayer: "landuse", filter: kind("green"), symbolizer: new P.PolygonSymbolizer({fill: COLOURS.green})},
    {dataLayer: "water", filter: area, symbolizer: new P.PolygonSymbolizer({fill: COLOURS.water})},
    {dataLayer: "water", filter: line, symbolizer: new P.LineSymbolizer({color: COLOURS.water, width: widen([10, 1], [17, 6])})},
    {dataLayer: "buildings", symbolizer: new P.PolygonSymbolizer({fill: COLOURS.building, stroke: COLOURS.casing, width: 0.5})},
    {dataLayer: "roads", filter: kind("path"), symbolizer: new P.LineSymbolizer({color: COLOURS.path, width: 1, dash: [3, 2]})},
    {dataLayer: "roads", filter: kind("rail"), symbolizer: new P.LineSymbolizer({color: COLOURS.rail, width: 2, dash: [6, 3]})}
  ].concat(road("minor", widen([12, 1], [18, 10]), COLOURS.minor),
           road("major", widen([10, 1.5], [18, 14]), COLOURS.major),
           road("highway", widen([10, 2], [18, 16]), COLOURS.highway));

  var LABELS = [
    {dataLayer: "places", filter: kind("place"), symbolizer: new P.CenteredTextSymbolizer({
      labelProps: ["name"], fill: COLOURS.label, stroke: COLOURS.halo, width: 3, font: "600 15px " + FONT})},
    {dataLayer: "roads", minzoom: 13, symbolizer: new P.LineLabelSymbolizer({
      labelProps: ["name"], fill: COLOURS.label, stroke: COLOURS.halo, width: 3, font: "13px " + FONT})},
    {dataLayer: "water", minzoom: 13, symbolizer: new P.CenteredTextSymbolizer({
      labelProps: ["name"], fill: "#2f6a94", stroke: COLOURS.halo, width: 2, font: "italic 12px " + FONT})},
    {dataLayer: "landuse", minzoom: 15, symbolizer: new P.CenteredTextSymbolizer({
      labelProps: ["name"], fill: "#4b6b3a", stroke: COLOURS.halo, width: 2, font: "12px " + FONT})},
    {dataLayer: "places", filter: kind("poi"), symbolizer: new P.CenteredTextSymbolizer({
      labelProps: ["name"], fill: "#6b5b4b", stroke: COLOURS.halo, width: 2, font: "12px " + FONT})}
  ];

  /* The base map layer for `map`; the map's container gets data-basemap="drawn" (and the first paint's
     milliseconds since navigation in data-basemap-ms) once the first view's tiles are drawn. */
  GP.basemapLayer = function (map, basemap) {
    var layer = P.leafletLayer({url: basemap.url, paintRules: PAINT, labelRules: LABELS,
                                maxDataZoom: basemap.max_data_zoom, backgroundColor: COLOURS.land,
                                attribution: basemap.attribution});
    var container = map.getContainer();
    layer.once("load", function () {
      container.dataset.basemapMs = String(Math.round(performance.now()));
      container.dataset.basemap = "drawn";
    });
    return layer.addTo(map);
  };
})();
