// Meja admin keyboard shortcuts (no inline scripts: the page's CSP allows only this file).
// Queue: j / k move the selection, Enter opens it. Complaint: j / k next / previous, 1 2 3 accept the n-th suggestion.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tr[data-row]"));
  var current = -1;
  function select(i) {
    if (!rows.length) { return; }
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("selected", n === current); });
    var link = rows[current].querySelector("a.open-link");
    if (link) { link.focus(); }
  }
  document.addEventListener("keydown", function (e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var key = e.key;
    if (rows.length) {
      if (key === "j") { select(current + 1); e.preventDefault(); }
      else if (key === "k") { select(current - 1); e.preventDefault(); }
      return;
    }
    if (key === "j" || key === "k") {
      var nav = document.getElementById(key === "j" ? "next-link" : "prev-link");
      if (nav) { window.location.assign(nav.href); e.preventDefault(); }
    } else if (key === "1" || key === "2" || key === "3") {
      var form = document.getElementById("accept-" + key);
      if (form) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
    }
  });
})();
