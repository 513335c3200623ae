// The 1EdTech LTI client-side postMessage storage, from the tool's side (lti.put_data, lti.get_data).
// Served by the tool (no inline script, so a strict script-src 'self' allows it). The element
// #lti-storage says what to do:
//   data-mode="put": store data-value under data-key in the platform's storage, then go to data-next
//                    (the platform's authorization URL), whether or not the storage answered;
//   data-mode="get": read data-key back and post the answer in the form's data-field to the tool.
// Messages go only to the platform's frame (data-target in window.parent, or the one lti.capabilities
// names) and to the platform's origins (data-origins); answers count only from those origins, with
// the message_id this page sent.
(function () {
  "use strict";
  var TIMEOUT_MS = 3000;
  var root = document.getElementById("lti-storage");
  if (!root) { return; }
  var origins = JSON.parse(root.getAttribute("data-origins") || "[]");

  function trusted(origin) {
    return origins.some(function (allowed) {
      var star = allowed.indexOf("://*.");
      if (star < 0) { return origin === allowed; }
      var scheme = allowed.slice(0, star + 3);
      var suffix = allowed.slice(star + 4);  // ".instructure.com"
      return origin.indexOf(scheme) === 0 && origin.length > scheme.length + suffix.length &&
        origin.slice(-suffix.length) === suffix && origin.slice(scheme.length).indexOf("/") < 0;
    });
  }

  function messageId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function post(frame, message) {
    var wildcard = false;
    origins.forEach(function (origin) {
      if (origin.indexOf("://*.") >= 0) { wildcard = true; return; }
      try { frame.postMessage(message, origin); } catch (e) { /* a closed or foreign frame */ }
    });
    if (wildcard) { frame.postMessage(message, "*"); }  // Canvas Cloud: the school's host is not known
  }

  // Send ``message`` to ``frame``; call done(answer) once with the trusted answer, or done(null).
  function ask(frame, message, done) {
    var id = messageId();
    var finished = false;
    message.message_id = id;
    function finish(answer) {
      if (finished) { return; }
      finished = true;
      window.removeEventListener("message", listen);
      done(answer);
    }
    function listen(event) {
      var data = event.data;
      if (!trusted(event.origin) || !data || typeof data !== "object" || data.message_id !== id ||
          data.subject !== message.subject + ".response") { return; }
      finish(data.error ? null : data);
    }
    window.addEventListener("message", listen);
    window.setTimeout(function () { finish(null); }, TIMEOUT_MS);
    post(frame, message);
  }

  function parentFrame() {
    return window.parent && window.parent !== window ? window.parent : null;
  }

  function named(name) {
    var parent = parentFrame();
    if (!parent || !name) { return null; }
    if (name === "_parent") { return parent; }
    try { return parent.frames[name] || null; } catch (e) { return null; }
  }

  // The platform's storage frame: the one the platform named, else the one lti.capabilities gives.
  function storageFrame(subject, done) {
    var frame = named(root.getAttribute("data-target"));
    var parent = parentFrame();
    if (frame || !parent) { done(frame); return; }
    ask(parent, {subject: "lti.capabilities"}, function (answer) {
      var found = null;
      ((answer && answer.supported_messages) || []).forEach(function (supported) {
        if (!found && supported && supported.subject === subject) {
          found = supported.frame ? named(supported.frame) : parent;
        }
      });
      done(found);
    });
  }

  var key = root.getAttribute("data-key");
  if (root.getAttribute("data-mode") === "put") {
    var next = root.getAttribute("data-next");
    storageFrame("lti.put_data", function (frame) {
      if (!frame) { window.location.replace(next); return; }
      ask(frame, {subject: "lti.put_data", key: key, value: root.getAttribute("data-value")}, function () {
        window.location.replace(next);  // the state cookie may still carry the login
      });
    });
  } else {
    var field = root.elements[root.getAttribute("data-field")];
    storageFrame("lti.get_data", function (frame) {
      if (!frame) { root.submit(); return; }  // the tool answers why it cannot confirm this browser
      ask(frame, {subject: "lti.get_data", key: key}, function (answer) {
        if (answer && answer.key === key && typeof answer.value === "string") { field.value = answer.value; }
        root.submit();
      });
    });
  }
}());
