// Flow studio editor: YAML highlighting under a transparent textarea, validation while
// typing (the server's `flask flows check` messages), the diagram redrawn when valid.
(function () {
  "use strict";
  var area = document.getElementById("flow-text");
  if (!area) return;
  var code = document.querySelector("#highlight code");
  var pre = document.getElementById("highlight");
  var gutter = document.getElementById("gutter");
  var issuesEl = document.getElementById("issues");
  var statusEl = document.getElementById("check-status");
  var diagram = document.getElementById("diagram");
  var base = document.getElementById("base-revision");
  var errorLines = {};
  var timer = null, seq = 0;

  function esc(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  // One YAML line -> highlighted HTML: comments, keys, quoted strings, scalars, list dashes.
  function highlightLine(line) {
    var m = /^(\s*)(-\s+)?(.*)$/.exec(line);
    var out = esc(m[1]) + (m[2] ? '<span class="y-dash">' + esc(m[2]) + "</span>" : "");
    var rest = m[3], comment = "";
    var hash = rest.search(/(^|\s)#/);
    if (hash >= 0 && !/^["'][^"']*#/.test(rest)) {
      comment = rest.slice(hash); rest = rest.slice(0, hash);
    }
    var km = /^([^\s:"'#][^:#]*?|"[^"]*"|'[^']*'):(\s|$)(.*)$/.exec(rest);
    if (km) {
      out += '<span class="y-key">' + esc(km[1]) + "</span>:" + km[2];
      rest = km[3];
    }
    if (/^\s*-?\d+(\.\d+)?\s*$/.test(rest) || /^\s*(true|false|null)\s*$/.test(rest)) {
      out += '<span class="y-num">' + esc(rest) + "</span>";
    } else {
      out += rest.replace(/("[^"]*"|'[^']*')|([^"']+)/g, function (all, str) {
        return str ? '<span class="y-str">' + esc(str) + "</span>" : esc(all);
      });
    }
    if (comment) out += '<span class="y-comment">' + esc(comment) + "</span>";
    return out;
  }
  function render() {
    var lines = area.value.split("\n");
    var html = [], nums = [];
    for (var i = 0; i < lines.length; i++) {
      var n = i + 1, bad = errorLines[n];
      html.push('<span class="line' + (bad ? " err" : "") + '">' + highlightLine(lines[i]) + "</span>");
      nums.push('<span class="' + (bad ? "err" : "") + '"' + (bad ? ' title="' + esc(bad) + '"' : "") +
                ">" + n + "</span>");
    }
    code.innerHTML = html.join("\n") + "\n";
    gutter.innerHTML = nums.join("");
    syncScroll();
  }
  function syncScroll() {
    pre.scrollTop = area.scrollTop; pre.scrollLeft = area.scrollLeft;
    gutter.scrollTop = area.scrollTop;
  }
  function showIssues(issues) {
    errorLines = {};
    issuesEl.innerHTML = "";
    issues.forEach(function (i) {
      if (i.line) errorLines[i.line] = (errorLines[i.line] ? errorLines[i.line] + "\n" : "") + i.text;
      var li = document.createElement("li");
      li.setAttribute("data-line", i.line || "");
      var a = document.createElement("a");
      a.href = "#"; a.textContent = i.text;
      li.appendChild(a);
      issuesEl.appendChild(li);
    });
    statusEl.textContent = issues.length ? "✗ " + issues.length + " 个错误 error(s)" : "✓ 有效 valid";
    statusEl.className = "check-status " + (issues.length ? "bad" : "ok");
    render();
  }
  function showWarnings(warnings) {
    // Pronunciation doubts: listed under the errors, never block publishing.
    warnings.forEach(function (w) {
      var li = document.createElement("li");
      li.className = "warning";
      li.setAttribute("data-line", w.line || "");
      var a = document.createElement("a");
      a.href = "#"; a.textContent = "⚠ " + w.text;
      li.appendChild(a);
      issuesEl.appendChild(li);
    });
    if (warnings.length) statusEl.textContent += " · " + warnings.length + " 个读音提示 pronunciation warning(s)";
  }
  function validate() {
    var mine = ++seq;
    statusEl.textContent = "检查中 checking…"; statusEl.className = "check-status";
    window.hotlineFetch(area.form ? area.form.action.replace(/publish$/, "validate") : "validate", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text: area.value})
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== seq) return;  // a newer edit is being checked
      showIssues(data.issues);
      showWarnings(data.warnings || []);
      if (data.svg) { diagram.innerHTML = data.svg; document.dispatchEvent(new Event("studio:diagram")); }
    }).catch(function () { statusEl.textContent = "无法检查 cannot check"; });
  }
  function goToLine(n) {
    var lines = area.value.split("\n"), pos = 0;
    for (var i = 0; i < n - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(pos, pos + (lines[n - 1] || "").length);
    var lh = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (n - 5) * lh);
    syncScroll();
  }
  area.addEventListener("input", function () {
    render();
    clearTimeout(timer);
    timer = setTimeout(validate, 400);
  });
  area.addEventListener("scroll", syncScroll);
  area.addEventListener("keydown", function (e) {
    if (e.key === "Tab") {  // indent with spaces (YAML forbids tabs)
      e.preventDefault();
      var s = area.selectionStart;
      area.setRangeText("  ", s, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
    }
  });
  issuesEl.addEventListener("click", function (e) {
    var li = e.target.closest("li");
    if (!li) return;
    e.preventDefault();
    var n = parseInt(li.getAttribute("data-line"), 10);
    if (n) goToLine(n);
  });
  document.getElementById("save-draft").addEventListener("click", function () {
    var btn = this;
    window.hotlineFetch(area.form.action.replace(/publish$/, "draft"), {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text: area.value, base_revision_id: parseInt(base.value, 10) || null})
    }).then(function (r) {
      btn.textContent = r.ok ? "已保存 Saved ✓" : "保存失败 Save failed";
      setTimeout(function () { btn.textContent = "保存草稿 Save draft"; }, 2000);
    });
  });
  // Click a node on the diagram: jump to it in the editor and offer its prompt for editing.
  var promptForm = document.getElementById("prompt-editor");
  var promptNode = document.getElementById("prompt-node");
  var promptSay = document.getElementById("prompt-say");
  diagram.addEventListener("click", function (e) {
    var g = e.target.closest(".node");
    if (!g) return;
    var line = parseInt(g.getAttribute("data-line"), 10);
    if (line) goToLine(line);
    var say = g.getAttribute("data-say");
    promptNode.textContent = g.getAttribute("data-node");
    promptSay.value = say || "";
    promptForm.hidden = say === null;
    if (say !== null) promptSay.focus();
  });
  document.getElementById("prompt-cancel").addEventListener("click", function () { promptForm.hidden = true; });
  promptForm.addEventListener("submit", function (e) {
    e.preventDefault();
    window.hotlineFetch(area.form.action.replace(/publish$/, "prompt"), {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text: area.value, node: promptNode.textContent, say: promptSay.value})
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.error) { statusEl.textContent = data.error; statusEl.className = "check-status bad"; return; }
      area.value = data.text;
      promptForm.hidden = true;
      area.dispatchEvent(new Event("input"));
    });
  });
  window.studioEditor = {text: function () { return area.value; },
                         base: function () { return parseInt(base.value, 10) || null; }};
  // Server-rendered issues on first load.
  var initial = [];
  issuesEl.querySelectorAll("li").forEach(function (li) {
    initial.push({line: parseInt(li.getAttribute("data-line"), 10) || null, text: li.textContent});
  });
  showIssues(initial);
})();
