// callcheck review: seek the player from the timeline, the transcript and the evidence; show
// where the player is. Everything else is plain HTML forms (the page works without this).
(function () {
  "use strict";
  var audio = document.getElementById("player");
  if (!audio) { return; }
  var timeline = document.getElementById("timeline");
  var playhead = document.getElementById("playhead");
  var clock = document.getElementById("clock");
  var duration = timeline ? parseFloat(timeline.getAttribute("data-duration")) : NaN;
  var segments = Array.prototype.slice.call(document.querySelectorAll("li.seg"));

  function seek(t) {
    if (!isFinite(t) || t < 0) { return; }
    audio.currentTime = t;
    var played = audio.play();
    if (played && played.catch) { played.catch(function () {}); }
  }

  document.addEventListener("click", function (ev) {
    var target = ev.target;
    if (target.closest("select, input, textarea, a, summary")) { return; }
    var el = target.closest(".seek");
    if (el && el.hasAttribute("data-start")) {
      ev.preventDefault();
      seek(parseFloat(el.getAttribute("data-start")));
      return;
    }
    if (timeline && target.closest("#timeline") && isFinite(duration)) {
      var box = timeline.getBoundingClientRect();
      seek(duration * Math.min(1, Math.max(0, (ev.clientX - box.left) / box.width)));
    }
  });

  audio.addEventListener("timeupdate", function () {
    var t = audio.currentTime;
    if (playhead && isFinite(duration) && duration > 0) {
      var pct = (100 * Math.min(t, duration) / duration).toFixed(3) + "%";
      playhead.setAttribute("x1", pct);
      playhead.setAttribute("x2", pct);
    }
    if (clock) { clock.textContent = t.toFixed(1) + " s"; }
    segments.forEach(function (li) {
      var a = parseFloat(li.getAttribute("data-start"));
      var b = parseFloat(li.getAttribute("data-end"));
      li.classList.toggle("playing", t >= a && t < b);
    });
  });

  // choosing a value means overriding: save the reviewer a click
  document.querySelectorAll("tr.controls .value").forEach(function (input) {
    input.addEventListener("change", function () {
      var action = input.parentElement.querySelector("select.action");
      if (action && action.value === "") { action.value = "override"; }
    });
  });
})();
