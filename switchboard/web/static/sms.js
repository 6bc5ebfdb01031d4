/* SMS pages: the add-number wizard (steps, number search, the number chip, "Use my number" codes,
   agent -> knowledge base), the SMS table's Agent selector and the compose box's segment counter.
   The pages post plain forms; this only makes them step by step and live. */
(function () {
  "use strict";

  // app.js (loaded on every page) provides the CSRF token and the alert and session helpers.
  var shared = window.Switchboard;
  var csrfToken = shared.csrfToken;
  var FETCH = shared.fetchHeaders;
  var alertBox = shared.pageAlert;
  var signedOut = shared.checkSession;

  // --- the wizard ----------------------------------------------------------------------------------
  var wizard = document.querySelector("form.js-wizard");
  if (wizard) {
    var steps = Array.prototype.slice.call(wizard.querySelectorAll(".wizard-step"));
    var pills = document.querySelectorAll(".js-step-pill");
    var back = wizard.querySelector(".js-back");
    var next = wizard.querySelector(".js-next");
    var submit = wizard.querySelector(".js-submit");
    var modeInput = wizard.querySelector(".js-mode");
    var numbersBox = wizard.querySelector(".js-numbers");
    var numbersLoading = wizard.querySelector(".js-numbers-loading");
    var hasErrors = !!document.querySelector('[data-testid="wizard-errors"], .invalid-feedback');
    var current = hasErrors ? parseInt(wizard.getAttribute("data-first-error-step"), 10) || 3 : 2;
    var searched = false;

    function chosenNumber() {
      if (modeInput.value === "byon") {
        return wizard.querySelector(".js-byon-phone").value.trim();
      }
      var select = wizard.querySelector(".js-number-select");
      return select && select.value ? select.value : "";
    }

    function updateChips() {
      var number = chosenNumber();
      wizard.querySelectorAll(".js-number-chip").forEach(function (chip) {
        chip.textContent = number;
        chip.hidden = !number;
      });
      wizard.querySelectorAll(".js-no-number").forEach(function (el) { el.hidden = !!number; });
    }

    function searchNumbers() {
      var params = new URLSearchParams({
        country: wizard.querySelector(".js-country").value,
        area_code: wizard.querySelector(".js-area-code").value.trim(),
        contains: wizard.querySelector(".js-contains").value.trim(),
      });
      numbersLoading.classList.remove("d-none");
      numbersBox.setAttribute("aria-busy", "true");
      searched = true;
      fetch(numbersBox.getAttribute("data-src-numbers") + "?" + params.toString(), {
        headers: FETCH,
        credentials: "same-origin",
      })
        .then(signedOut)
        .then(function (response) { return response.text(); })
        .then(function (html) {
          numbersBox.innerHTML = html;
          updateChips();
        })
        .catch(function () {
          numbersBox.innerHTML = "";
          var p = document.createElement("div");
          p.className = "alert alert-danger mb-0";
          p.setAttribute("role", "alert");
          p.textContent = "The numbers could not be loaded. Check your connection and search again.";
          numbersBox.appendChild(p);
        })
        .finally(function () {
          numbersLoading.classList.add("d-none");
          numbersBox.removeAttribute("aria-busy");
        });
    }

    function show(step) {
      current = step;
      steps.forEach(function (section) {
        section.hidden = parseInt(section.getAttribute("data-step"), 10) !== step;
      });
      pills.forEach(function (pill) {
        var n = parseInt(pill.getAttribute("data-step"), 10);
        pill.className = "badge rounded-pill js-step-pill " +
          (n === step ? "text-bg-primary" : n < step ? "text-bg-success" : "text-bg-light border");
        if (n === step) pill.setAttribute("aria-current", "step"); else pill.removeAttribute("aria-current");
      });
      back.classList.toggle("d-none", step <= 2);
      next.classList.toggle("d-none", step >= 5);
      submit.classList.toggle("d-none", step < 5);
      if (step === 3 && !searched && modeInput.value === "new" && !wizard.querySelector(".js-number-select")) {
        searchNumbers();
      }
      updateChips();
    }

    function ready(step) {
      if (step !== 3) return true;
      if (chosenNumber()) return true;
      var where = modeInput.value === "byon" ? wizard.querySelector(".js-verify-status") : numbersBox;
      var note = document.createElement("div");
      note.className = "alert alert-warning mb-0 mt-2 py-2";
      note.setAttribute("role", "alert");
      note.textContent = modeInput.value === "byon" ? "Enter your number first." : "Choose a number first.";
      where.replaceChildren(note);
      return false;
    }

    back.addEventListener("click", function () { show(Math.max(2, current - 1)); });
    next.addEventListener("click", function () {
      if (ready(current)) show(Math.min(5, current + 1));
    });
    wizard.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && target.tagName !== "TEXTAREA" && current < 5) {
        event.preventDefault();
        if (target.classList.contains("js-area-code") || target.classList.contains("js-contains")) {
          searchNumbers();
        } else if (ready(current)) {
          show(current + 1);
        }
      }
    });
    wizard.querySelector(".js-search-numbers").addEventListener("click", searchNumbers);
    wizard.addEventListener("change", function (event) {
      if (event.target.classList.contains("js-number-select")) updateChips();
    });
    wizard.querySelector(".js-byon-phone").addEventListener("input", updateChips);
    wizard.querySelectorAll(".js-mode-tab").forEach(function (tab) {
      tab.addEventListener("click", function () {
        modeInput.value = tab.getAttribute("data-mode");
        updateChips();
      });
    });

    // "Use my number": text the code.
    var sendCode = wizard.querySelector(".js-send-code");
    sendCode.addEventListener("click", function () {
      var status = wizard.querySelector(".js-verify-status");
      var body = new FormData();
      body.append("csrf_token", csrfToken);
      body.append("phone_number", wizard.querySelector(".js-byon-phone").value.trim());
      sendCode.disabled = true;
      fetch(sendCode.getAttribute("data-action"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: Object.assign({ "X-CSRF-Token": csrfToken }, FETCH),
      })
        .then(signedOut)
        .then(function (response) { return response.text(); })
        .then(function (html) { status.innerHTML = html; })
        .catch(function () { status.textContent = "The code could not be sent. Try again."; })
        .finally(function () { sendCode.disabled = false; });
    });

    // Destination: agents of the chosen workspace; the knowledge base comes from the agent.
    var workspace = wizard.querySelector(".js-workspace");
    var agent = wizard.querySelector(".js-agent");
    var kb = wizard.querySelector(".js-kb");
    function syncAgents() {
      Array.prototype.forEach.call(agent.options, function (option) {
        var ws = option.getAttribute("data-workspace");
        option.hidden = !!ws && ws !== workspace.value;
        option.disabled = option.hidden;
      });
      var selected = agent.options[agent.selectedIndex];
      if (selected && selected.hidden) agent.value = "";
      syncKb();
    }
    function syncKb() {
      var selected = agent.options[agent.selectedIndex];
      if (!selected || !selected.value) {
        kb.value = "";
        return;
      }
      var name = selected.getAttribute("data-kb");
      kb.value = name || "Cannot be resolved: this agent has no knowledge base";
      kb.classList.toggle("is-invalid", !name);
    }
    workspace.addEventListener("change", syncAgents);
    agent.addEventListener("change", syncKb);
    syncAgents();
    show(current);
  }

  // --- the SMS table's Agent selector --------------------------------------------------------------
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.classList || !select.classList.contains("js-agent-select")) return;
    var form = select.form;
    var row = form.closest("tr");
    var before = select.getAttribute("data-current") || "";
    select.disabled = true;
    var body = new FormData(form);
    body.set("agent_id", select.value);
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrfToken }, FETCH),
    })
      .then(signedOut)
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        row.replaceWith(template.content.firstElementChild);
        alertBox("success", "Agent changed for " + row.getAttribute("data-name") + ".");
      })
      .catch(function () {
        select.value = before;
        select.disabled = false;
        alertBox("danger", "The agent could not be changed. Please try again.");
      });
  });
  document.addEventListener("focusin", function (event) {
    var select = event.target;
    if (select.classList && select.classList.contains("js-agent-select")) {
      select.setAttribute("data-current", select.value);
    }
  });

  // --- the compose box: live segment count ---------------------------------------------------------
  document.querySelectorAll(".js-compose").forEach(function (box) {
    var info = box.parentElement.querySelector(".js-segment-info");
    var ucs2 = box.parentElement.querySelector(".js-ucs2");
    var timer = null;
    var seq = 0;
    function count() {
      var mine = ++seq;
      var url = box.getAttribute("data-segments") + "?" + new URLSearchParams({ body: box.value }).toString();
      fetch(url, { headers: FETCH, credentials: "same-origin" })
        .then(signedOut)
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (mine !== seq) return; // an older answer arriving late
          var text = data.encoding + " · " + data.segments + " segment" + (data.segments === 1 ? "" : "s") +
            " · " + data.characters + " characters";
          if (data.too_long) text += " · too long: at most " + data.max_characters;
          info.textContent = text;
          info.classList.toggle("text-danger", data.too_long);
          ucs2.hidden = data.ucs2_characters.length === 0;
          ucs2.textContent = "Characters that force UCS-2: " + data.ucs2_characters.join(" ");
        })
        .catch(function () {
          if (mine === seq) info.textContent = "The segment count is unavailable right now.";
        });
    }
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(count, 150);
    });
  });
})();
