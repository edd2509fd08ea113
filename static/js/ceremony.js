// The consent ceremony: record a clip (camera + microphone, MediaRecorder), upload it, and draw a
// signature on a canvas. The server checks everything again; this only gathers it.
(function () {
  "use strict";
  const section = document.getElementById("step-clip");
  if (!section) return;
  const startButton = document.getElementById("record-start");
  const stopButton = document.getElementById("record-stop");
  const preview = document.getElementById("preview");
  const elapsed = document.getElementById("elapsed");
  const status = document.getElementById("clip-status");
  const livePrompt = document.getElementById("live-prompt");
  const playbackBox = document.getElementById("playback-box");
  const playback = document.getElementById("playback");
  const csrf = document.querySelector("#sign-form input[name=csrfmiddlewaretoken]").value;
  const MAX_SECONDS = Number(section.dataset.maxSeconds) || 30;
  let recorder = null, chunks = [], stream = null, timer = null, startedAt = 0, promptTimers = [];
  let playbackUrl = null;

  function say(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  // The subject's own take, played from memory (a blob: URL, which the CSP's media-src allows).
  function showPlayback(blob) {
    hidePlayback();
    playbackUrl = URL.createObjectURL(blob);
    playback.src = playbackUrl;
    playbackBox.hidden = false;
  }

  function hidePlayback() {
    playbackBox.hidden = true;
    playback.removeAttribute("src");
    playback.load();
    if (playbackUrl) URL.revokeObjectURL(playbackUrl);
    playbackUrl = null;
  }

  // Chrome's recorder writes a WebM without its duration, so the player would show no length and
  // no usable seek bar: seeking past the end makes it find the length, then it goes back to 0.
  playback.addEventListener("loadedmetadata", () => {
    if (playback.duration !== Infinity) return;
    playback.addEventListener("durationchange", function rewind() {
      if (playback.duration === Infinity) return;
      playback.removeEventListener("durationchange", rewind);
      playback.currentTime = 0;
    });
    playback.currentTime = Number.MAX_SAFE_INTEGER;
  });

  async function start() {
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      say("This browser cannot record video; open the link in a recent Chrome, Firefox or Safari.", "error");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (error) {
      say("The camera or microphone is not available: allow them and try again (" + error.name + ").", "error");
      return;
    }
    preview.srcObject = stream;
    // Each take gets its own random challenge from the server; the clip is checked against it.
    let challenge;
    try {
      const response = await fetch(section.dataset.challengeUrl, {
        method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin",
      });
      challenge = await response.json();
      if (!response.ok) throw new Error(challenge.error || "refused");
    } catch (error) {
      stream.getTracks().forEach((track) => track.stop());
      say("The recording could not start: " + error.message + " Reload the page and try again.", "error");
      return;
    }
    chunks = [];
    hidePlayback();
    const type = LikenessRecording.pickType();
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    recorder.onstop = upload;
    recorder.start(250);
    startedAt = Date.now();
    promptTimers.push(setTimeout(() => {
      livePrompt.textContent = challenge.prompt;
      livePrompt.hidden = false;
      livePrompt.dataset.shownAt = String((Date.now() - startedAt) / 1000);
    }, challenge.at_seconds * 1000));
    promptTimers.push(setTimeout(() => { livePrompt.hidden = true; }, (challenge.at_seconds + 1.5) * 1000));
    elapsed.dataset.seconds = "0";
    timer = setInterval(() => {
      const seconds = Math.floor((Date.now() - startedAt) / 1000);
      elapsed.dataset.seconds = String(seconds);
      elapsed.textContent = seconds + " s";
      if (seconds >= MAX_SECONDS) stop();
    }, 200);
    startButton.disabled = true;
    stopButton.disabled = false;
    say("Recording… read the sentence aloud, then stop.", "recording");
  }

  function stop() {
    if (!recorder || recorder.state === "inactive") return;
    clearInterval(timer);
    promptTimers.forEach(clearTimeout);
    promptTimers = [];
    livePrompt.hidden = true;
    stopButton.disabled = true;
    recorder.stop();
    stream.getTracks().forEach((track) => track.stop());
    say("Saving your clip and checking it…", "uploading");
  }

  async function upload() {
    const type = recorder.mimeType || "video/webm";
    const blob = new Blob(chunks, { type: type });
    showPlayback(blob);
    try {
      const sent = await LikenessRecording.upload(section.dataset.uploadUrl, "clip", blob, type, csrf);
      if (sent.ok) say(sent.answer.message + " You can record it again if you wish.", "saved");
      else say(sent.answer.error, "error");
    } catch (error) {
      say("The clip could not be sent; check your connection and record again.", "error");
    }
    startButton.disabled = false;
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);

  // Signature pad: pointer strokes; the PNG goes into the hidden field when the form is sent.
  const canvas = document.getElementById("signature-pad");
  const hidden = document.querySelector("#sign-form input[name=drawn_signature]");
  const pen = canvas.getContext("2d");
  let drawing = false, drawn = false;
  pen.lineWidth = 2.5; pen.lineCap = "round"; pen.strokeStyle = "#111";
  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true; pen.beginPath(); pen.moveTo(...point(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    pen.lineTo(...point(event)); pen.stroke(); drawn = true;
  });
  ["pointerup", "pointerleave"].forEach((name) => canvas.addEventListener(name, () => { drawing = false; }));
  document.getElementById("signature-clear").addEventListener("click", () => {
    pen.clearRect(0, 0, canvas.width, canvas.height); drawn = false;
  });
  document.getElementById("sign-form").addEventListener("submit", () => {
    hidden.value = drawn ? canvas.toDataURL("image/png") : "";
  });
})();
