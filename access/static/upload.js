// Progressive enhancement: send the form with XMLHttpRequest to show a progress bar, then
// open the batch page. Without JavaScript the form posts normally and redirects there.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData) { return; }
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    status.textContent = form.dataset.busy;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = null; }
      if (body && body.batch_url && body.jobs && body.jobs.length) {
        window.location.assign(body.batch_url);
        return;
      }
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (!body && type.indexOf("text/html") === 0 && xhr.status >= 400 && xhr.status < 500) {
        // The form refused (a date, no file): the server's page says why beside the field,
        // with what was typed kept. Show it as a normal post would have.
        document.open();
        document.write(xhr.responseText);
        document.close();
        return;
      }
      status.textContent = (body && body.problems && body.problems.join("; ")) || form.dataset.failed;
      status.className = "flash error";
    });
    xhr.addEventListener("error", function () {
      status.textContent = form.dataset.failed;
      status.className = "flash error";
    });
    xhr.send(new FormData(form));
  });
})();
