/* Record a bulletin in the browser (MediaRecorder) and hand it to the form as a file.
 *
 * Progressive: without this script, or in a browser that cannot record, the page is a
 * plain form with a file field. With it, "Record" captures the microphone; "Stop" puts
 * the recording into that same file field (so the normal upload sends it) and offers it
 * to be heard before the form is sent. Words come from the page (data-* attributes).
 */
(function () {
  "use strict";

  function ready() {
    var box = document.getElementById("recorder");
    var input = document.getElementById("f-file");
    if (!box || !input) return;
    var canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
      window.MediaRecorder && window.DataTransfer);
    if (!canRecord) return;
    box.hidden = false;

    var start = document.getElementById("record-start");
    var stop = document.getElementById("record-stop");
    var status = document.getElementById("record-status");
    var preview = document.getElementById("record-preview");
    var recorder = null;
    var chunks = [];

    function say(key) { status.textContent = status.getAttribute("data-" + key) || ""; }

    function pickType() {
      var kinds = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
      for (var i = 0; i < kinds.length; i++) {
        if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(kinds[i])) return kinds[i];
      }
      return "";
    }

    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var type = pickType();
        recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
        chunks = [];
        recorder.addEventListener("dataavailable", function (e) { if (e.data.size) chunks.push(e.data); });
        recorder.addEventListener("stop", function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          var mime = recorder.mimeType || "audio/webm";
          var ext = mime.indexOf("ogg") >= 0 ? "ogg" : mime.indexOf("mp4") >= 0 ? "m4a" : "webm";
          var blob = new Blob(chunks, { type: mime });
          var file = new File([blob], "recording." + ext, { type: mime });
          var transfer = new DataTransfer();
          transfer.items.add(file);
          input.files = transfer.files;
          preview.src = URL.createObjectURL(blob);
          preview.hidden = false;
          start.disabled = false;
          stop.disabled = true;
          say("ready");
          start.focus();
        });
        recorder.start();
        start.disabled = true;
        stop.disabled = false;
        say("recording");
        stop.focus();
      }).catch(function () { say("denied"); });
    });

    stop.addEventListener("click", function () {
      if (recorder && recorder.state !== "inactive") recorder.stop();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
