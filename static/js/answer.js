// The answer page's one-click save. A GET never records an answer (mail scanners and previewers open
// every link), so the score picked in the email is saved only once a person is here: the first
// pointer, touch, key, scroll or focus event posts the form (score and whatever reason is typed) to the
// same address, as the Send button would, but without leaving the page. Send then adds the reason to
// the same response. Without JavaScript, Send saves everything, as before.
(function () {
  "use strict";
  var form = document.querySelector("form[data-early-save]");
  if (!form) return;
  var note = document.getElementById("saved-note");
  var saved = form.getAttribute("data-saved-score") || "";
  var present = false;
  var timer = null;
  var INTERACTIONS = ["pointermove", "pointerdown", "touchstart", "keydown", "scroll", "focusin"];

  function checked() {
    var box = form.querySelector('input[name="score"]:checked');
    return box ? box.value : "";
  }

  function save() {
    var score = checked();
    if (!present || !score || score === saved) return;
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action") || window.location.href);
    request.setRequestHeader("X-Rebound-Early", "1");
    request.onload = function () {
      if (request.status !== 200) return; // Send still saves: nothing is lost
      saved = score;
      form.setAttribute("data-saved-score", score);
      if (note) note.hidden = false;
    };
    request.send(new FormData(form));
  }

  function person() {
    if (present) return;
    present = true;
    INTERACTIONS.forEach(function (name) { window.removeEventListener(name, person, true); });
    save();
  }

  INTERACTIONS.forEach(function (name) {
    window.addEventListener(name, person, { capture: true, passive: true });
  });
  form.addEventListener("change", function (event) {
    if (event.target.name !== "score") return;
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 600); // arrow keys move through the scale: save where it stops
  });
})();
