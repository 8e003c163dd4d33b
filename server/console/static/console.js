// Custody console: the floor's live updates (server-sent events), copy
// buttons, and confirmation of destructive forms. Everything else is
// plain HTML forms and links.
(function () {
  "use strict";
  function live() {
    var box = document.getElementById("live");
    var state = document.getElementById("livestate");
    if (!box || !window.EventSource) return;
    var es = new EventSource(box.getAttribute("data-stream"));
    es.addEventListener("open", function () { state.textContent = "● live"; state.className = "live-dot on"; });
    es.addEventListener("error", function () { state.textContent = "○ reconnecting…"; state.className = "live-dot off"; });
    es.addEventListener("floor", function (e) {
      // The server renders the part with its templates (escaped).
      box.innerHTML = e.data;
      state.textContent = "● live"; state.className = "live-dot on";
    });
    es.addEventListener("ended", function () { es.close(); window.location.href = "/login?why=" + encodeURIComponent("Your session ended."); });
  }
  function copy() {
    document.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest("button.copy") : null;
      if (!b) return;
      var text = b.getAttribute("data-copy");
      var done = function () { var t = b.innerHTML; b.textContent = "✓"; setTimeout(function () { b.innerHTML = t; }, 1200); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var ta = document.createElement("textarea"); ta.value = text; document.body.appendChild(ta); ta.select();
        try { document.execCommand("copy"); done(); } catch (err) {} document.body.removeChild(ta);
      }
    });
  }
  function confirmDanger() {
    document.addEventListener("submit", function (e) {
      var b = e.submitter;
      if (b && b.classList.contains("danger") && !window.confirm(b.textContent.trim() + "?")) e.preventDefault();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { live(); copy(); confirmDanger(); });
})();
