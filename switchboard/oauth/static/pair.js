// Polls the pairing status until the phone has scanned the QR code, then shows the result.
(function () {
  "use strict";
  var box = document.querySelector("[data-pair-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-pair-status-url");
  var text = document.getElementById("pair-status-text");
  var done = document.getElementById("pair-done");
  var qr = document.getElementById("pair-qr");
  var timer = null;
  function finish(ok, message) {
    window.clearInterval(timer);
    text.textContent = message;
    box.setAttribute("data-status", ok ? "paired" : "failed");
    box.classList.remove("alert-info");
    box.classList.add(ok ? "alert-success" : "alert-danger");
    if (qr) { qr.classList.add("opacity-25"); }
    if (done) { done.classList.remove("d-none"); }
  }
  function poll() {
    fetch(url, { headers: { "X-Requested-With": "fetch", "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.status === "paired") { finish(true, data.message); }
        else if (data.status === "failed") { finish(false, data.message); }
        else { text.textContent = data.message; }
      })
      .catch(function () { text.textContent = "Lost contact with the server; retrying…"; });
  }
  timer = window.setInterval(poll, 1500);
  poll();
})();
