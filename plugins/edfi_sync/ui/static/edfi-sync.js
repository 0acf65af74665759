// The Ed-Fi sync pages work without this script; it only smooths three things.
(function () {
  // Filter forms leave empty fields out of the URL, so a filtered view is a short link to share.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method.toLowerCase() !== "get") return;
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value === "") field.disabled = true;
    });
  });
  // A choice that changes the form itself (the Delete Tool's resource and its key fields) reloads the page.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.dataset || !field.dataset.reload) return;
    var url = new URL(window.location.href);
    url.searchParams.set(field.dataset.reload, field.value);
    url.searchParams.delete("audit_id");
    window.location.assign(url.toString());
  });
  // Inside Airflow the pages live in a sandboxed frame that may not navigate the window; a link to an
  // Airflow page (a DAG run, a task instance) asks Airflow's own router to go there instead.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-airflow]") : null;
    if (!link || window.top === window || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    try {
      var top = window.top;
      top.history.pushState({}, "", link.href);
      top.dispatchEvent(new top.PopStateEvent("popstate", { state: {} }));
      event.preventDefault();
    } catch (error) {
      // another origin or an older browser: the link opens inside the frame
    }
  });
})();
