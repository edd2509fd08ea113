// The lesson player of a SCORM package: plays the video inside the package and reports to the
// LMS's SCORM API (1.2: window.API, 2004: window.API_1484_11, found in a parent frame or the
// opener). It asks nothing of the site that made it: everything it shows is in the package.
//
// Progress is the share of the video really played (seeking ahead counts nothing), kept as a
// bitmap of small stretches in the suspend data, so a learner who comes back resumes where they
// stopped with what they watched still counted.
(function () {
  "use strict";
  var data = window.LESSON_DATA;
  var video = document.getElementById("lesson-video");
  var BUCKETS_MAX = 1000;
  var startedAt = Date.now();
  var finished = false;

  // The LMS ------------------------------------------------------------------------------------

  function findApi(name) {
    var frames = [window];
    if (window.opener) frames.push(window.opener);
    for (var f = 0; f < frames.length; f++) {
      var win = frames[f];
      for (var depth = 0; win && depth < 10; depth++) {
        try {
          if (win[name]) return win[name];
        } catch (e) {
          break; // a parent of another origin
        }
        if (win.parent === win) break;
        win = win.parent;
      }
    }
    return null;
  }

  function lms12(api) {
    return {
      version: "1.2",
      init: function () { return String(api.LMSInitialize("")) === "true"; },
      get: function (k) { return String(api.LMSGetValue(k) || ""); },
      set: function (k, v) { return String(api.LMSSetValue(k, String(v))) === "true"; },
      commit: function () { api.LMSCommit(""); },
      finish: function () { api.LMSFinish(""); },
      location: "cmi.core.lesson_location",
      suspend: "cmi.suspend_data",
      suspendLimit: 4096,
      readState: function () {
        var status = this.get("cmi.core.lesson_status");
        return {
          completed: status === "completed" || status === "passed" || status === "failed",
          quizDone: status === "passed" || status === "failed",
        };
      },
      begin: function () {
        var status = this.get("cmi.core.lesson_status");
        if (status === "" || status === "not attempted") this.set("cmi.core.lesson_status", "incomplete");
      },
      progress: function () {},
      complete: function () { this.set("cmi.core.lesson_status", "completed"); },
      score: function (percent, passed) {
        this.set("cmi.core.score.min", 0);
        this.set("cmi.core.score.max", 100);
        this.set("cmi.core.score.raw", percent);
        this.set("cmi.core.lesson_status", passed ? "passed" : "failed");
      },
      end: function (seconds, done) {
        this.set("cmi.core.session_time", timespan12(seconds));
        this.set("cmi.core.exit", done ? "" : "suspend");
      },
    };
  }

  function lms2004(api) {
    return {
      version: "2004",
      init: function () { return String(api.Initialize("")) === "true"; },
      get: function (k) { return String(api.GetValue(k) || ""); },
      set: function (k, v) { return String(api.SetValue(k, String(v))) === "true"; },
      commit: function () { api.Commit(""); },
      finish: function () { api.Terminate(""); },
      location: "cmi.location",
      suspend: "cmi.suspend_data",
      suspendLimit: 64000,
      readState: function () {
        var success = this.get("cmi.success_status");
        return {
          completed: this.get("cmi.completion_status") === "completed",
          quizDone: success === "passed" || success === "failed",
        };
      },
      begin: function () {
        var status = this.get("cmi.completion_status");
        if (status !== "completed") this.set("cmi.completion_status", "incomplete");
      },
      progress: function (share) { this.set("cmi.progress_measure", share.toFixed(3)); },
      complete: function () { this.set("cmi.completion_status", "completed"); },
      score: function (percent, passed) {
        this.set("cmi.score.min", 0);
        this.set("cmi.score.max", 100);
        this.set("cmi.score.raw", percent);
        this.set("cmi.score.scaled", (percent / 100).toFixed(4));
        this.set("cmi.success_status", passed ? "passed" : "failed");
      },
      end: function (seconds, done) {
        this.set("cmi.session_time", duration2004(seconds));
        this.set("cmi.exit", done ? "normal" : "suspend");
      },
    };
  }

  function timespan12(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return pad(h, 4) + ":" + pad(m, 2) + ":" + (s < 10 ? "0" : "") + s.toFixed(2);
  }

  function duration2004(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return "PT" + h + "H" + m + "M" + s.toFixed(2) + "S";
  }

  function pad(n, width) {
    var text = String(n);
    while (text.length < width) text = "0" + text;
    return text;
  }

  var api = data.version === "2004" ? findApi("API_1484_11") : findApi("API");
  var lms = api ? (data.version === "2004" ? lms2004(api) : lms12(api)) : null;
  if (lms && !lms.init()) lms = null;

  // What was watched -------------------------------------------------------------------------

  var count = Math.max(20, Math.min(BUCKETS_MAX, Math.ceil((data.seconds || 1) * 2)));
  var watched = new Uint8Array(count);
  var state = { completed: false, quizDone: false, answers: null, score: null };
  var lastTime = null;
  var dirty = false;

  function toHex(bits) {
    var out = "";
    for (var i = 0; i < bits.length; i += 4) {
      var nibble = 0;
      for (var j = 0; j < 4; j++) if (bits[i + j]) nibble |= 8 >> j;
      out += nibble.toString(16);
    }
    return out;
  }

  function fromHex(text, bits) {
    for (var i = 0; i < text.length && i * 4 < bits.length; i++) {
      var nibble = parseInt(text.charAt(i), 16) || 0;
      for (var j = 0; j < 4 && i * 4 + j < bits.length; j++) bits[i * 4 + j] = nibble & (8 >> j) ? 1 : 0;
    }
  }

  function share() {
    var n = 0;
    for (var i = 0; i < watched.length; i++) n += watched[i];
    return n / watched.length;
  }

  function mark(from, to) {
    var length = video.duration || data.seconds;
    if (!(length > 0) || !(to > from)) return;
    var first = Math.floor((from / length) * count), last = Math.ceil((to / length) * count) - 1;
    for (var i = Math.max(0, first); i <= Math.min(count - 1, last); i++) {
      if (!watched[i]) { watched[i] = 1; dirty = true; }
    }
  }

  // Reporting --------------------------------------------------------------------------------

  var lastCommit = 0;

  function save(force) {
    if (!lms) return;
    var suspend = JSON.stringify({ w: toHex(watched), n: count, a: state.answers, s: state.score });
    if (suspend.length <= lms.suspendLimit) lms.set(lms.suspend, suspend);
    lms.set(lms.location, (video.currentTime || 0).toFixed(1));
    lms.progress(Math.min(1, share()));
    if (force || Date.now() - lastCommit > 5000) {
      lms.commit();
      lastCommit = Date.now();
    }
    dirty = false;
  }

  function update() {
    var watchedShare = share();
    document.getElementById("watched-bar").value = Math.round(watchedShare * 100);
    document.getElementById("watched-percent").textContent = Math.round(watchedShare * 100) + "%";
    if (!state.completed && watchedShare + 1e-9 >= data.completionShare) {
      state.completed = true;
      if (lms) lms.complete();
      save(true);
    }
    showStatus();
    if (state.completed && data.quiz && data.quiz.length) document.getElementById("quiz").hidden = false;
  }

  function showStatus() {
    var label = document.getElementById("lesson-status");
    if (state.completed) {
      label.textContent = "Completed";
      label.className = "status done";
    } else {
      label.textContent = "Watch " + Math.round(data.completionShare * 100) + "% to complete";
      label.className = "status";
    }
  }

  video.addEventListener("timeupdate", function () {
    var now = video.currentTime;
    // Only time really played counts: a jump (a seek, a resume) moves the mark without marking.
    if (lastTime !== null && !video.seeking && now > lastTime && now - lastTime < 1.5) mark(lastTime, now);
    lastTime = now;
    if (dirty) { update(); save(false); }
  });
  video.addEventListener("seeked", function () { lastTime = video.currentTime; });
  video.addEventListener("ended", function () {
    if (lastTime !== null && video.duration - lastTime < 1.5) mark(lastTime, video.duration);
    update();
    save(true);
  });
  video.addEventListener("pause", function () { save(true); });

  // The quiz ---------------------------------------------------------------------------------

  function buildQuiz() {
    if (!data.quiz || !data.quiz.length) return;
    var form = document.getElementById("quiz-form");
    document.getElementById("quiz-intro").textContent =
      "Answer " + data.quiz.length + " question" + (data.quiz.length > 1 ? "s" : "") +
      "; " + data.masteryPercent + "% passes.";
    data.quiz.forEach(function (question, q) {
      var set = document.createElement("fieldset");
      var legend = document.createElement("legend");
      legend.textContent = (q + 1) + ". " + question.question;
      set.appendChild(legend);
      question.choices.forEach(function (choice, c) {
        var label = document.createElement("label");
        var input = document.createElement("input");
        input.type = "radio";
        input.name = "q" + q;
        input.value = String(c);
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + choice));
        set.appendChild(label);
      });
      form.appendChild(set);
    });
    var submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = "Submit answers";
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answers = data.quiz.map(function (_, q) {
        var picked = form.querySelector("input[name=q" + q + "]:checked");
        return picked ? Number(picked.value) : -1;
      });
      var right = answers.filter(function (a, q) { return a === data.quiz[q].answer; }).length;
      var percent = Math.round((100 * right) / data.quiz.length);
      var passed = percent >= data.masteryPercent;
      state.answers = answers;
      state.score = percent;
      state.quizDone = true;
      if (lms) lms.score(percent, passed);
      save(true);
      showResult(percent, passed);
    });
  }

  function showResult(percent, passed) {
    var result = document.getElementById("quiz-result");
    result.textContent = "Score " + percent + "%: " + (passed ? "passed" : "not passed yet") + ".";
    result.className = passed ? "passed" : "failed";
  }

  // Chapters ---------------------------------------------------------------------------------

  function addTrack(kind, src, label, isDefault) {
    var track = document.createElement("track");
    track.kind = kind;
    track.src = src;
    track.label = label;
    track.srclang = "en";
    if (isDefault) track.default = true;
    video.appendChild(track);
    return track;
  }

  function listChapters(track) {
    track.track.mode = "hidden";
    track.addEventListener("load", function () {
      var cues = track.track.cues, list = document.getElementById("chapter-list");
      for (var i = 0; cues && i < cues.length; i++) {
        var item = document.createElement("li"), button = document.createElement("button");
        button.type = "button";
        button.textContent = cues[i].text;
        button.dataset.start = String(cues[i].startTime);
        button.addEventListener("click", function (event) {
          video.currentTime = Number(event.currentTarget.dataset.start);
          video.play();
        });
        item.appendChild(button);
        list.appendChild(item);
      }
      document.getElementById("chapters").hidden = !(cues && cues.length);
    });
  }

  // Finishing --------------------------------------------------------------------------------

  function finish() {
    if (finished || !lms) return;
    finished = true;
    save(false);
    var done = state.completed && (!data.quiz || !data.quiz.length || state.quizDone);
    lms.end((Date.now() - startedAt) / 1000, done);
    lms.commit();
    lms.finish();
    document.getElementById("lms-note").textContent = "Your progress is saved.";
  }

  document.getElementById("save-exit").addEventListener("click", function () {
    video.pause();
    finish();
  });
  window.addEventListener("pagehide", finish);

  // Start ------------------------------------------------------------------------------------

  document.title = data.title;
  document.getElementById("lesson-title").textContent = data.title;
  document.getElementById("disclosure").textContent = data.disclosure;
  var verify = document.getElementById("verify-link");
  verify.href = data.verifyUrl;
  video.src = data.media.video;
  if (data.media.poster) video.poster = data.media.poster;
  if (data.media.captions) addTrack("captions", data.media.captions, "Captions", true);
  if (data.media.chapters) listChapters(addTrack("chapters", data.media.chapters, "Chapters", false));
  buildQuiz();

  var resumeAt = 0;
  if (lms) {
    lms.begin();
    var saved = lms.readState();
    state.completed = saved.completed;
    state.quizDone = saved.quizDone;
    try {
      var suspended = JSON.parse(lms.get(lms.suspend) || "null");
      if (suspended && suspended.n === count) fromHex(suspended.w || "", watched);
      if (suspended) { state.answers = suspended.a || null; state.score = suspended.s; }
    } catch (e) {
      // suspend data from another version of the player: start the count again
    }
    resumeAt = parseFloat(lms.get(lms.location)) || 0;
    if (state.quizDone && state.score !== null && state.score !== undefined) {
      showResult(state.score, state.score >= data.masteryPercent);
    }
    lms.commit();
  } else {
    document.getElementById("lms-note").textContent = "No LMS found: progress is not recorded.";
  }
  if (resumeAt > 0) {
    video.addEventListener("loadedmetadata", function () {
      if (resumeAt < video.duration - 0.5) video.currentTime = resumeAt;
      lastTime = null;
    }, { once: true });
  }
  update();
  window.lessonPlayer = { share: share, finish: finish, resumeAt: resumeAt };
})();
