/* Live parts of the console: an element with data-sse="<url>" is refreshed by the
   server-sent events of that URL (event "progress": its new HTML; "end": nothing more
   will change). While the stream is open, window.wardcastLive is true and the element's
   htmx polling (hx-trigger="every 5s [!window.wardcastLive]") stands still; when the
   stream breaks, polling takes over until the browser reconnects it. */
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  function follow(el) {
    var source = new EventSource(el.getAttribute("data-sse"));
    source.addEventListener("open", function () { window.wardcastLive = true; });
    source.addEventListener("progress", function (e) {
      el.innerHTML = e.data;
      if (window.htmx) { window.htmx.process(el); }
    });
    source.addEventListener("end", function () {
      source.close();
      window.wardcastLive = true;  /* final: no polling either */
    });
    source.addEventListener("error", function () { window.wardcastLive = false; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var found = document.querySelectorAll("[data-sse]");
    for (var i = 0; i < found.length; i++) { follow(found[i]); }
  });
})();
