// The LMS side of a SCORM launch for the tests: scorm-again's API for the version in the page's
// query (?version=1.2 or 2004), seeded with the values in the hash (a flattened JSON of cmi.*),
// recording every value the content sets; then the package's index.html in the frame.
(function () {
  var query = new URLSearchParams(location.search);
  var version = query.get("version");
  var seed = location.hash ? JSON.parse(decodeURIComponent(location.hash.slice(1))) : null;
  var settings = { autocommit: false, lmsCommitUrl: false, logLevel: 5 };
  var api = version === "2004" ? new Scorm2004API(settings) : new Scorm12API(settings);
  if (seed) api.loadFromFlattenedJSON(seed, "");
  window.lms = { version: version, values: {}, calls: [], initialized: false, terminated: false, commits: 0 };
  var prefix = version === "2004" ? "" : "LMS";
  api.on(prefix + "Initialize", function () { window.lms.initialized = true; });
  api.on(prefix + "SetValue.cmi.*", function (element, value) {
    window.lms.values[element] = value;
    window.lms.calls.push([element, value]);
  });
  api.on(prefix + "Commit", function () { window.lms.commits += 1; });
  api.on(version === "2004" ? "Terminate" : "LMSFinish", function () { window.lms.terminated = true; });
  window.lms.api = api;
  if (version === "2004") window.API_1484_11 = api; else window.API = api;
  document.addEventListener("DOMContentLoaded", function () {
    document.getElementById("sco").src = "/pkg/index.html";
  });
})();
