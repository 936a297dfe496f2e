// Small helpers shared by every page (no framework, no CDN).
(function () {
  "use strict";
  // Forms with data-confirm ask before submitting (dispatch, resolve, publish notice…).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  // fetch() from page scripts: send the CSRF token the server checks on writes.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.hotlineFetch = function (url, options) {
    options = options || {};
    options.headers = Object.assign({"X-CSRFToken": meta ? meta.content : ""}, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options);
  };
  // Buttons with data-print print the page (print.css hides the chrome).
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.addEventListener("click", function () { window.print(); });
  });
  // Selects with data-autosubmit submit their form on change (filters).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
})();
