// The subject's footage for a footage avatar: camera + microphone through MediaRecorder for one
// to five minutes, then one upload. The server checks the footage again; this only gathers it.
(function () {
  "use strict";
  const section = document.getElementById("step-footage");
  if (!section) return;
  const startButton = document.getElementById("footage-start");
  const stopButton = document.getElementById("footage-stop");
  const preview = document.getElementById("footage-preview");
  const elapsed = document.getElementById("footage-elapsed");
  const status = document.getElementById("footage-status");
  const csrf = section.querySelector("input[name=csrfmiddlewaretoken]").value;
  const MIN_SECONDS = Number(section.dataset.minSeconds) || 60;
  const MAX_SECONDS = Number(section.dataset.maxSeconds) || 300;
  let recorder = null, chunks = [], stream = null, timer = null, startedAt = 0;

  function say(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  function seconds() {
    return Math.floor((Date.now() - startedAt) / 1000);
  }

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
    chunks = [];
    const type = LikenessRecording.pickType();
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    recorder.onstop = upload;
    recorder.start(1000);
    startedAt = Date.now();
    timer = setInterval(() => {
      const s = seconds();
      elapsed.dataset.seconds = String(s);
      elapsed.textContent = s + " s" + (s < MIN_SECONDS ? " (at least " + MIN_SECONDS + " s)" : "");
      if (s >= MAX_SECONDS) stop();
    }, 250);
    startButton.disabled = true;
    stopButton.disabled = false;
    say("Recording… read the passage aloud, calmly, looking at the camera.", "recording");
  }

  function stop() {
    if (!recorder || recorder.state === "inactive") return;
    if (seconds() < MIN_SECONDS && !window.confirm(
      "The footage is shorter than " + MIN_SECONDS + " s and will be refused. Stop anyway?")) return;
    clearInterval(timer);
    stopButton.disabled = true;
    recorder.stop();
    stream.getTracks().forEach((track) => track.stop());
    say("Saving your footage and checking it… (this can take a minute)", "uploading");
  }

  async function upload() {
    const type = recorder.mimeType || "video/webm";
    const blob = new Blob(chunks, { type: type });
    try {
      const sent = await LikenessRecording.upload(section.dataset.uploadUrl, "footage", blob, type, csrf);
      if (sent.ok) say(sent.answer.message + " You can record it again if you wish.", "saved");
      else say(sent.answer.error, "error");
    } catch (error) {
      say("The footage could not be sent; check your connection and record again.", "error");
    }
    startButton.disabled = false;
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
})();
