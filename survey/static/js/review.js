// Review queue: a "select all on this page" box. Without this file each response is ticked
// by hand; the box stays hidden.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var rows = document.getElementById("flagged-rows");
  if (!all || !rows) { return; }
  var boxes = rows.querySelectorAll("input[type=checkbox][name=ids]");
  all.closest("label").hidden = false;
  document.querySelectorAll(".pick-label").forEach(function (label) { label.hidden = true; });

  function sync() {
    var ticked = 0;
    boxes.forEach(function (box) { ticked += box.checked ? 1 : 0; });
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  sync();
})();
