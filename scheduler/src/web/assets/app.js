// hcoop-monitor web UI enhancements, served from /static/app.js. Every page works
// without it: it only adds hover values to the graphs and reloads the overview.
(function () {
  "use strict";

  function fmtTime(t) {
    var d = new Date(t * 1000);
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function fmtValue(v, unit) {
    var a = Math.abs(v);
    var s = a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
    return s + (unit ? " " + unit : "");
  }

  // Graph hover: the svg carries its plot area and its time and value ranges as data
  // attributes; show the time and value under the pointer.
  function enhanceGraph(svg) {
    var d = svg.dataset;
    var x0 = +d.x0, x1 = +d.x1, y0 = +d.y0, y1 = +d.y1;
    var from = +d.from, to = +d.to, lo = +d.lo, hi = +d.hi;
    if (!(x1 > x0) || !(to > from)) return;
    var tip = document.createElement("div");
    tip.className = "hover";
    tip.hidden = true;
    document.body.appendChild(tip);
    svg.addEventListener("mousemove", function (ev) {
      var box = svg.getBoundingClientRect();
      var vb = svg.viewBox.baseVal;
      var sx = vb.width / box.width, sy = vb.height / box.height;
      var x = (ev.clientX - box.left) * sx, y = (ev.clientY - box.top) * sy;
      if (x < x0 || x > x1 || y < y0 || y > y1) { tip.hidden = true; return; }
      var t = from + (x - x0) / (x1 - x0) * (to - from);
      var v = hi - (y - y0) / (y1 - y0) * (hi - lo);
      tip.textContent = fmtTime(Math.round(t)) + " · " + fmtValue(v, d.unit || "");
      tip.hidden = false;
      tip.style.left = (ev.pageX + 12) + "px";
      tip.style.top = (ev.pageY + 12) + "px";
    });
    svg.addEventListener("mouseleave", function () { tip.hidden = true; });
  }

  function start() {
    var graphs = document.querySelectorAll("svg.graph[data-from]");
    for (var i = 0; i < graphs.length; i++) enhanceGraph(graphs[i]);
    var main = document.querySelector("main[data-refresh]");
    if (main) {
      var secs = +main.dataset.refresh;
      if (secs > 0) setTimeout(function () { window.location.reload(); }, secs * 1000);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
