/* Rebound in-app NPS widget, v1. Embed with one tag (no cookies, no inline code, no other server):
 *   <script src="https://rebound.example.com/widget/v1/rebound.js" defer
 *           data-rebound-program="3" data-rebound-user="pat@customer.com"
 *           data-rebound-ts="1767225600" data-rebound-sig="<hex HMAC from your backend>"></script>
 * The panel lives in a shadow root, so the host's styles and ours never meet. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) return;
  var data = script.dataset;
  var base = new URL(script.src).origin;

  function post(path, body) {
    return fetch(base + path, {
      method: "POST", mode: "cors", credentials: "omit",
      headers: { "Content-Type": "text/plain" }, // a simple request: no preflight
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (json) { return { ok: r.ok, body: json }; });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  var CSS = ":host{all:initial}" +
    ".panel{position:fixed;right:16px;bottom:16px;z-index:2147483000;box-sizing:border-box;width:min(380px,calc(100vw - 32px));" +
    "background:#fff;color:#1f2328;border:1px solid #d0d7de;border-radius:12px;box-shadow:0 8px 24px rgba(0,0,0,.18);" +
    "padding:16px;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    "h2{font-size:16px;margin:0 28px 12px 0}" +
    ".scale{display:grid;grid-template-columns:repeat(11,1fr);gap:3px;margin:0;padding:0;border:0}" +
    ".scale button{min-height:32px;padding:0;border:1px solid #8c959f;border-radius:6px;background:#f6f8fa;color:#1f2328;font:inherit;cursor:pointer}" +
    ".scale button[aria-pressed=true]{background:#0a58ca;border-color:#0a58ca;color:#fff}" +
    ".ends{display:flex;justify-content:space-between;font-size:12px;color:#57606a;margin:4px 0 10px}" +
    "label{display:block;margin:6px 0 4px}" +
    "textarea{box-sizing:border-box;width:100%;min-height:64px;font:inherit;border:1px solid #8c959f;border-radius:6px;padding:6px}" +
    ".send{margin-top:10px;padding:8px 16px;border:0;border-radius:6px;background:#0a58ca;color:#fff;font:inherit;cursor:pointer}" +
    ".send[disabled]{opacity:.5;cursor:default}" +
    ".close{position:absolute;top:8px;right:8px;width:32px;height:32px;border:0;background:none;font-size:20px;cursor:pointer;color:#57606a}" +
    "button:focus-visible,textarea:focus-visible{outline:3px solid #0a58ca;outline-offset:2px}" +
    ".error{color:#a40e26;margin:6px 0 0}";

  function render(q) {
    var host = el("div", { "data-rebound-widget": "" });
    document.body.appendChild(host);
    var root = host.attachShadow({ mode: "open" });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el("style", {}, CSS));
    }
    var panel = el("section", { "class": "panel", role: "dialog", "aria-labelledby": "rb-q", lang: q.language });
    var close = el("button", { "class": "close", type: "button", "aria-label": q.close }, "\u00d7");
    close.addEventListener("click", function () { host.remove(); });
    var heading = el("h2", { id: "rb-q" }, q.question);
    var scale = el("div", { "class": "scale", role: "group", "aria-labelledby": "rb-q" });
    var chosen = null;
    var send = el("button", { "class": "send", type: "button", disabled: "" }, q.send);
    for (var n = 0; n <= 10; n++) {
      (function (score) {
        var b = el("button", { type: "button", "aria-pressed": "false", "data-score": String(score) }, String(score));
        b.addEventListener("click", function () {
          chosen = score;
          Array.prototype.forEach.call(scale.children, function (x) { x.setAttribute("aria-pressed", String(x === b)); });
          send.removeAttribute("disabled");
        });
        scale.appendChild(b);
      })(n);
    }
    var ends = el("div", { "class": "ends", "aria-hidden": "true" });
    ends.appendChild(el("span", {}, q.low));
    ends.appendChild(el("span", {}, q.high));
    var label = el("label", { "for": "rb-reason" }, q.reason_prompt);
    var reason = el("textarea", { id: "rb-reason", maxlength: "5000" });
    var status = el("p", { role: "status", "aria-live": "polite" });
    send.addEventListener("click", function () {
      if (chosen === null) return;
      send.setAttribute("disabled", "");
      post("/widget/v1/answer", { token: q.token, score: chosen, reason: reason.value }).then(function (r) {
        if (r.ok) {
          panel.replaceChildren(close, el("h2", { id: "rb-q" }, q.thanks));
        } else {
          status.className = "error";
          status.textContent = q.error;
          send.removeAttribute("disabled");
        }
      }).catch(function () {
        status.className = "error";
        status.textContent = q.error;
        send.removeAttribute("disabled");
      });
    });
    [close, heading, scale, ends, label, reason, send, status].forEach(function (x) { panel.appendChild(x); });
    root.appendChild(panel);
  }

  post("/widget/v1/ask", {
    program: data.reboundProgram, user: data.reboundUser, ts: data.reboundTs, sig: data.reboundSig
  }).then(function (r) {
    if (r.ok && r.body.show) render(r.body);
  }).catch(function () { /* Rebound unreachable: the host's page is not disturbed */ });
})();
