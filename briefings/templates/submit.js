/* The submission page's script: read the invitation from the link's fragment, check the form against
   schema.json in `briefings check`'s words, record (or take a file), keep everything in IndexedDB until the
   bucket has confirmed the upload, and upload with the invitation's two S3 presigned POSTs.
   Plain JavaScript, no build step, no other origin than the show's bucket (the page's CSP allows nothing else).
   Author text is set as text (textContent, values), never parsed as HTML. */
(function () {
  "use strict";

  var DATABASE = "briefings-submit";
  var STORE = "drafts";
  var MAX_LESSONS = 7;
  // MediaRecorder's formats, best first: AAC in MP4 where the browser has it (Safari, recent Chrome), else
  // Opus in WebM (Chrome, Firefox) or Ogg (Firefox). `briefings check` takes all three.
  var RECORDING_TYPES = ["audio/mp4", "audio/webm;codecs=opus", "audio/ogg;codecs=opus"];
  // The type a file of each extension is uploaded as when the browser gives none, or gives another kind
  // (an .m4a is often video/mp4): the POST policy takes only audio/ types. `inbox pull` decodes it to know.
  var EXTENSION_TYPES = {
    m4a: "audio/mp4", mp4: "audio/mp4", aac: "audio/aac", mp3: "audio/mpeg", wav: "audio/wav", flac: "audio/flac",
    ogg: "audio/ogg", oga: "audio/ogg", opus: "audio/ogg", webm: "audio/webm", aif: "audio/aiff", aiff: "audio/aiff"
  };
  var QUIET = 0.02; // the loudest sample of the last three seconds below -34 dBFS: speech this quiet is lost in noise
  var CLIPPED = 0.99; // samples at full scale: the microphone is overloaded and the voice distorted
  var SHORTEST = 30; // seconds: `briefings check` refuses shorter recordings
  var MAX_METADATA_BYTES = 256 * 1024; // the invitation's POST policy for briefing.json (invitation.py)

  var form = document.getElementById("submission");
  var invitation = null;
  var schema = null;
  var draftKey = null;
  var recording = null; // {blob, name, seconds}
  var attempted = false; // an upload was started and not confirmed: a reload offers Retry
  var sent = false; // confirmed: nothing is kept any more
  var timer = null;

  function byId(id) {
    return document.getElementById(id);
  }

  function element(name, text, attributes) {
    var node = document.createElement(name);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    return node;
  }

  function capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function clock(seconds) {
    var whole = Math.round(seconds);
    var minutes = Math.floor(whole / 60);
    var rest = String(whole % 60).padStart(2, "0");
    return minutes >= 60 ? Math.floor(minutes / 60) + ":" + String(minutes % 60).padStart(2, "0") + ":" + rest : minutes + ":" + rest;
  }

  function lengthLabel(seconds) {
    var whole = Math.round(seconds);
    var minutes = Math.floor(whole / 60);
    if (!minutes) return whole + " seconds";
    return minutes + (minutes === 1 ? " minute " : " minutes ") + (whole % 60) + " seconds";
  }

  function megabytes(bytes) {
    if (bytes < 1048576) return Math.max(1, Math.round(bytes / 1024)) + " KB";
    return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + " MB";
  }

  /* --- The invitation, from the fragment (#...): base64url JSON, made by `briefings invite` ------------- */

  function readInvitation() {
    var text = location.hash.replace(/^#/, "");
    if (!text) {
      return { problem: "This page is for briefings the producer has asked for, and opens from the link in their message. Open that link again, or ask the producer for a new one." };
    }
    var found;
    try {
      var binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
      var bytes = Uint8Array.from(binary, function (character) { return character.charCodeAt(0); });
      found = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (error) {
      found = null;
    }
    var valid = found && found.v === 1 && typeof found.slug === "string" && typeof found.expires === "string" &&
      typeof found.max_bytes === "number" && found.fixed && typeof found.fixed === "object" &&
      [found.recording, found.metadata].every(function (target) {
        return target && typeof target.url === "string" && target.fields && typeof target.fields === "object";
      });
    if (!valid) {
      return { problem: "This link is incomplete or damaged. Copy the whole link from the producer's message into the address bar, or ask the producer for a new one." };
    }
    // The bucket the show publishes to, and no other: a forged link could name someone else's.
    var allowed = form.getAttribute("data-upload-urls").split(" ").filter(Boolean);
    if ([found.recording.url, found.metadata.url].some(function (url) { return allowed.indexOf(bucketOf(url)) < 0; })) {
      return { problem: "This link does not belong to this site: it would send your recording elsewhere. Ask the producer for a new one." };
    }
    if (!(new Date(found.expires) > new Date())) {
      return { problem: "This link expired on " + longDate(new Date(found.expires)) + ". Ask the producer for a new one." };
    }
    return { invitation: found };
  }

  // An upload address as upload_urls (briefings/submit_form.py) gives it: no trailing slash, query or fragment.
  function bucketOf(url) {
    try {
      var parsed = new URL(url);
      return parsed.origin + parsed.pathname.replace(/\/$/, "");
    } catch (error) {
      return null;
    }
  }

  function longDate(moment) {
    return moment.toLocaleString("en-GB", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  /* --- A validator for the part of JSON Schema that schema.json uses ------------------------------------
     The page's CSP allows no eval, and Ajv (like most JSON Schema libraries) compiles schemas into code with
     `new Function`; it would also be the page's only third-party code. schema.json (briefings/submit_form.py)
     uses: type, properties, required, additionalProperties, items, minItems, maxItems, uniqueItems, minLength,
     maxLength, minimum, maximum, enum, pattern, format (date-time, uri), allOf, not and $ref to $defs. Its
     `x-message` is check's words for a rule that fails; the other messages are validation.explain's. */

  function defaultMessage(keyword, rule, value) {
    switch (keyword) {
      case "required": return ["is missing", "fill it in"];
      case "minLength": return ["is empty", "fill it in"];
      case "maxLength": return ["is longer than " + rule + " characters", "shorten it"];
      case "minItems": return ["is empty", "add at least one"];
      case "maxItems": return ["has more than " + rule, "keep only the most important ones"];
      case "uniqueItems": return ["lists the same choice twice", "keep only one"];
      case "enum": return ["must be one of: " + rule.join(", "), "use one of the values listed"];
      case "additionalProperties": return ["unknown field `" + value + "`", "remove it"];
      case "uri": return ["is not a web address", "give the full address starting with https://"];
      default: return ["must be " + (keyword === "type" ? rule : "as the form asks"), "see the form's hint"];
    }
  }

  // RFC 3339 date-times, as pydantic's AwareDatetime reads them, with validation.explain's and
  // submission._plausible_year's words for each way one can be wrong.
  function dateTimeProblem(text) {
    if (!text) return ["is empty", "fill it in"];
    var parts = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(text);
    if (!parts) return ["is not a valid date and time", "write it as YYYY-MM-DDTHH:MM:SS+00:00, e.g. 2026-03-12T10:00:00+00:00"];
    var year = Number(parts[1]), month = Number(parts[2]), day = Number(parts[3]);
    var calendar = new Date(Date.UTC(year, month - 1, day));
    if (month < 1 || month > 12 || calendar.getUTCDate() !== day || Number(parts[4]) > 23 || Number(parts[5]) > 59) {
      return ["is not a date that exists", "check the day and the month (e.g. there is no 30 February)"];
    }
    if (!parts[8]) return ["has no timezone", "add one, e.g. 2026-03-12T10:00:00+00:00 for 10am UK winter time"];
    if (year < 1970 || year >= 2100) {
      return ["is in the year " + year, "give the date the review was published, e.g. 2026-03-12T10:00:00+00:00"];
    }
    return null;
  }

  function typeOf(value) {
    if (Array.isArray(value)) return "array";
    if (value === null) return "null";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
  }

  function validate(rules, value, path, errors) {
    if (rules.$ref) rules = rules.$ref.replace(/^#\//, "").split("/").reduce(function (node, part) { return node[part]; }, schema);
    var before = errors.length;
    function fail(keyword, rule, detail, at) {
      var said = defaultMessage(keyword, rule, detail);
      errors.push({ path: at || path, message: said[0], fix: said[1] });
    }
    var kind = typeOf(value);
    if (rules.type && rules.type !== kind && !(rules.type === "number" && kind === "integer")) {
      fail("type", rules.type);
    } else {
      if (rules.enum && value === "") fail("minLength", 1); // a choice not made yet
      else if (rules.enum && rules.enum.indexOf(value) < 0) fail("enum", rules.enum);
      if (kind === "string") {
        var length = Array.from(value).length;
        if (rules.minLength !== undefined && length < rules.minLength) fail("minLength", rules.minLength);
        else if (rules.maxLength !== undefined && length > rules.maxLength) fail("maxLength", rules.maxLength);
        if (rules.format === "date-time") {
          var problem = dateTimeProblem(value);
          if (problem) errors.push({ path: path, message: problem[0], fix: problem[1] });
        }
        if (rules.format === "uri" && value && !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s]+$/.test(value)) fail("uri");
        if (rules.pattern && !new RegExp(rules.pattern, "u").test(value) && errors.length === before) fail("pattern", rules.pattern);
      }
      if (kind === "number" || kind === "integer") {
        if (rules.minimum !== undefined && value < rules.minimum) fail("minimum", rules.minimum);
        if (rules.maximum !== undefined && value > rules.maximum) fail("maximum", rules.maximum);
      }
      if (kind === "array") {
        if (rules.minItems !== undefined && value.length < rules.minItems) fail("minItems", rules.minItems);
        if (rules.maxItems !== undefined && value.length > rules.maxItems) fail("maxItems", rules.maxItems);
        if (rules.uniqueItems && new Set(value).size !== value.length) fail("uniqueItems", true);
        if (rules.items) value.forEach(function (item, index) { validate(rules.items, item, path.concat([index]), errors); });
      }
      if (kind === "object") {
        (rules.required || []).forEach(function (name) {
          if (!(name in value)) fail("required", name, null, path.concat([name]));
        });
        Object.keys(value).forEach(function (name) {
          if (rules.properties && rules.properties[name]) validate(rules.properties[name], value[name], path.concat([name]), errors);
          else if (rules.additionalProperties === false) fail("additionalProperties", false, name);
        });
      }
      (rules.allOf || []).forEach(function (part) { validate(part, value, path, errors); });
      if (rules.not && validate(rules.not, value, path, []).length === 0) fail("not", rules.not);
    }
    if (rules["x-message"] && errors.length > before) {
      errors.length = before;
      errors.push({ path: path, message: rules["x-message"][0], fix: rules["x-message"][1] });
    }
    return errors;
  }

  /* --- The form ---------------------------------------------------------------------------------------- */

  function addRow(list, kind, values) {
    var number = list.children.length + 1;
    var item = element("li", null, { class: "row" });
    if (kind === "lesson") {
      var lessonId = "lesson-" + number;
      item.appendChild(element("label", "Key lesson " + number, { for: lessonId }));
      var text = element("textarea", null, { id: lessonId, rows: "3", "data-path": "key_lessons." + (number - 1), "aria-describedby": "lessons-hint" });
      text.value = values || "";
      item.appendChild(text);
    } else {
      var startId = "chapter-start-" + number, titleId = "chapter-title-" + number;
      var start = element("div", null, { class: "chapter-start" });
      start.appendChild(element("label", "Chapter " + number + " starts at (minutes:seconds)", { for: startId }));
      var startInput = element("input", null, { id: startId, type: "text", inputmode: "numeric", placeholder: "04:30", "data-path": "chapters." + (number - 1) + ".start", autocomplete: "off" });
      startInput.value = (values && values.start) || "";
      start.appendChild(startInput);
      var title = element("div", null, { class: "chapter-title" });
      title.appendChild(element("label", "Chapter " + number + " title", { for: titleId }));
      var titleInput = element("input", null, { id: titleId, type: "text", "data-path": "chapters." + (number - 1) + ".title", autocomplete: "off" });
      titleInput.value = (values && values.title) || "";
      title.appendChild(titleInput);
      item.appendChild(start);
      item.appendChild(title);
    }
    var name = kind === "lesson" ? "key lesson " + number : "chapter " + number;
    var remove = element("button", "Remove " + name, { type: "button", class: "secondary remove" });
    remove.addEventListener("click", function () {
      var values = rowValues(list, kind);
      values.splice(number - 1, 1);
      fillRows(list, kind, values);
      var focus = list.querySelector("li:nth-child(" + Math.min(number, list.children.length) + ") textarea, li:nth-child(" + Math.min(number, list.children.length) + ") input");
      (focus || byId(kind === "lesson" ? "add-lesson" : "add-chapter")).focus();
      saveDraft();
    });
    item.appendChild(remove);
    list.appendChild(item);
    updateRowButtons();
    return item;
  }

  function rowValues(list, kind) {
    return Array.prototype.map.call(list.children, function (item) {
      var inputs = item.querySelectorAll("textarea, input");
      return kind === "lesson" ? inputs[0].value : { start: inputs[0].value, title: inputs[1].value };
    });
  }

  function fillRows(list, kind, values) {
    list.textContent = "";
    values.forEach(function (value) { addRow(list, kind, value); });
    updateRowButtons();
  }

  function updateRowButtons() {
    var lessons = byId("lessons");
    byId("add-lesson").disabled = lessons.children.length >= MAX_LESSONS;
    // At least one box stays for a key lesson: the form asks for one or more.
    Array.prototype.forEach.call(lessons.querySelectorAll(".remove"), function (button) {
      button.hidden = lessons.children.length < 2;
    });
  }

  var FIELDS = [
    ["title", "title"], ["summary", "summary"], ["review.type", "review-type"], ["review.subject", "review-subject"],
    ["review.partnership", "review-partnership"], ["review.region", "review-region"],
    ["review.report_url", "review-report-url"], ["author.name", "author-name"], ["author.role", "author-role"]
  ];
  // In the form's order.
  var FIXED_LABELS = {
    "review.type": "Review type", "review.partnership": "Safeguarding partnership", "review.region": "Region",
    "review.published": "When the review is published"
  };

  function formValues() {
    var values = {};
    FIELDS.forEach(function (pair) { values[pair[0]] = byId(pair[1]).value; });
    values.published_date = byId("published-date").value;
    values.published_time = byId("published-time").value;
    values.key_lessons = rowValues(byId("lessons"), "lesson");
    values.chapters = rowValues(byId("chapters"), "chapter");
    values.themes = Array.prototype.filter.call(form.querySelectorAll("input[name=themes]"), function (box) { return box.checked; })
      .map(function (box) { return box.value; });
    return values;
  }

  function restoreForm(values) {
    FIELDS.forEach(function (pair) {
      if (typeof values[pair[0]] === "string") byId(pair[1]).value = values[pair[0]];
    });
    byId("published-date").value = values.published_date || "";
    byId("published-time").value = values.published_time || "10:00";
    fillRows(byId("lessons"), "lesson", values.key_lessons && values.key_lessons.length ? values.key_lessons : [""]);
    fillRows(byId("chapters"), "chapter", values.chapters || []);
    Array.prototype.forEach.call(form.querySelectorAll("input[name=themes]"), function (box) {
      box.checked = (values.themes || []).indexOf(box.value) >= 0;
    });
    showZone();
  }

  // The time zone of the author's computer on the chosen day (+01:00 in a UK summer), so the time they
  // give is the one they mean: the schema, like briefing.yaml, wants a date and time with its time zone.
  function offsetOn(date, time) {
    var day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    var hour = /^(\d{2}):(\d{2})$/.exec(time);
    if (!day || !hour) return null;
    var local = new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3]), Number(hour[1]), Number(hour[2]));
    var minutes = -local.getTimezoneOffset();
    var sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    return sign + String(Math.floor(minutes / 60)).padStart(2, "0") + ":" + String(minutes % 60).padStart(2, "0");
  }

  function showZone() {
    var offset = offsetOn(byId("published-date").value, byId("published-time").value);
    byId("published-zone").textContent = "In your computer's time zone" + (offset ? " (UTC" + offset + " on that day)." : ".");
  }

  // mm:ss or hh:mm:ss as seconds, as submission._seconds reads a chapter start; the text itself when it is
  // not a time, for the schema to refuse in check's words.
  function seconds(text) {
    var trimmed = text.trim();
    if (!/^(\d{1,2}:)?\d{1,2}:\d{2}(\.\d+)?$/.test(trimmed)) return trimmed;
    var parts = trimmed.split(":").map(Number);
    if (parts.slice(1).some(function (part) { return part >= 60; })) return trimmed;
    return parts.reduce(function (total, part) { return total * 60 + part; }, 0);
  }

  // What the page uploads as briefing.json: briefing.yaml's fields (without the files, which `inbox pull`
  // names), with the producer's fixed fields put in.
  function metadata(values) {
    function text(value) {
      return value.replace(/\s+/g, " ").trim();
    }
    var date = values.published_date, time = values.published_time;
    var offset = offsetOn(date, time);
    var data = {
      title: text(values.title),
      summary: text(values.summary),
      review: {
        type: values["review.type"],
        subject: text(values["review.subject"]),
        partnership: text(values["review.partnership"]),
        region: text(values["review.region"]),
        report_url: values["review.report_url"].trim(),
        published: date ? date + "T" + (time || "00:00") + ":00" + (offset || "") : ""
      },
      author: { name: text(values["author.name"]), role: text(values["author.role"]) },
      key_lessons: values.key_lessons.map(text).filter(Boolean),
      themes: values.themes,
      chapters: values.chapters
        .filter(function (chapter) { return chapter.start.trim() || chapter.title.trim(); })
        .map(function (chapter) { return { start: seconds(chapter.start), title: text(chapter.title) }; })
    };
    Object.keys(invitation.fixed).forEach(function (path) {
      data.review[path.split(".")[1]] = invitation.fixed[path];
    });
    return data;
  }

  function control(path) {
    if (path === "key_lessons") return byId("lessons").querySelector("textarea");
    if (path === "themes" || /^themes\./.test(path)) return form.querySelector("input[name=themes]");
    if (path === "chapters") return form.querySelector("[data-path='chapters.0.start']");
    if (/^chapters\.\d+$/.test(path)) return form.querySelector("[data-path='" + path + ".start']");
    return form.querySelector("[data-path='" + path + "']");
  }

  function labelOf(path, node) {
    if (path === "themes" || /^themes\./.test(path)) return "Themes";
    if (path === "key_lessons") return "Key lessons";
    if (path === "chapters") return "Chapters";
    if (path === "review.published") return "Publication date";
    if (path === "recording") return "Your recording";
    return node && node.labels && node.labels.length ? node.labels[0].textContent : path;
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".error-message"), function (node) { node.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
      var described = (node.getAttribute("aria-describedby") || "").split(" ").filter(function (id) { return !/^error-/.test(id); });
      if (described.length) node.setAttribute("aria-describedby", described.join(" "));
      else node.removeAttribute("aria-describedby");
    });
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (node) { node.classList.remove("field-error"); });
    byId("error-summary").hidden = true;
  }

  // Each problem beside its field (and named by aria-describedby), and all of them in a summary of links at
  // the top that takes focus: the GOV.UK Design System's error pattern.
  function showErrors(errors) {
    clearErrors();
    var list = byId("error-summary").querySelector("ul");
    list.textContent = "";
    var seen = {};
    errors.forEach(function (error) {
      var path = error.path.join(".");
      if (seen[path]) return;
      seen[path] = true;
      var node = control(path) || control(error.path.slice(0, -1).join("."));
      var label = labelOf(path, node);
      var sentence = label + " " + error.message + ": " + error.fix + ".";
      if (node) {
        var id = "error-" + (node.id || path.replace(/\W/g, "-"));
        var field = node.closest(".row, .field, .chapter-start, .chapter-title") || node.parentNode;
        if (!byId(id)) {
          var message = element("p", sentence, { class: "error-message", id: id });
          var anchor = field.querySelector("label, legend");
          if (node.type === "checkbox") field.querySelector("legend").after(message);
          else if (anchor && anchor.nextElementSibling && anchor.nextElementSibling.classList.contains("hint")) anchor.nextElementSibling.after(message);
          else if (anchor) anchor.after(message);
          else field.prepend(message);
        }
        field.classList.add("field-error");
        node.setAttribute("aria-invalid", "true");
        node.setAttribute("aria-describedby", ((node.getAttribute("aria-describedby") || "") + " " + id).trim());
      }
      var item = element("li");
      var link = element("a", sentence, { href: "#" + (node ? node.id : "submission") });
      link.addEventListener("click", function (event) {
        event.preventDefault();
        if (node) {
          node.focus();
          node.scrollIntoView({ block: "center" });
        }
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    var summary = byId("error-summary");
    summary.hidden = false;
    summary.focus();
  }

  function check(values) {
    var data = metadata(values);
    var errors = validate(schema, data, [], []);
    var starts = data.chapters.map(function (chapter) { return chapter.start; });
    if (starts.every(function (start) { return typeof start === "number"; }) &&
        starts.some(function (start, index) { return index > 0 && start <= starts[index - 1]; })) {
      // Briefing._ascending's words: JSON Schema cannot say "in order".
      errors.push({ path: ["chapters"], message: "are not in order of start time", fix: "list chapters from the start of the recording" });
    }
    if (!recording) {
      errors.push({ path: ["recording"], message: "is missing", fix: "record it on this page, or choose a file" });
    } else if (recording.blob.size > invitation.max_bytes) {
      errors.push({ path: ["recording"], message: "is " + megabytes(recording.blob.size) + ", more than the " + megabytes(invitation.max_bytes) + " this link takes", fix: "record a shorter briefing, or ask the producer for a link that takes more" });
    }
    if (new Blob([JSON.stringify(data)]).size > MAX_METADATA_BYTES) {
      errors.push({ path: ["chapters"], message: "make the answers longer than the 256 KB a briefing may have", fix: "keep only the main chapters" });
    }
    return { data: data, errors: errors };
  }

  /* --- Keeping it: IndexedDB, until the bucket has confirmed the upload -------------------------------- */

  function database() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function stored(mode, action) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = action(transaction.objectStore(STORE));
        transaction.oncomplete = function () { db.close(); resolve(request.result); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function readDraft() {
    return stored("readonly", function (store) { return store.get(draftKey); });
  }

  function writeDraft(draft) {
    return stored("readwrite", function (store) { return store.put(draft, draftKey); });
  }

  // Every change is kept (a field's change, a pause in typing, a recording); IndexedDB runs the writes in order.
  function saveDraft() {
    if (sent) return Promise.resolve();
    return writeDraft({ form: formValues(), recording: recording, attempted: attempted, sent: false });
  }

  /* --- Recording --------------------------------------------------------------------------------------- */

  function audioType(type, name) {
    if (/^audio\//.test(type)) return type;
    var extension = (/\.([a-z0-9]+)$/i.exec(name || "") || [])[1];
    return EXTENSION_TYPES[(extension || "").toLowerCase()] || "audio/octet-stream";
  }

  function useRecording(blob, name, seconds) {
    recording = { blob: blob, name: name, seconds: seconds };
    var player = byId("playback");
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(blob);
    byId("recording-ready").hidden = false;
    describeRecording();
    if (seconds === null) {
      player.addEventListener("loadedmetadata", function measured() {
        player.removeEventListener("loadedmetadata", measured);
        if (isFinite(player.duration) && recording && recording.blob === blob) {
          recording.seconds = player.duration;
          describeRecording();
          saveDraft();
        }
      });
    }
  }

  function describeRecording() {
    var about = recording.name + ", " + megabytes(recording.blob.size);
    if (recording.seconds !== null) about += ", " + lengthLabel(recording.seconds);
    about += ".";
    if (recording.seconds !== null && recording.seconds < SHORTEST) {
      about += " It is shorter than " + SHORTEST + " seconds, which the producer's checks refuse: record a little more.";
    }
    byId("recording-about").textContent = about;
  }

  function startRecording() {
    var status = byId("level-warning");
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      status.textContent = "This browser cannot record. Record on your phone or computer's recorder app, then choose the file below.";
      return;
    }
    navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } }).then(function (stream) {
      var type = RECORDING_TYPES.filter(function (candidate) { return MediaRecorder.isTypeSupported(candidate); })[0];
      var recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
      var chunks = [];
      var context = new AudioContext();
      context.resume();
      var analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      context.createMediaStreamSource(stream).connect(analyser);
      var samples = new Float32Array(analyser.fftSize);
      var peaks = [];
      var began = Date.now();
      var clippedAt = null;
      var warning = "Recording. Press Stop recording when you have finished.";
      recorder.ondataavailable = function (event) {
        if (event.data.size) chunks.push(event.data);
      };
      recorder.onstop = function () {
        clearInterval(timer);
        stream.getTracks().forEach(function (track) { track.stop(); });
        context.close();
        byId("level").value = 0;
        var blobType = recorder.mimeType || type || "audio/webm";
        var extension = /mp4/.test(blobType) ? "m4a" : /ogg/.test(blobType) ? "ogg" : "webm";
        // Chrome's WebM has no duration in its header: the length is the time recorded.
        useRecording(new Blob(chunks, { type: blobType }), "recording." + extension, (Date.now() - began) / 1000);
        byId("record").textContent = "Record again";
        byId("record").hidden = false;
        byId("stop").hidden = true;
        byId("record").focus();
        status.textContent = "Recorded. Listen back below; record again if you want to.";
        saveDraft();
      };
      timer = setInterval(function () {
        analyser.getFloatTimeDomainData(samples);
        var peak = 0;
        for (var index = 0; index < samples.length; index += 1) peak = Math.max(peak, Math.abs(samples[index]));
        byId("level").value = Math.min(1, peak);
        byId("level").textContent = Math.round(peak * 100) + "%";
        var elapsed = (Date.now() - began) / 1000;
        byId("elapsed").textContent = clock(elapsed);
        peaks.push(peak);
        if (peaks.length > 30) peaks.shift(); // three seconds at ten a second
        // A warning stays three seconds after what set it off, so it can be read.
        if (peak >= CLIPPED) clippedAt = elapsed;
        var said = "Recording. Press Stop recording when you have finished.";
        if (clippedAt !== null && elapsed - clippedAt < 3) {
          said = "Too loud: your voice is distorting. Move a little further from the microphone, or turn its level down.";
        } else if (elapsed > 3 && Math.max.apply(null, peaks) < QUIET) {
          said = "Very quiet: we can hardly hear you. Move closer to the microphone, or turn its level up.";
        }
        if (said !== warning) {
          warning = said;
          status.textContent = said;
        }
      }, 100);
      recorder.start(1000);
      byId("record").hidden = true;
      byId("stop").hidden = false;
      byId("stop").focus();
      status.textContent = "Recording. Press Stop recording when you have finished.";
      byId("stop").onclick = function () { recorder.stop(); };
    }, function () {
      status.textContent = "The microphone could not be used. Allow this page to use it (in the address bar), or choose a recording file below.";
    });
  }

  /* --- Upload: two S3 presigned POSTs, the recording first ------------------------------------------- */

  function post(target, extra, blob, name, progress) {
    return new Promise(function (resolve, reject) {
      var body = new FormData();
      Object.keys(target.fields).forEach(function (key) { body.append(key, target.fields[key]); });
      Object.keys(extra).forEach(function (key) { body.append(key, extra[key]); });
      body.append("file", blob, name); // last: S3 ignores every field after the file
      var request = new XMLHttpRequest();
      request.open("POST", target.url);
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) progress(event.loaded / event.total);
      };
      request.onload = function () {
        if (request.status >= 200 && request.status < 300) resolve();
        else reject(new Error((/<Code>(\w+)<\/Code>/.exec(request.responseText || "") || [])[1] || String(request.status)));
      };
      request.onerror = function () { reject(new Error("network")); };
      request.send(body);
    });
  }

  var announced = -1;
  function showProgress(fraction) {
    var percent = Math.floor(fraction * 100);
    byId("progress").value = percent;
    // The live region says every tenth, not every event: a screen reader would read nothing else.
    var tenth = Math.floor(percent / 10) * 10;
    if (tenth !== announced) {
      announced = tenth;
      byId("upload-status").textContent = "Sending: " + tenth + "%";
    }
  }

  function failed(error) {
    var reason = error.message;
    var text = reason === "AccessDenied" || reason === "403"
      ? "The producer's storage refused the upload: the link may have expired or been withdrawn. Ask the producer for a new one."
      : reason === "EntityTooLarge"
        ? "The recording is larger than this link takes. Ask the producer for a link that takes more."
        : "Sending stopped before it finished (the connection dropped or the storage did not answer). Your recording and answers are kept in this browser, even if you close the page: press Retry.";
    byId("upload-status").textContent = text;
    byId("retry").hidden = false;
    byId("send").disabled = false;
    byId("retry").focus();
  }

  function upload() {
    var checked = check(formValues());
    if (checked.errors.length) {
      showErrors(checked.errors);
      return;
    }
    clearErrors();
    byId("send").disabled = true;
    byId("retry").hidden = true;
    byId("progress-row").hidden = false;
    announced = -1;
    var metadataBlob = new Blob([JSON.stringify(checked.data, null, 1)], { type: "application/json" });
    // Sent from what IndexedDB holds, so what is sent is what a retry (even after a reload) would send.
    attempted = true;
    saveDraft()
      .then(readDraft)
      // A browser that keeps nothing (IndexedDB off) still sends what it holds; a retry then needs the page open.
      .catch(function () { return { recording: recording }; })
      .then(function (draft) {
        var kept = draft.recording;
        var share = kept.blob.size / (kept.blob.size + metadataBlob.size);
        return post(invitation.recording, { "Content-Type": audioType(kept.blob.type, kept.name) }, kept.blob, kept.name, function (fraction) {
          showProgress(fraction * share);
        }).then(function () {
          // The metadata last: its presence tells `inbox pull` the upload is complete.
          return post(invitation.metadata, {}, metadataBlob, "briefing.json", function (fraction) {
            showProgress(share + fraction * (1 - share));
          });
        });
      })
      .then(function () {
        showProgress(1);
        sent = true;
        return writeDraft({ sent: true, at: new Date().toISOString() });
      })
      .then(received, failed);
  }

  function received() {
    form.hidden = true;
    byId("received").hidden = false;
    document.title = "Received - " + document.title.replace(/^Received - /, "");
    byId("page-title").textContent = "Briefing received";
    byId("page-title").focus();
  }

  /* --- Start --------------------------------------------------------------------------------------------- */

  function showFixed() {
    var list = byId("fixed");
    Object.keys(FIXED_LABELS).forEach(function (path) {
      if (!(path in invitation.fixed)) return;
      var value = invitation.fixed[path];
      if (path === "review.published") value = longDate(new Date(value));
      list.appendChild(element("dt", FIXED_LABELS[path]));
      list.appendChild(element("dd", path === "review.type" ? capitalise(value) : value));
      var field = form.querySelector("[data-field='" + path + "']");
      if (field) field.hidden = true;
    });
    if (list.children.length) {
      list.before(element("p", "The producer has filled these in:", { class: "hint" }));
      list.hidden = false;
    }
  }

  function start() {
    byId("needs-script").hidden = true;
    var read = readInvitation();
    if (read.problem) {
      var message = byId("no-invitation");
      message.appendChild(element("p", read.problem, { class: "lead" }));
      message.hidden = false;
      return;
    }
    invitation = read.invitation;
    draftKey = invitation.metadata.fields.key;
    byId("invitation-details").textContent = "Briefing: " + invitation.slug + ". This link works until " +
      longDate(new Date(invitation.expires)) + "; recordings up to " + megabytes(invitation.max_bytes) + ".";
    showFixed();
    Promise.all([
      fetch(form.getAttribute("data-schema")).then(function (response) { return response.json(); }),
      readDraft().catch(function () { return null; })
    ]).then(function (found) {
      schema = found[0];
      var draft = found[1];
      if (draft && draft.sent) {
        sent = true;
        received();
        return;
      }
      restoreForm((draft && draft.form) || {});
      if (draft && draft.recording) {
        useRecording(draft.recording.blob, draft.recording.name, draft.recording.seconds);
      }
      attempted = Boolean(draft && draft.attempted);
      if (attempted) {
        var restored = byId("restored");
        restored.textContent = "Your last upload did not finish. Your answers and recording are kept: press Retry to send them again.";
        restored.hidden = false;
        byId("retry").hidden = false;
      } else if (draft) {
        byId("restored").textContent = "Your answers and recording from last time are kept.";
        byId("restored").hidden = false;
      }
      form.hidden = false;
    }, function () {
      var message = byId("no-invitation");
      message.appendChild(element("p", "The page did not load completely. Check your connection and reload it.", { class: "lead" }));
      message.hidden = false;
    });
    byId("add-lesson").addEventListener("click", function () {
      addRow(byId("lessons"), "lesson").querySelector("textarea").focus();
    });
    byId("add-chapter").addEventListener("click", function () {
      addRow(byId("chapters"), "chapter").querySelector("input").focus();
    });
    byId("record").addEventListener("click", startRecording);
    byId("recording-file").addEventListener("change", function () {
      var file = byId("recording-file").files[0];
      if (file) {
        useRecording(file, file.name, null);
        saveDraft();
      }
    });
    ["published-date", "published-time"].forEach(function (id) { byId(id).addEventListener("change", showZone); });
    var pending = null;
    form.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(saveDraft, 400);
    });
    form.addEventListener("change", function () { saveDraft(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      upload();
    });
    byId("retry").addEventListener("click", upload);
  }

  start();
})();
