// The record picker: a type-ahead over /records/pick for every form that asks for records.
// Without this script the field is a plain text input that takes 档号 or ids; with it, the
// same field name is sent from a hidden input holding the chosen records' 档号 (or ids),
// space-separated, which the server reads exactly as if they had been typed.
// ARIA 1.2 combobox: arrows move, Enter chooses, Esc closes (then clears).
(function () {
  "use strict";
  if (!window.fetch) { return; }
  var SEPARATORS = /[\s,，、;；]+/;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function init(box) {
    if (box.dataset.ready) { return; }
    box.dataset.ready = "1";
    var input = box.querySelector("input[data-picker-input]");
    if (!input) { return; }
    var text = box.dataset;
    var multiple = text.multiple === "1";
    var required = input.required;
    var listId = input.id + "-options";
    var chosen = [];
    var options = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    var hidden = el("input");
    hidden.type = "hidden";
    hidden.name = input.name;
    input.removeAttribute("name");
    input.required = false;
    var field = el("span", "picker-field");
    input.parentNode.insertBefore(field, input);
    field.appendChild(input);
    var list = el("ul", "picker-list");
    list.id = listId;
    list.hidden = true;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", text.labelOptions);
    field.appendChild(list);
    var chips = el("ul", "picker-chips");
    chips.setAttribute("aria-label", text.labelChosen);
    box.insertBefore(chips, field);
    var status = el("p", "picker-status");
    status.setAttribute("role", "status");
    box.appendChild(status);
    box.appendChild(hidden);
    var hint = document.getElementById(input.id + "-hint");
    if (hint && text.hint) { hint.textContent = text.hint; }
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    function sync() {
      hidden.value = chosen.map(function (c) { return c.value; }).join(" ");
      if (hidden.value) { input.setCustomValidity(""); }
    }

    function chipText(record) {
      return record.title ? record.label + " " + record.title : record.label;
    }

    function drawChips() {
      chips.textContent = "";
      chosen.forEach(function (record, index) {
        var chip = el("li", "picker-chip");
        var what = el("span");
        what.appendChild(el("span", "code mono", record.label));
        if (record.title) { what.appendChild(document.createTextNode(" " + record.title)); }
        chip.appendChild(what);
        var remove = el("button", "", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", text.remove + " " + chipText(record));
        remove.addEventListener("click", function () {
          chosen.splice(index, 1);
          sync();
          drawChips();
          status.textContent = text.removed + " " + chipText(record);
          input.focus();
        });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = list.querySelectorAll("[role=option]:not([aria-disabled])");
      if (!items.length) { return; }
      active = (index + items.length) % items.length;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var hit = options[index];
      if (!hit) { return; }
      var record = { value: hit.value, label: hit.reference_code || hit.name, title: hit.title };
      var already = chosen.some(function (c) { return c.value === record.value; });
      if (!already) { chosen = multiple ? chosen.concat([record]) : [record]; }
      sync();
      drawChips();
      input.value = "";
      close();
      status.textContent = text.added + " " + chipText(record);
      input.focus();
    }

    function show(records) {
      options = records.filter(function (r) {
        return !chosen.some(function (c) { return c.value === r.value; });
      });
      list.textContent = "";
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (!options.length) {
        var none = el("li", "none", text.none);
        none.setAttribute("role", "option");  // a listbox holds options only
        none.setAttribute("aria-disabled", "true");
        list.appendChild(none);
      }
      options.forEach(function (r, i) {
        var item = el("li");
        item.id = listId + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        if (r.reference_code) {
          item.appendChild(el("span", "mono", r.reference_code));
          item.appendChild(document.createTextNode(" "));
        }
        item.appendChild(el("strong", "", r.title));
        var more = [r.name, r.doc_number, r.date].filter(Boolean).join(" · ");
        item.appendChild(el("small", "", more));
        item.addEventListener("mousedown", function (e) { e.preventDefault(); });
        item.addEventListener("click", function () { choose(i); });
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = options.length ? text.count.replace("{n}", options.length) : text.none;
    }

    function ask(q) {
      var url = new URL(text.url, window.location.href);
      url.searchParams.set("q", q);
      var mine = ++asked;
      return fetch(url.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (r) { return r.ok ? r.json() : { records: [] }; })
        .then(function (body) { return mine === asked ? body.records : null; });
    }

    input.addEventListener("input", function () {
      input.setCustomValidity("");
      window.clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { close(); return; }
      timer = window.setTimeout(function () {
        ask(q).then(function (records) { if (records) { show(records); } }).catch(close);
      }, 180);
    });

    input.addEventListener("keydown", function (e) {
      var open = !list.hidden;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (!open && options.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (options.length) { highlight(active + (e.key === "ArrowDown" ? 1 : -1)); }
        e.preventDefault();
      } else if (e.key === "Enter" && open && active >= 0) {
        e.preventDefault();
        choose(active);
      } else if (e.key === "Enter" && open && options.length === 1) {
        e.preventDefault();
        choose(0);
      } else if (e.key === "Escape") {
        if (open) { close(); } else { input.value = ""; }
        e.preventDefault();
      } else if (e.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () { window.setTimeout(close, 150); });

    if (input.form) {
      input.form.addEventListener("submit", function (e) {
        // What was typed but not chosen (a 档号 from paper, say) is sent as typed.
        var typed = input.value.trim();
        if (typed) {
          hidden.value = multiple ? (hidden.value + " " + typed).trim() : typed;
        }
        if (required && !hidden.value) {
          e.preventDefault();
          input.setCustomValidity(text.required);
          input.reportValidity();
        }
      });
    }

    // A value the page was given (from a record page, or sent back with an error): chips,
    // named as the picker would name them once it has looked them up.
    var start = input.value.split(SEPARATORS).filter(Boolean);
    input.value = "";
    chosen = start.map(function (token) { return { value: token, label: token, title: "" }; });
    sync();
    drawChips();
    start.forEach(function (token) {
      var url = new URL(text.url, window.location.href);
      url.searchParams.set("q", token);
      fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { records: [] }; })
        .then(function (body) {
          var hit = body.records.filter(function (r) {
            return r.value === token || r.id === token || r.reference_code === token;
          })[0];
          if (!hit) { return; }
          chosen.forEach(function (c) {
            if (c.value === token) { c.label = hit.reference_code || hit.name; c.title = hit.title; }
          });
          drawChips();
        }).catch(function () { return null; });
    });
  }

  function all() {
    var boxes = document.querySelectorAll("[data-record-picker]");
    for (var i = 0; i < boxes.length; i++) { init(boxes[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", all);
  } else {
    all();
  }
})();
