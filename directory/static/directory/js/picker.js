/* Progressive enhancement for the organisation / people / staff pickers of the interaction
   form. Without JavaScript the "Find" buttons re-render the form on the server; with it,
   typing shows suggestions (from /interactions/pick/<kind>/?q=) as checkboxes to tick. */
(function () {
  "use strict";

  function chosenValues(fieldset, name) {
    var values = {};
    fieldset.querySelectorAll('input[type="checkbox"][name="' + name + '"]:checked').forEach(function (box) {
      values[box.value] = true;
    });
    return values;
  }

  function render(fieldset, name, results, query) {
    var target = fieldset.querySelector(".picker-matches");
    if (!target) { return; }
    // Keep suggestions the user already ticked: move them to the chosen list.
    var chosenList = fieldset.querySelector(".picker-chosen");
    target.querySelectorAll('input[type="checkbox"]:checked').forEach(function (box) {
      var item = box.closest("li");
      if (chosenList && item) {
        var none = chosenList.querySelector(".picker-none");
        if (none) { none.remove(); }
        chosenList.appendChild(item);
      }
    });
    target.textContent = "";
    if (!query) { return; }
    var chosen = chosenValues(fieldset, name);
    var fresh = results.filter(function (r) { return !chosen[r.id]; });
    var note = document.createElement("p");
    if (!fresh.length) {
      note.className = "muted";
      note.textContent = fieldset.getAttribute("data-none-text") || "No matches.";
      target.appendChild(note);
      return;
    }
    note.textContent = fieldset.getAttribute("data-matches-text") || "Matches — tick to add:";
    target.appendChild(note);
    var list = document.createElement("ul");
    list.className = "plain-list";
    fresh.forEach(function (r) {
      var li = document.createElement("li");
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = name;
      box.value = r.id;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + r.label));
      li.appendChild(label);
      list.appendChild(li);
    });
    target.appendChild(list);
  }

  function setup(fieldset) {
    var name = fieldset.getAttribute("data-picker");
    var url = fieldset.getAttribute("data-pick-url");
    var input = fieldset.querySelector('.picker-search input[type="search"]');
    if (!name || !url || !input) { return; }
    var timer = null;
    var latest = 0;

    function lookup() {
      var query = input.value.trim();
      var ticket = ++latest;
      if (query.length < 2) { render(fieldset, name, [], ""); return; }
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("lookup failed"); }
        return response.json();
      }).then(function (data) {
        if (ticket === latest) { render(fieldset, name, data.results || [], query); }
      }).catch(function () { /* the Find button still works */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // search, do not submit the whole form
        event.preventDefault();
        window.clearTimeout(timer);
        lookup();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset[data-picker]").forEach(setup);
  });
})();
