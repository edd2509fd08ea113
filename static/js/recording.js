// What the pages that record the subject share (the consent clip, footage for an avatar): the
// format to record in and the upload of a take. Each page keeps its own steps and messages.
window.LikenessRecording = (function () {
  "use strict";

  // Chromium and Firefox record WebM (VP8/Opus); Safari MP4.
  function pickType() {
    const types = ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4"];
    return types.find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)) || "";
  }

  // Send a take as the form field `field`; resolves to {ok, answer} (the server's JSON), or
  // rejects when the network fails.
  async function upload(url, field, blob, type, csrf) {
    const form = new FormData();
    form.append(field, blob, field + (type.includes("mp4") ? ".mp4" : ".webm"));
    const response = await fetch(url, {
      method: "POST", body: form, headers: { "X-CSRFToken": csrf }, credentials: "same-origin",
    });
    return { ok: response.ok, answer: await response.json() };
  }

  return { pickType: pickType, upload: upload };
})();
