// The batch page follows its jobs live: poll until every job is final, then stop.
(function () {
  "use strict";
  var table = document.getElementById("jobs");
  if (!table || !window.fetch) { return; }
  function pending() { return table.querySelectorAll('tr[data-final="no"]').length; }
  function text(node, value) { node.textContent = value || ""; }
  function update(job) {
    var row = table.querySelector('tr[data-job="' + job.id + '"]');
    if (!row) { return; }
    var state = row.querySelector('[data-field="state"]');
    text(state, job.state_label);
    state.className = "badge state-" + job.status;
    var result = row.querySelector('[data-field="result"]');
    result.textContent = "";
    if (job.record_url) {
      var link = document.createElement("a");
      link.href = job.record_url; link.className = "mono"; text(link, job.name || job.filename);
      result.appendChild(link);
    }
    if (job.note) {
      var named = document.createElement("span");
      named.className = "mono"; text(named, (job.name || job.filename) + " ");
      var note = document.createElement("span");
      note.className = "muted"; text(note, job.note);
      result.appendChild(named); result.appendChild(note);
    }
    if (job.same_as) {
      var same = document.createElement("span");
      same.className = "muted"; text(same, " " + job.same_as);
      result.appendChild(same);
    }
    if (job.reason) {
      var why = document.createElement("span");
      why.className = "danger"; why.title = job.failed_check || "";
      text(why, job.problem);
      result.appendChild(why);
    }
    if (job.final && row.dataset.final === "no") {
      row.dataset.final = "yes";
      if (job.status === "quarantined") { window.location.reload(); }
    }
  }
  function poll() {
    if (!pending()) { return; }
    fetch(table.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) { body.jobs.forEach(update); } })
      .finally(function () { window.setTimeout(poll, 1500); });
  }
  window.setTimeout(poll, 1000);
})();
