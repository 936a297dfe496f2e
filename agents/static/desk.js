// Agent desk: presence and the current call refresh every 2 s; the wrap-up counts down;
// classifier suggestions and knowledge-base answers follow what the agent types.
(function () {
  "use strict";
  var root = document.getElementById("desk");
  if (!root) return;
  var $ = function (id) { return document.getElementById(id); };
  var lastCall = $("f-call-sid").value;

  function text(id, value) { $(id).textContent = value == null ? "" : value; }

  function cell(row, value) {
    var td = document.createElement("td");
    td.textContent = value;
    row.appendChild(td);
    return td;
  }

  function showCall(call) {
    $("call").hidden = !call;
    $("no-call").hidden = !!call;
    if (!call) return;
    text("call-caller", call.caller);
    text("call-waited", call.waited_seconds);
    text("call-state", call.state);
    if (call.call_sid !== lastCall) {  // a new caller: prefill the ticket form
      lastCall = call.call_sid;
      $("f-call-sid").value = call.call_sid;
      $("f-caller").value = call.caller || "";
    }
    var body = document.querySelector("#earlier tbody");
    body.textContent = "";
    call.earlier.forEach(function (t) {
      var row = document.createElement("tr");
      var link = document.createElement("a");
      link.href = "/tickets/" + encodeURIComponent(t.number);
      link.textContent = t.number;
      cell(row, "").appendChild(link);
      cell(row, t.opened_on);
      cell(row, t.status);
      cell(row, t.description);
      body.appendChild(row);
    });
  }

  function refresh() {
    fetch(root.dataset.stateUrl, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        var badge = $("status");
        badge.textContent = state.label;
        badge.className = "badge presence-" + state.status;
        text("reason", state.reason);
        $("wrapup").hidden = state.wrap_up_left == null;
        text("wrapup-left", state.wrap_up_left);
        showCall(state.call);
        var phase = state.call ? state.call.phase : "";
        $("softphone").hidden = !state.softphone;
        document.querySelectorAll("#softphone form[data-phase]").forEach(function (form) {
          form.hidden = form.dataset.phase.split(" ").indexOf(phase) < 0;
        });
      })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(refresh, 2000);
  setInterval(function () {  // count down between polls
    var left = parseInt($("wrapup-left").textContent, 10);
    if (!$("wrapup").hidden && left > 0) text("wrapup-left", left - 1);
  }, 1000);

  var timer = null;
  function suggest() {
    var q = $("f-description").value.trim();
    if (!q) return;
    fetch(root.dataset.suggestUrl + "?text=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        text("suggestion", [s.demand_type, s.topic, s.department].join(" · "));
        var list = $("kb-results");
        list.textContent = "";
        if (!s.articles.length) {
          var none = document.createElement("li");
          none.className = "muted";
          none.textContent = "无匹配 No match";
          list.appendChild(none);
        }
        s.articles.forEach(function (a) {
          var item = document.createElement("li");
          var use = document.createElement("button");
          use.type = "button";
          use.className = "link";
          use.textContent = a.question;
          use.addEventListener("click", function () {
            $("f-article").value = a.key;
            $("f-reply").value = a.answer;
          });
          var answer = document.createElement("p");
          answer.className = "muted";
          answer.textContent = a.answer;
          item.appendChild(use);
          item.appendChild(answer);
          list.appendChild(item);
        });
      })
      .catch(function () {});
  }
  $("f-description").addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 300);
  });
})();
