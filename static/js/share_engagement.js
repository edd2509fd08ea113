// A campaign share page tells its own site (never a third party) that the video was played and
// how much of it was watched: 25, 50, 75 and 100 %, each step once per page view.
(function () {
  "use strict";
  var page = document.getElementById("campaign-share");
  var video = document.getElementById("campaign-video");
  if (!page || !video) return;
  var url = page.dataset.eventUrl;
  var csrf = page.dataset.csrf;
  var sent = {};

  function send(event, percent) {
    var body = new URLSearchParams({ event: event });
    if (percent) body.set("percent", String(percent));
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
      body: body,
      keepalive: true,
    }).catch(function () {});
  }

  video.addEventListener("play", function () {
    if (!sent.play) {
      sent.play = true;
      send("play");
    }
  });

  function progress() {
    if (!video.duration || !isFinite(video.duration)) return;
    var watched = (100 * video.currentTime) / video.duration;
    [25, 50, 75, 100].forEach(function (step) {
      // The last step counts at the end (the last frame rarely reports 100 % exactly).
      if (!sent[step] && (watched >= step - (step === 100 ? 1 : 0))) {
        sent[step] = true;
        send("watched", step);
      }
    });
  }
  video.addEventListener("timeupdate", progress);
  video.addEventListener("ended", function () {
    progress();
    if (!sent[100]) {
      sent[100] = true;
      send("watched", 100);
    }
  });
})();
