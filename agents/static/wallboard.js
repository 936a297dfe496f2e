// Wallboard: re-read the figures every few seconds (data-refresh) and update the page.
(function () {
  "use strict";
  var root = document.getElementById("wallboard");
  if (!root) return;
  function pct(v) { return v == null ? "—" : (v * 100).toFixed(1) + " %"; }
  function render(data) {
    data.queues.forEach(function (q) {
      var card = root.querySelector('[data-queue="' + q.queue + '"]');
      if (!card) { window.location.reload(); return; }  // a new queue appeared
      card.querySelector('[data-k="waiting"]').textContent = q.waiting;
      card.querySelector('[data-k="longest_wait_seconds"]').textContent = Math.round(q.longest_wait_seconds);
      Object.keys(q.agents).forEach(function (k) {
        var el = card.querySelector('[data-a="' + k + '"]');
        if (el) el.textContent = q.agents[k];
      });
      card.querySelectorAll("[data-t]").forEach(function (el) {
        var v = q.today[el.dataset.t];
        el.textContent = el.hasAttribute("data-pct") ? pct(v) : (v == null ? "—" : v);
      });
    });
    var body = document.querySelector("#agents tbody");
    body.textContent = "";
    data.agents.forEach(function (a) {
      var row = document.createElement("tr");
      [a.username, null, a.seconds_in_status + " s", a.queues.join(", ")].forEach(function (v, i) {
        var td = document.createElement("td");
        if (i === 1) {
          var badge = document.createElement("span");
          badge.className = "badge presence-" + a.status;
          badge.textContent = a.status;
          td.appendChild(badge);
          if (a.reason) {
            var flag = document.createElement("span");
            flag.className = "flag";
            flag.textContent = " " + a.reason;
            td.appendChild(flag);
          }
        } else {
          td.textContent = v;
        }
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  }
  function refresh() {
    fetch(root.dataset.url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, (parseInt(root.dataset.refresh, 10) || 3) * 1000);
})();
