// Rebound's only script of its own. No inline scripts or handlers anywhere (Content-Security-Policy):
// behaviour hangs off data attributes here.
(function () {
  "use strict";

  // Progress bars: the width comes from data-width (a percentage); an inline style would break the CSP.
  function applyWidths(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      var value = parseFloat(el.getAttribute("data-width"));
      if (!isNaN(value)) el.style.width = Math.max(0, Math.min(100, value)) + "%";
    });
  }

  // Confirm before a destructive action: <button data-confirm="Really?">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });

  // "Select all" boxes: <input type="checkbox" data-select-all="name-of-the-boxes">.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    document.querySelectorAll('input[type="checkbox"][name="' + all.getAttribute("data-select-all") + '"]')
      .forEach(function (box) { box.checked = all.checked; });
  });

  // <time datetime="…" data-local-title>: its exact moment as a tooltip, in the reader's own locale and
  // time zone (the page sends the ISO moment; formatting 25 dates on the server was a tenth of a list).
  function applyLocalTitles(root) {
    root.querySelectorAll("time[data-local-title]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (!isNaN(moment)) el.title = moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    });
  }

  function enhance(root) { applyWidths(root); applyLocalTitles(root); }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt.parentNode || document); });
})();

// The program editor's live preview: <form data-live-preview> with a <button data-preview-submit
// formaction=… formtarget=…>. Edits re-post the form into the preview frame after a short pause;
// without JavaScript the button does the same.
(function () {
  "use strict";
  var timer = null;
  function refresh(form) {
    var button = form.querySelector("[data-preview-submit]");
    if (button && form.requestSubmit) form.requestSubmit(button);
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = event.target.closest && event.target.closest("form[data-live-preview]");
      if (!form) return;
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(form); }, 600);
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-live-preview]");
    var frame = document.querySelector("iframe[name='email-preview']");
    if (form && frame && frame.getAttribute("src") === "about:blank") refresh(form);
  });
})();
