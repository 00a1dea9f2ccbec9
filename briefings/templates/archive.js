/* The archive's script: chapter and transcript times that seek the player, search with filters over
   every briefing (with Pagefind's script and WebAssembly from pagefind/, imported on first use), and the
   subscribe page's copy button. Plain JavaScript, no build step, no other origin (the pages' CSP allows
   only this site's files).
   Everything it shows is set as text (textContent), never parsed as HTML: author text is not trusted.
   Without it the pages still work: every briefing is listed, and chapters and lessons are readable. */
(function () {
  "use strict";

  /* Chapters and transcript times: each button plays the briefing from its start. */
  function setUpChapters(player) {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-start]"), function (button) {
      button.addEventListener("click", function () {
        player.currentTime = Number(button.getAttribute("data-start"));
        var playing = player.play();
        if (playing) {
          // A refusal (autoplay policy, audio that fails to load) is shown by the player's own controls.
          playing.catch(function () {});
        }
      });
    });
    var buttons = Array.prototype.slice.call(document.querySelectorAll("button.chapter[data-start]"));
    // Mark the chapter being heard, for sighted listeners and (aria-current) for screen readers.
    player.addEventListener("timeupdate", function () {
      var current = null;
      buttons.forEach(function (button) {
        if (Number(button.getAttribute("data-start")) <= player.currentTime + 0.25) current = button;
      });
      buttons.forEach(function (button) {
        if (button === current) button.setAttribute("aria-current", "true");
        else button.removeAttribute("aria-current");
      });
    });
  }

  /* Words as briefings/search.py splits them: lower case, accents dropped, anything but letters and
     digits a space. A query with none (only punctuation) is no query. */
  function words(text) {
    return text.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "").replace(/[^\p{L}\p{N}]+/gu, " ").trim();
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

  /* A play button that becomes the player when pressed. Lists of briefings use it instead of an <audio>
     element each: a browser lays out every player's controls, which made showing results several times
     slower. Without JavaScript the lists keep their players. */
  function playButton(label, src) {
    var button = element("button", "Play", { type: "button", class: "play" });
    button.appendChild(element("span", " " + label.replace(/^Play /, ""), { class: "visually-hidden" }));
    button.addEventListener("click", function () {
      var player = element("audio", null, { controls: "", preload: "auto", src: src, "aria-label": label });
      button.replaceWith(player);
      player.focus();
      var playing = player.play();
      if (playing) playing.catch(function () {}); // a failure shows in the player's own controls
    });
    return button;
  }

  function upgradePlayers(list) {
    Array.prototype.forEach.call(list.querySelectorAll("audio"), function (audio) {
      audio.replaceWith(playButton(audio.getAttribute("aria-label"), audio.getAttribute("src")));
    });
  }

  var FILTERS = ["theme", "type", "region", "year", "partnership"];
  var RESULTS_PER_PAGE = 20;
  // A file named by the hex of a value's UTF-8 has at most this many characters of it: a list's name is cut
  // there, and a longer value has no bitset (briefings/frequent.py NAME_CHARACTERS).
  var NAME_CHARACTERS = 120;

  /* Search with Pagefind (pagefind/, built with the site by briefings/search.py): its script, its
     WebAssembly and only the parts of the index a query needs are fetched, on first use, and each
     result's details only when it is shown. Results rank title matches above lessons, themes, summary,
     review details and transcripts (the weights of the indexed documents); among equals, newest first. */
  function setUpSearch(form) {
    var root = form.getAttribute("data-root");
    var query = form.elements.namedItem("q");
    var status = document.getElementById("search-status");
    var results = document.getElementById("results");
    var resultsTitle = document.getElementById("results-title");
    var list = document.getElementById("results-list");
    var more = document.getElementById("results-more");
    var filters = document.getElementById("more-filters");
    var actions = document.getElementById("search-actions");
    var all = document.getElementById("all");
    var stopWords = (form.getAttribute("data-stop-words") || "").split(" ");
    var pagefind = null;
    var loading = null;
    // A full address: import() takes "pagefind/..." for a package name, not a path.
    var script = new URL(form.getAttribute("data-search"), document.baseURI).href;
    // A subscriber's archive also searches the staff-only briefings' own bundle (data-merge), merged
    // into the first with Pagefind's mergeIndex (https://pagefind.app/docs/multisite/).
    var merged = (form.getAttribute("data-merge") || "").split(" ").filter(Boolean).map(function (folder) {
      return new URL(folder, document.baseURI).href;
    });
    // The folders of the bundles searched (the archive's, then any merged into it), where each result's
    // record is (briefings/search.py: record/<id>.json).
    var bundles = [new URL("./", script).href].concat(merged);
    var matches = [];
    var shown = 0;
    // Each search is numbered: an answer that arrives after a newer search started is dropped.
    var latest = 0;
    // Typing searches when the typist pauses, not at every key (typing below).
    var TYPING_PAUSE = 300;
    var pause = null;

    // Pagefind is fetched on first use, not with the page, so the page itself stays small.
    function load() {
      if (!loading) {
        var common = merged.length ? Promise.resolve(null) : fetch(bundles[0] + "common.json").then(function (response) {
          return response.ok ? response.json() : null;
        }).then(function (found) {
          return found && /^common\/[0-9a-f]+\/$/.test(found.folder) ? bundles[0] + found.folder : null;
        }, function () {
          return null; // none: Pagefind answers every query
        });
        loading = import(script).then(function (module) {
          // In the page, not a worker: one script less to fetch, and a search takes milliseconds.
          return module.options({ noWorker: true }).then(function () {
            return module.init();
          }).then(function () {
            return Promise.all(merged.map(function (folder) { return module.mergeIndex(folder); }));
          }).then(function () {
            return common;
          }).then(function (folder) {
            frequentFolder = folder;
            pagefind = module;
            // What has loaded, for tests and scripts/bench_search.py to wait on.
            form.setAttribute("data-loaded", "all");
          });
        });
        loading.catch(function () {
          loading = null;
          status.textContent = "Sorry, the search could not be loaded. Every briefing is listed below, newest first.";
        });
      }
      return loading;
    }

    function chosen() {
      var values = {};
      FILTERS.forEach(function (name) {
        values[name] = form.elements.namedItem(name).value;
      });
      return values;
    }

    function active() {
      var values = chosen();
      return words(query.value) !== "" || FILTERS.some(function (name) { return values[name] !== ""; });
    }

    function describe(count, text, values) {
      var parts = [count === 1 ? "1 briefing" : count + " briefings"];
      if (text) parts.push((count === 1 ? "matches" : "match") + " \u201c" + text + "\u201d");
      var filters = [];
      if (values.theme) filters.push("on " + values.theme);
      if (values.type) filters.push("from a " + values.type);
      if (values.region) filters.push("in " + values.region);
      if (values.year) filters.push("published in " + values.year);
      if (values.partnership) filters.push("by " + values.partnership);
      return parts.join(" ") + (filters.length ? " " + filters.join(", ") : "") + ".";
    }

    function remember(text, values) {
      var parameters = new URLSearchParams();
      if (text) parameters.set("q", text);
      FILTERS.forEach(function (name) {
        if (values[name]) parameters.set(name, values[name]);
      });
      var search = parameters.toString();
      history.replaceState(null, "", search ? "?" + search : location.pathname);
    }

    function search() {
      clearTimeout(pause); // Enter, a filter or a shared link: at once
      var started = performance.now();
      var text = query.value.trim();
      var values = chosen();
      var asked = ++latest;
      remember(text, values);
      actions.hidden = !active();
      if (!active()) {
        results.hidden = true;
        all.hidden = false;
        status.textContent = "";
        return;
      }
      var chosenFilters = {};
      FILTERS.forEach(function (name) {
        if (values[name]) chosenFilters[name] = values[name];
      });
      // Filters alone list briefings from files of their own (listed): no need to wait for Pagefind (a
      // shared link to ?theme=neglect shows its list at once).
      var alone = words(text) === "";
      if (!pagefind && !alone) {
        status.textContent = "Loading the search\u2026";
        load().then(function () {
          if (asked === latest) search();
        }, function () {});
        return;
      }
      // The query's words but those too common to be in the index: Pagefind would still fetch the part
      // of the word index where each would be (for "the", 111 kB at 10,000 briefings) to find nothing.
      var tokens = meaningful(text);
      var term = tokens.length ? tokens.join(" ") : null;
      var found;
      if (alone) {
        // Filters alone list every briefing they match newest first, as the list below does; words typed
        // next may be frequent ones, for which their bitsets are fetched meanwhile.
        found = listed(chosenFilters);
        if (frequentFolder) {
          Object.keys(chosenFilters).forEach(function (name) {
            if (hex(chosenFilters[name]).length <= NAME_CHARACTERS) valueBitset(name, chosenFilters[name]).catch(function () {});
          });
        }
      } else if (term === null) {
        found = Promise.resolve([]); // only words too common to search for
      } else {
        found = frequently(tokens, chosenFilters).then(function (listed) {
          if (listed) return listed;
          return Promise.all([pagefind.search(term, { filters: chosenFilters }), everyWord(tokens)]).then(
            function (answers) {
              // Best first, as Pagefind gives them; equal scores are put newest first as they are shown
              // (showMore, newestAmongEquals).
              return answers[1] ? answers[0].results : [];
            }
          );
        });
      }
      found.then(function (ranked) {
        if (asked !== latest) return;
        matches = ranked;
        shown = 0;
        return showMore(asked, false).then(function () {
          if (asked !== latest) return;
          all.hidden = true;
          results.hidden = false;
          status.textContent = describe(matches.length, text, values);
          // User Timing: developer tools (and scripts/bench_search.py) read how long each search took.
          performance.measure("briefings-search", { start: started });
        });
      }).catch(function () {
        if (asked === latest) status.textContent = "Sorry, the search failed. Every briefing is listed below, newest first.";
      });
    }

    // The briefings that have every value of `chosenFilters`, newest first: the first value's list with only
    // the results every other value's list has. Not Pagefind's search without words, which fetches every
    // part of the word index (20 MB at 10,000 briefings).
    function listed(chosenFilters) {
      return Promise.all(Object.keys(chosenFilters).map(function (name) {
        return entries(name, chosenFilters[name]);
      })).then(function (each) {
        var others = each.slice(1).map(function (held) {
          return new Set(held.map(function (entry) { return entry[0]; }));
        });
        return each[0].filter(function (entry) {
          return others.every(function (ids) { return ids.has(entry[0]); });
        }).map(function (entry) {
          return { id: entry[0] };
        });
      });
    }

    // What `make()` promises, kept in `store` under `key`: asked for once a page. A failure is not kept: the
    // next search asks again.
    function once(store, key, make) {
      if (!store[key]) {
        store[key] = make();
        store[key].catch(function () {
          delete store[key];
        });
      }
      return store[key];
    }

    // A file of a bundle, as `read` reads its response; null if there is none. A bucket that does not let
    // everyone list it (as README advises) answers 403 for a file it does not have
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html: permissions).
    function fetched(url, read) {
      return fetch(url).then(function (response) {
        if (response.status === 404 || response.status === 403) return null;
        if (!response.ok) throw new Error("no " + url);
        return read(response);
      });
    }

    // The briefings with one filter's value, newest first, as [id, published (UTC, sorting as text)], from
    // every bundle searched (briefings/search.py writes them, newest first, in list/<filter>/<name>.json, the
    // name the hex of the value's UTF-8, cut short; the file maps each value it holds to its list). Each is
    // fetched once a page.
    var lists = {};
    function entries(name, value) {
      return once(lists, name + "=" + value, function () {
        return Promise.all(bundles.map(function (bundle) {
          return fetched(bundle + "list/" + name + "/" + hex(value).slice(0, NAME_CHARACTERS) + ".json", function (response) {
            return response.json();
          }).then(function (held) {
            // None: a value this page offers that a publish since has left no briefing with (the page is
            // kept for minutes, the list is not), or that no briefing of a merged bundle has.
            return held && Object.prototype.hasOwnProperty.call(held, value) ? held[value] : [];
          });
        })).then(function (held) {
          // One bundle's list is in order already; merged ones are put in order of time (a stable sort).
          return [].concat.apply([], held).sort(function (a, b) {
            return a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0;
          });
        });
      });
    }

    function hex(text) {
      return Array.from(new TextEncoder().encode(text), function (byte) {
        return byte.toString(16).padStart(2, "0");
      }).join("");
    }

    // A query whose every word is in hundreds of briefings is answered from the bundle's files for such
    // words (briefings/frequent.py), not by Pagefind, whose time grows with the square of its matches (a
    // second for a word in every briefing of 10,000). Their folder is named by common.json (load); there is
    // none in a subscriber's archive (each bundle merged has its own) or for a show not in English.
    var frequentFolder = null;
    var frequentFiles = {};
    // None (null): two first letters no word has, a filter value no briefing has, or files a publish since
    // has replaced (their folder changes with them).
    function frequentFile(path, read) {
      return once(frequentFiles, path, function () {
        return fetched(frequentFolder + path, read);
      });
    }

    // The frequent words with the first two letters of `word`.
    function alike(word) {
      if (!frequentFolder || word === "" || word.indexOf(" ") >= 0) return Promise.resolve([]);
      return frequentFile("words/" + hex(Array.from(word).slice(0, 2).join("")) + ".json", function (response) {
        return response.json();
      }).then(function (held) {
        return held || [];
      });
    }

    function frequent(word) {
      return alike(word).then(function (held) {
        return held.indexOf(word) >= 0;
      });
    }

    function bitset(path) {
      return frequentFile(path, function (response) {
        return response.arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
      });
    }

    // A frequent word's bitsets, and a filter value's bitset (named as frequent.py names them).
    function wordBitset(word) {
      return bitset("word/" + hex(word) + ".bin");
    }

    function valueBitset(name, value) {
      return bitset(name + "/" + hex(value) + ".bin");
    }

    // The briefings that match every one of `tokens` (each a frequent word) and have every value of
    // `chosenFilters`: those with every word in the title, a key lesson or a theme first, then the others,
    // each newest first (the years' lists' order), as { place } in that order (named: showMore); null if a
    // token is not a frequent word, for Pagefind to answer. Each bitset has a bit per briefing (frequent.py).
    function frequently(tokens, chosenFilters) {
      var wanted = tokens.map(words);
      var names = Object.keys(chosenFilters);
      // A quoted phrase is Pagefind's to find, its words in that order
      // (https://github.com/CloudCannon/pagefind/issues/556).
      if (tokens.join(" ").indexOf('"') >= 0) return Promise.resolve(null);
      if (names.some(function (name) { return hex(chosenFilters[name]).length > NAME_CHARACTERS; })) return Promise.resolve(null);
      return Promise.all(wanted.map(frequent)).then(function (known) {
        if (!known.every(Boolean)) return null;
        yearIds(years[0]).catch(function () {}); // meanwhile: the first results shown are among them
        return Promise.all(wanted.map(wordBitset).concat(
          names.map(function (name) { return valueBitset(name, chosenFilters[name]); })
        ));
      }).then(function (sets) {
        if (!sets || !sets[0]) return null;
        var size = sets[0].length / 2;
        var heavy = new Uint8Array(size).fill(255);
        var any = new Uint8Array(size).fill(255);
        for (var index = 0; index < sets.length; index++) {
          var set = sets[index];
          var word = index < wanted.length;
          if (set === null && !word) return []; // a value no briefing has
          if (set === null || set.length !== (word ? 2 * size : size)) return null;
          for (var byte = 0; byte < size; byte++) {
            if (word) heavy[byte] &= set[byte];
            any[byte] &= set[word ? size + byte : byte];
          }
        }
        var first = [];
        var rest = [];
        for (var at = 0; at < size; at++) {
          for (var bit = 0; any[at] >> bit; bit++) {
            if (any[at] & (1 << bit)) (heavy[at] & (1 << bit) ? first : rest).push({ place: at * 8 + bit });
          }
        }
        return first.concat(rest);
      });
    }

    // The result ids of a year's briefings, in the bitsets' order.
    function yearIds(year) {
      return frequentFile("ids/" + year + ".json", function (response) {
        return response.json();
      });
    }

    // Gives each of `found` (frequently's) its result's id, from the years' ids (newest year first: as
    // many years as the last place needs).
    function named(found) {
      var unnamed = found.filter(function (match) { return match.id === undefined; });
      if (!unnamed.length) return Promise.resolve();
      var last = Math.max.apply(null, unnamed.map(function (match) { return match.place; }));
      var ids = [];
      function walk(index) {
        if (ids.length > last || index >= years.length) return Promise.resolve();
        return yearIds(years[index]).then(function (held) {
          ids = ids.concat(held || []);
          return walk(index + 1);
        });
      }
      return walk(0).then(function () {
        unnamed.forEach(function (match) {
          match.id = ids[match.place];
        });
      });
    }

    // The words of a query as typed (Pagefind splits and stems them), but those only made of words too
    // common to be in the index (briefings/search.py's STOP_WORDS).
    function meaningful(text) {
      return text.split(/\s+/).filter(function (token) {
        return words(token).split(" ").some(function (word) { return word !== "" && stopWords.indexOf(word) < 0; });
      });
    }

    // Whether the index has every one of `tokens`. Pagefind leaves out of a search the words its index does
    // not have at all, so "neglect zzz" would find what "neglect" finds; here, as before, every word must
    // match (a word in the index but not in the briefings the filters allow leaves the whole search
    // without results). Each word is counted, not searched: with a filter no briefing has (COUNT_ONLY: not
    // one of FILTERS, the only filters briefings/search.py gives), Pagefind gives no results, only how
    // many there were before filtering (unfilteredResultCount), in a millisecond where a common word's
    // results take 130-180 ms at 10,000 briefings. It needs only the index parts the whole query fetches.
    var COUNT_ONLY = { "count only": "none" };
    function everyWord(tokens) {
      if (tokens.length < 2) return Promise.resolve(true);
      return Promise.all(tokens.map(function (token) {
        return pagefind.search(token, { filters: COUNT_ONLY });
      })).then(function (answers) {
        return answers.every(function (answer) { return answer.unfilteredResultCount > 0; });
      });
    }

    // The years of the briefings searched, newest first (the year filter's values).
    var years = Array.prototype.map.call(form.elements.namedItem("year").options, function (option) {
      return option.value;
    }).filter(Boolean).sort().reverse();

    // `matches` (best first) with each run of equal scores (copies, or briefings alike in every word
    // searched) that begins before `end` put newest first as far as `end`. A run that ends by `end` is shown
    // whole: by its records' times (fetched to be shown anyway). A longer one (a common word's: thousands)
    // from the years' lists, newest year first, as many as that needs (for a common word, the newest year's
    // alone); the years are the filter's, each briefing's in its own time zone, so around New Year equals a
    // few hours apart may come in the order of their years. Results beyond what is settled wait, in
    // Pagefind's order, for the next call ("Show more").
    function newestAmongEquals(end) {
      var ranked = matches; // a search started meanwhile has matches of its own
      var runs = [];
      for (var start = 0; start < end; ) {
        var stop = start + 1;
        // (Results listed for filters alone have no score: they are in order already.)
        while (stop < ranked.length && ranked[start].score !== undefined && ranked[stop].score === ranked[start].score) {
          stop++;
        }
        if (stop - start > 1) runs.push([start, stop]);
        start = stop;
      }
      return Promise.all(runs.map(function (run) {
        var equals = ranked.slice(run[0], run[1]);
        if (run[1] <= end) {
          return Promise.all(equals.map(record)).then(function (found) {
            var time = new Map(equals.map(function (match, index) { return [match, Date.parse(found[index].published)]; }));
            return equals.slice().sort(function (a, b) { return time.get(b) - time.get(a); });
          });
        }
        var byId = new Map(equals.map(function (match) { return [match.id, match]; }));
        var needed = Math.min(run[1], end) - run[0];
        var newest = [];
        function walk(index) {
          if (newest.length >= needed || index >= years.length) {
            var placed = new Set(newest);
            return newest.concat(equals.filter(function (match) { return !placed.has(match); }));
          }
          return entries("year", years[index]).then(function (held) {
            held.forEach(function (entry) {
              if (byId.has(entry[0])) newest.push(byId.get(entry[0]));
            });
            return walk(index + 1);
          });
        }
        return walk(0);
      })).then(function (ordered) {
        ordered.forEach(function (run, index) {
          run.forEach(function (match, offset) {
            ranked[runs[index][0] + offset] = match;
          });
        });
      });
    }

    // The next results' details, fetched (one small file each) and shown; `focus` moves the keyboard to the
    // first new one, as "Show more" does.
    function showMore(asked, focus) {
      var from = shown;
      var end = Math.min(matches.length, shown + RESULTS_PER_PAGE);
      return newestAmongEquals(end).then(function () {
        if (asked !== latest) return [];
        var showing = matches.slice(from, end);
        return named(showing).then(function () {
          return Promise.all(showing.map(record));
        });
      }).then(function (found) {
        // Dropped: a newer search's, or a page another "Show more" has shown meanwhile.
        if (asked !== latest || shown !== from) return;
        if (shown === 0) list.textContent = "";
        var fragment = document.createDocumentFragment();
        found.forEach(function (data) {
          fragment.appendChild(entry(data));
        });
        var first = list.children.length;
        list.appendChild(fragment);
        shown = end;
        more.hidden = shown >= matches.length;
        if (!more.hidden) more.textContent = "Show more results (" + (matches.length - shown) + " more)";
        var link = focus && list.children[first] && list.children[first].querySelector("a");
        if (link) link.focus();
      });
    }

    // A result's record, from the bundle that has it: the archive's, or (a staff-only briefing in a
    // subscriber's archive) a merged one's. Each is fetched once a page: a later search showing the same
    // briefing reuses it (a record's name changes with its content, search.py).
    var mergedResults = (form.getAttribute("data-merged-results") || "").split(" ");
    var records = {};
    function record(match) {
      var folders = mergedResults.indexOf(match.id) < 0 ? bundles.slice(0, 1) : bundles.slice(1);
      function next() {
        return fetch(folders.shift() + "record/" + match.id + ".json").then(function (response) {
          if (response.ok) return response.json();
          if (folders.length) return next();
          throw new Error("no record for " + match.id);
        });
      }
      return once(records, match.id, next);
    }

    function entry(record) {
      var id = "result-" + record.slug;
      var item = element("li");
      var article = element("article", null, { "aria-labelledby": id });
      var heading = element("h3", null, { id: id });
      heading.appendChild(element("a", record.title, { href: root + record.url }));
      article.appendChild(heading);
      if (record.staff) article.appendChild(element("p", "Staff only", { class: "staff-only" }));
      var details = element("dl", null, { class: "details" });
      var published = element("time", record.date, { datetime: record.published });
      var pairs = [
        ["Review", capitalise(record.type) + " (" + record.subject + ")"],
        ["Partnership", record.partnership],
      ];
      // A briefing harvested from another show: where it comes from (addresses checked to be http(s)).
      if (record.from) pairs.push(["From", element("a", record.from.title, { href: record.from.url })]);
      pairs.push(
        ["Region", record.region],
        ["Published", published],
        ["Length", record.length],
        ["Themes", record.themes.join(", ")]
      );
      pairs.forEach(function (pair) {
        details.appendChild(element("dt", pair[0]));
        var value = element("dd", typeof pair[1] === "string" ? pair[1] : null);
        if (typeof pair[1] !== "string") value.appendChild(pair[1]);
        details.appendChild(value);
      });
      article.appendChild(details);
      article.appendChild(element("h4", "Key lessons for all professionals"));
      var lessons = element("ol", null, { class: "lessons" });
      record.lessons.forEach(function (lesson) {
        lessons.appendChild(element("li", lesson));
      });
      article.appendChild(lessons);
      article.appendChild(playButton("Play " + record.title, /^https?:\/\//.test(record.media) ? record.media : root + record.media));
      item.appendChild(article);
      return item;
    }

    function clear() {
      query.value = "";
      FILTERS.forEach(function (name) {
        form.elements.namedItem(name).value = "";
      });
      search();
      query.focus();
    }

    form.hidden = false;
    upgradePlayers(all);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      search();
      if (!results.hidden) resultsTitle.focus();
    });
    // A query is searched once the typist pauses (TYPING_PAUSE ms without a key, as Pagefind's own search
    // box waits, https://pagefind.app/docs/ui/: debounceTimeoutMs), not at each key: each half-typed word
    // would fetch a part of the word index of its own ("r", "re", "rea" and "read" are in different parts;
    // typing a four-word phrase fetched 13 parts at 10,000 briefings, instead of 5) and 20 results'
    // records. Meanwhile the words typed whole (followed by a space) are fetched, as Pagefind's docs advise
    // for a search that waits (https://pagefind.app/docs/api/: preload), so the search after the pause
    // has only the last word's part left to fetch. A frequent word's bitset too (frequently): a query of
    // frequent words only is answered from them, without Pagefind.
    function typing() {
      clearTimeout(pause);
      pause = setTimeout(search, TYPING_PAUSE);
      var tokens = meaningful(query.value);
      var typed = /\s$/.test(query.value) ? tokens.length : tokens.length - 1; // the last is half typed
      tokens.forEach(function (token, index) {
        var word = words(token);
        // A half-typed word's first two letters fetch the list its word will be looked up in, and its bitset
        // once it is a frequent word that no other frequent word begins (it is likely the whole word).
        var whole = index < typed;
        if (whole && pagefind) pagefind.preload(token);
        if (!whole && Array.from(word).length < 2) return;
        alike(word).then(function (held) {
          var known = held.indexOf(word) >= 0;
          var last = held.every(function (other) { return other === word || other.indexOf(word) !== 0; });
          if (known && (whole || last)) return wordBitset(word);
        }).catch(function () {});
      });
    }
    query.addEventListener("input", typing);
    // Pagefind starts loading when a person reaches the search, a pointer pressed or the keyboard's focus
    // anywhere in the form (the box, a filter), so it has loaded by the time a query is typed or a filter
    // chosen: as Pagefind's docs advise for a search that is not run at once (https://pagefind.app/docs/api/).
    function prepare() {
      load().catch(function () {});
    }
    form.addEventListener("focusin", prepare);
    form.addEventListener("pointerdown", prepare);
    FILTERS.forEach(function (name) {
      form.elements.namedItem(name).addEventListener("change", search);
    });
    document.getElementById("search-clear").addEventListener("click", clear);
    more.addEventListener("click", function () {
      showMore(latest, true);
    });

    // A shared link (?q=...&theme=...) opens with its search done.
    var parameters = new URLSearchParams(location.search);
    if (parameters.has("q")) query.value = parameters.get("q");
    FILTERS.forEach(function (name) {
      var control = form.elements.namedItem(name);
      var wanted = parameters.get(name);
      if (wanted && Array.prototype.some.call(control.options, function (option) { return option.value === wanted; })) {
        control.value = wanted;
      }
    });
    // The filters start closed, so a phone shows the first briefing on its first screen; a wider screen,
    // or a shared link that chose one, shows them open.
    if (window.matchMedia("(min-width: 40rem)").matches || FILTERS.some(function (name) { return chosen()[name]; })) {
      filters.open = true;
    }
    if (active()) search();
  }

  /* The subscribe page's copy button, where the browser lets a page write to the clipboard. */
  function setUpCopy(button) {
    var status = document.getElementById("copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(
        function () { status.textContent = "Copied: now paste it into your podcast app."; },
        function () { status.textContent = "Sorry, it could not be copied: select the address above and copy it."; }
      );
    });
  }

  var player = document.getElementById("player");
  if (player) setUpChapters(player);
  var form = document.getElementById("search");
  if (form) setUpSearch(form);
  var copy = document.getElementById("copy-address");
  if (copy && navigator.clipboard) setUpCopy(copy);
})();
