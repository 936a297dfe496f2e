// Web phone: the simulator phone on the server, driven from here one caller action at a time.
// Prompts play as <audio>; spoken answers are typed, recorded (MediaRecorder) or uploaded,
// and always sent as 8 kHz mono WAV, like a phone line; the call's path lights up on the diagram.
// On the live line (data-mode="live") the caller is answered by an agent at their desk: while
// waiting in the queue or talking, the page asks the server every POLL_MS what has happened.
(function () {
  "use strict";
  var box = document.getElementById("webphone");
  if (!box) return;
  var live = box.getAttribute("data-mode") === "live";
  var POLL_MS = 1500, pollTimer = null;
  var statusEl = document.getElementById("phone-status");
  var logEl = document.getElementById("phone-log");
  var player = document.getElementById("phone-audio");
  var autoplay = document.getElementById("phone-autoplay");
  var call = null, shown = 0, queue = [], digits = "", digitTimer = null, busy = false;
  var recorder = null;
  // Short tags rather than emoji: not every desktop has an emoji font.
  var TAG = {say: "听", play: "听", keys: "按", speech: "说", timeout: "…", recorded: "录",
             "no-recording": "录", enqueue: "排", "agent-answered": "人", "queue-result": "排",
             dial: "转", "dial-result": "转", hangup: "挂", "application-error": "错",
             "end-of-document": "挂", beep: "嘀", pause: "…", "agent-hangup": "挂"};

  function describe(e) {
    switch (e.kind) {
      case "say": return e.text;
      case "play": return e.text || "（合成提示音 synthesized prompt ▶）";
      case "keys": return "按键 pressed " + (e.digits || "—");
      case "speech": return "说 said “" + e.text + "”";
      case "timeout": return "无输入 no input (" + e.seconds + " s)";
      case "gather": return "等待输入 waiting for " + e.input;
      case "record": return "录音中 recording…";
      case "recorded": return "已录音 sent " + e.seconds + " s" + (e.text ? " (" + e.text + ")" : "");
      case "no-recording": return "未录到声音 nothing recorded";
      case "enqueue": return live ? "转人工，开始排队 In line for an agent" : "排队 queued: " + (e.queue || "");
      case "agent-answered":
        if (e.agent) return "已接通话务员 " + e.agent + " · Connected to agent " + e.agent +
                            " (等待 waited " + e.waited + " s)";
        return "坐席接听 agent answered after " + e.waited + " s";
      case "agent-hangup": return "话务员已挂机 The agent hung up";
      case "queue-result":
        if (live) return {bridged: "与话务员的通话结束 The call with the agent ended",
                          hangup: "排队时挂机 Hung up while waiting"}[e.result] ||
                         "离开队列 Left the queue";
        return "离开队列 left queue: " + e.result;
      case "dial": return "转接 dialling " + e.number;
      case "dial-result": return "转接结果 " + e.status;
      case "hangup":
        if (live) return e.by === "caller" ? "您已挂机 You hung up" : "热线挂机 The line hung up";
        return "挂断 hung up by " + e.by;
      case "end-of-document": return "通话结束 call ended";
      case "application-error": return "应用错误 application error: " + e.detail;
      case "beep": return "提示音 beep";
      case "pause": return "停顿 pause " + e.seconds + " s";
      default: return e.kind;
    }
  }
  function needText(need) {
    if (!need) return "";
    var a = need.attrs || {};
    return {gather: "请按键" + (a.input && a.input.indexOf("speech") >= 0 ? "或说话" : "") +
                    " Press keys" + (a.numDigits ? " (" + a.numDigits + ")" : "") + " · " + a.timeout + " s",
            record: "请说话（录音）Speak now: record, upload or type",
            queue: live ? "排队等待话务员… Waiting for an agent (" + a.waited + " s)"
                        : "排队中 In queue (" + a.waited + " s): wait, or an agent answers",
            talk: "已接通话务员 " + a.agent + " · 通话中 Connected to agent " + a.agent,
            dial: "正在转接 Dialling: agent answers, busy, or wait"}[need.kind] || need.kind;
  }
  function enable(need) {
    var kind = need ? need.kind : null;
    var input = need && need.attrs ? (need.attrs.input || "") : "";
    box.querySelectorAll("[data-key]").forEach(function (b) { b.disabled = !(kind === "gather" || kind === "record"); });
    function act(name, disabled) {  // the live line has no simulated agent or busy buttons
      var b = box.querySelector('[data-act="' + name + '"]');
      if (b) b.disabled = disabled;
    }
    act("wait", !kind || (live && (kind === "queue" || kind === "talk")));
    act("agent", !(kind === "queue" || kind === "dial"));
    act("busy", kind !== "dial");
    act("hangup", !call || call.ended);
    var speak = kind === "record" || (kind === "gather" && input.indexOf("speech") >= 0);
    ["phone-say", "phone-say-send", "phone-mic", "phone-file"].forEach(function (id) {
      document.getElementById(id).disabled = !speak;
    });
  }
  function playNext() {
    if (!player.paused && !player.ended) return;
    var next = queue.shift();
    if (!next) return;
    player.src = next;
    var p = player.play();
    if (p && p.catch) p.catch(function () { queue = []; });
  }
  player.addEventListener("ended", playNext);
  function highlight(path) {
    var svg = document.querySelector("#diagram svg");
    if (!svg) return;
    svg.querySelectorAll(".node").forEach(function (g) { g.classList.remove("visited", "current"); });
    svg.querySelectorAll(".edge").forEach(function (g) { g.classList.remove("visited"); });
    (path || []).forEach(function (id, i) {
      var g = svg.querySelector('.node[data-node="' + CSS.escape(id) + '"]');
      if (g) g.classList.add(i === path.length - 1 && call && !call.ended ? "current" : "visited");
      if (i > 0) {
        var edge = svg.querySelector('.edge[data-from="' + CSS.escape(path[i - 1]) + '"][data-to="' + CSS.escape(id) + '"]');
        if (edge) edge.classList.add("visited");
      }
    });
  }
  document.addEventListener("studio:diagram", function () { if (call) highlight(call.path); });
  function show(data) {
    call = data;
    data.events.slice(shown).forEach(function (e) {
      if (e.kind === "request" || e.kind === "gather" || e.kind === "record") return;
      if (live && e.kind === "redirect") return;  // plumbing a citizen never hears
      var li = document.createElement("li");
      li.className = "ev ev-" + e.kind;
      li.innerHTML = '<span class="t">' + e.t.toFixed(1) + 's</span> <span class="tag">' +
                     (TAG[e.kind] || "·") + "</span> ";
      var span = document.createElement("span");
      span.className = "what"; span.textContent = describe(e);
      li.appendChild(span);
      if (e.audio) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.className = "replay"; btn.textContent = "▶";
        btn.title = "播放 Play"; btn.setAttribute("data-audio", e.audio);
        btn.addEventListener("click", function () { queue = []; player.src = e.audio; player.play(); });
        li.appendChild(btn);
        if (autoplay.checked) queue.push(e.audio);
      }
      logEl.appendChild(li);
    });
    shown = data.events.length;
    logEl.scrollTop = logEl.scrollHeight;
    statusEl.textContent = data.ended ? "通话结束 Call ended (" + data.status + ", " + data.clock + " s)"
                                      : needText(data.need);
    statusEl.className = "phone-status" + (data.ended ? " ended" : " live") +
                         (data.need && data.need.kind === "talk" ? " talking" : "");
    enable(data.ended ? null : data.need);
    highlight(data.path);
    playNext();
    clearTimeout(pollTimer);
    if (live && !data.ended && data.need && (data.need.kind === "queue" || data.need.kind === "talk")) {
      pollTimer = setTimeout(function () { send({kind: "wait"}, false, true); }, POLL_MS);
    }
  }
  function fail(r) {
    return r.text().then(function (t) { statusEl.textContent = "错误 Error: " + r.status + " " + t.slice(0, 200); });
  }
  var waiting = null;  // the caller's own action, sent once the request in flight is answered
  function send(body, isForm, polled) {
    if (!call) return;
    if (busy) { if (!polled) waiting = [body, isForm]; return; }
    busy = true;
    var opts = {method: "POST", body: isForm ? body : JSON.stringify(body)};
    if (!isForm) opts.headers = {"Content-Type": "application/json"};
    window.hotlineFetch(box.getAttribute("data-start-url") + "/" + call.id, opts).then(function (r) {
      busy = false;
      return r.ok ? r.json().then(show) : fail(r);
    }).catch(function () { busy = false; }).then(function () {
      var next = waiting;
      waiting = null;
      if (next && call && !call.ended) send(next[0], next[1]);
    });
  }
  // A citizen who closes or reloads the live line's tab hangs up, as on a real phone: a call
  // left open would wait in the real queue (or hold its agent) with nobody on the line.
  window.addEventListener("pagehide", function () {
    if (!live || !call || call.ended) return;
    window.hotlineFetch(box.getAttribute("data-start-url") + "/" + call.id, {
      method: "POST", keepalive: true, headers: {"Content-Type": "application/json"},
      body: JSON.stringify({kind: "hangup"})
    });
  });
  function checked(name) {
    var input = box.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }
  box.querySelectorAll('input[name="phone-entry"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      document.getElementById("phone-values").hidden = checked("phone-entry") !== "survey";
    });
  });
  document.getElementById("phone-call").addEventListener("click", function () {
    var mode = live ? "live" : checked("phone-mode");
    var body = live ? {caller: document.getElementById("phone-caller").value.trim()} : {mode: mode};
    var entry = checked("phone-entry");
    if (entry) {  // the hotline calls the web phone: an outgoing call with typed values
      body.entry = entry; body.values = {};
      if (entry === "survey") {
        box.querySelectorAll("[data-value]").forEach(function (input) {
          body.values[input.getAttribute("data-value")] = input.value;
        });
      }
    }
    if (mode === "draft" && window.studioEditor) {
      body.text = window.studioEditor.text(); body.base_revision_id = window.studioEditor.base();
    }
    logEl.innerHTML = ""; shown = 0; queue = []; call = null; digits = ""; clearTimeout(pollTimer);
    statusEl.textContent = "拨号中 Calling…";
    window.hotlineFetch(box.getAttribute("data-start-url"), {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json().then(show) : fail(r); });
  });
  function flushDigits() {
    clearTimeout(digitTimer);
    if (digits) { var d = digits; digits = ""; send({kind: "keys", value: d}); }
  }
  box.querySelectorAll("[data-key]").forEach(function (b) {
    b.addEventListener("click", function () {
      var key = b.getAttribute("data-key");
      var a = (call && call.need && call.need.attrs) || {};
      digits += key;
      if (call.need.kind === "record" || (a.numDigits && digits.length >= a.numDigits) ||
          key === (a.finishOnKey || "#")) { flushDigits(); return; }
      statusEl.textContent = "已按 Pressed: " + digits;
      clearTimeout(digitTimer);
      digitTimer = setTimeout(flushDigits, 1500);  // like the pause after the last key
    });
  });
  box.querySelectorAll("[data-act]").forEach(function (b) {
    b.addEventListener("click", function () { send({kind: b.getAttribute("data-act")}); });
  });
  function sayText() {
    var input = document.getElementById("phone-say");
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({kind: "speech", value: text});
  }
  document.getElementById("phone-say-send").addEventListener("click", sayText);
  document.getElementById("phone-say").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); sayText(); }
  });

  // Any audio the browser can decode -> 8 kHz mono 16-bit WAV (what a phone line records).
  function toWav(arrayBuffer) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    var ctx = new Ctx();
    return ctx.decodeAudioData(arrayBuffer).then(function (buf) {
      ctx.close();
      var rate = 8000, ratio = buf.sampleRate / rate, n = Math.floor(buf.length / ratio);
      var mono = new Float32Array(buf.length);
      for (var c = 0; c < buf.numberOfChannels; c++) {
        var ch = buf.getChannelData(c);
        for (var i = 0; i < buf.length; i++) mono[i] += ch[i] / buf.numberOfChannels;
      }
      var out = new DataView(new ArrayBuffer(44 + n * 2));
      function str(o, s) { for (var k = 0; k < s.length; k++) out.setUint8(o + k, s.charCodeAt(k)); }
      str(0, "RIFF"); out.setUint32(4, 36 + n * 2, true); str(8, "WAVE"); str(12, "fmt ");
      out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true);
      out.setUint32(24, rate, true); out.setUint32(28, rate * 2, true); out.setUint16(32, 2, true);
      out.setUint16(34, 16, true); str(36, "data"); out.setUint32(40, n * 2, true);
      for (var j = 0; j < n; j++) {  // average each window: a cheap low-pass before decimating
        var from = Math.floor(j * ratio), to = Math.max(from + 1, Math.floor((j + 1) * ratio)), sum = 0;
        for (var k = from; k < to; k++) sum += mono[k];
        var v = Math.max(-1, Math.min(1, sum / (to - from)));
        out.setInt16(44 + j * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
      }
      return new Blob([out.buffer], {type: "audio/wav"});
    });
  }
  function sendAudio(blob, label) {
    return blob.arrayBuffer().then(toWav).then(function (wav) {
      var form = new FormData();
      form.append("audio", wav, "speech.wav");
      if (label) form.append("text", label);
      send(form, true);
    }).catch(function (err) { statusEl.textContent = "无法读取音频 Cannot read audio: " + err; });
  }
  document.getElementById("phone-file").addEventListener("change", function () {
    var f = this.files[0];
    if (f) sendAudio(f, f.name);
    this.value = "";
  });
  document.getElementById("phone-mic").addEventListener("click", function () {
    var btn = this;
    if (recorder) { recorder.stop(); return; }
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      statusEl.textContent = "此浏览器不能录音 This browser cannot record; upload a file"; return;
    }
    navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
      var chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = function (e) { chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        recorder = null; btn.textContent = "录音 Record";
        sendAudio(new Blob(chunks, {type: chunks[0] ? chunks[0].type : "audio/webm"}), "microphone");
      };
      recorder.start();
      btn.textContent = "停止 Stop";
    }).catch(function (err) { statusEl.textContent = "无法使用麦克风 Microphone unavailable: " + err.name; });
  });
})();
