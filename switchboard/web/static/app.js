/* Switchboard's own page behaviour. Every page works without it; this makes the channel table load
   with a visible loading/error state and lets the Active switch save without a reload. */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";
  var FETCH_HEADERS = { "X-Requested-With": "fetch" };

  function show(el, visible) {
    if (el) el.classList.toggle("d-none", !visible);
  }

  function initTooltips(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      window.bootstrap.Tooltip.getOrCreateInstance(el);
    });
  }

  function disposeTooltips(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      var tip = window.bootstrap.Tooltip.getInstance(el);
      if (tip) tip.dispose();
    });
  }

  function pageAlert(kind, text) {
    var box = document.getElementById("page-alerts");
    if (!box) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-" + kind + " alert-dismissible fade show";
    alert.setAttribute("role", kind === "danger" ? "alert" : "status");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "Close");
    alert.appendChild(close);
    box.replaceChildren(alert);
  }

  function checkSession(response) {
    if (response.status === 401) {
      window.location.assign(response.headers.get("X-Login-Url") || "/login");
      throw new Error("signed out");
    }
    return response;
  }

  // Copy to the clipboard; without the async clipboard API (an insecure origin), through a
  // selected, hidden textarea.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyBySelection(text); });
    }
    return copyBySelection(text);
  }

  function copyBySelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  // Shared with the other page scripts (sms.js), which load after this one.
  window.Switchboard = {
    csrfToken: csrfToken,
    fetchHeaders: FETCH_HEADERS,
    pageAlert: pageAlert,
    checkSession: checkSession,
    copyText: copyText,
  };

  // --- copy buttons: <button class="js-clipboard" data-copy="..."> ------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".js-clipboard") : null;
    if (!button) return;
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    copyText(button.getAttribute("data-copy") || "").then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Press Ctrl+C"; }
    ).then(function () {
      window.setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // --- the channel table: loading -> table | empty state | error with Retry ---------------------
  function loadTable(box) {
    var loading = box.querySelector(".js-loading");
    var error = box.querySelector(".js-error");
    var content = box.querySelector(".js-content");
    show(error, false);
    show(content, false);
    show(loading, true);
    box.setAttribute("aria-busy", "true");
    fetch(box.getAttribute("data-src"), { headers: FETCH_HEADERS, credentials: "same-origin" })
      .then(checkSession)
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        disposeTooltips(content);
        content.innerHTML = html;
        initTooltips(content);
        show(loading, false);
        show(content, true);
      })
      .catch(function () {
        show(loading, false);
        show(error, true);
      })
      .finally(function () {
        box.removeAttribute("aria-busy");
      });
  }

  document.querySelectorAll("[data-src]").forEach(function (box) {
    var retry = box.querySelector(".js-retry");
    if (retry) retry.addEventListener("click", function () { loadTable(box); });
    loadTable(box);
  });

  // --- the Active switch: POST the form by fetch, swap in the re-rendered row --------------------
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("js-toggle")) return;
    var form = input.form;
    var row = form.closest("tr");
    var body = new FormData(form);
    input.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrfToken }, FETCH_HEADERS),
    })
      .then(checkSession)
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.firstElementChild;
        disposeTooltips(row);
        row.replaceWith(fresh);
        initTooltips(fresh);
        var name = fresh.getAttribute("data-name");
        pageAlert("success", "Channel “" + name + "” is now " + (input.checked ? "active" : "inactive") + ".");
      })
      .catch(function () {
        input.checked = !input.checked;
        input.disabled = false;
        pageAlert("danger", "The change could not be saved. Please try again.");
      });
  });

  // --- the delete dialog: one modal, filled from the button that opened it -----------------------
  var modal = document.getElementById("delete-modal");
  if (modal) {
    modal.addEventListener("show.bs.modal", function (event) {
      var trigger = event.relatedTarget;
      if (!trigger) return;
      modal.querySelector("form").setAttribute("action", trigger.getAttribute("data-action"));
      modal.querySelector(".js-name").textContent = trigger.getAttribute("data-name");
    });
  }
})();
