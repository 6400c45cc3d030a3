// Administration: copy buttons for survey URLs and one-time secrets, and an upload progress
// bar for imports. Everything works without this file; it only adds comfort.
(function () {
  "use strict";

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var label = button.textContent;
    var done = function () {
      button.textContent = button.getAttribute("data-done") || label;
      window.setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        field.select();
      });
    } else {
      field.focus();
      field.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  }

  function setUpCopyButtons(root) {
    root.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(button); });
    });
  }

  // Send the import form with XMLHttpRequest to show the upload's progress, then the
  // import's (the server streams "hailong-progress DONE TOTAL" lines before the result page),
  // then put the result page's <main> in place of ours. Without JavaScript the form posts
  // normally.
  var PROGRESS = /^hailong-progress (\d+) (\d*)$/gm;
  function setUpUpload(form) {
    var box = form.querySelector(".progress");
    var bar = form.querySelector("progress");
    var status = form.querySelector(".progress .status");
    var label = form.querySelector(".progress label");
    var button = form.querySelector("button[type=submit]");
    if (!box || !bar || !window.FormData || !window.DOMParser) { return; }
    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]");
      if (!file || !file.files.length) { return; }  // let the server say what is missing
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("X-Import-Progress", "1");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.round((e.loaded / e.total) * 100);
          bar.value = percent;
          bar.textContent = percent + "%";
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.value = 100;
        bar.removeAttribute("value");  // indeterminate until the server's first progress line
        label.textContent = form.getAttribute("data-step");  // the same bar, now the import's
        status.textContent = form.getAttribute("data-busy");
      });
      xhr.addEventListener("progress", function () {
        var match, last = null;
        PROGRESS.lastIndex = 0;
        while ((match = PROGRESS.exec(xhr.responseText)) !== null) { last = match; }
        if (!last || !last[2]) { return; }  // no total known: stay indeterminate
        var done = Number(last[1]), total = Number(last[2]);
        var percent = Math.min(100, Math.round((done / total) * 100));
        bar.max = total;
        bar.value = Math.min(done, total);
        bar.textContent = percent + "%";
        status.textContent = form.getAttribute("data-busy") + " " + percent + "%";
      });
      xhr.addEventListener("load", function () {
        var html = xhr.responseText.replace(PROGRESS, "");
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("main");
        var main = document.querySelector("main");
        if (!fresh || !main) { status.textContent = form.getAttribute("data-failed"); return; }
        main.replaceWith(fresh);
        setUp(fresh);
        var result = fresh.querySelector("#import-result, .error-summary");
        if (result) { result.focus(); }
      });
      xhr.addEventListener("error", function () {
        status.textContent = form.getAttribute("data-failed");
        button.disabled = false;
      });
      box.hidden = false;
      bar.value = 0;
      status.textContent = "";
      button.disabled = true;
      xhr.send(new FormData(form));
    });
  }

  function setUp(root) {
    setUpCopyButtons(root);
    root.querySelectorAll("form.upload").forEach(setUpUpload);
  }

  setUp(document);
}());
