// Chorus: small progressive enhancements. Every page works without this file.
"use strict";

document.addEventListener("submit", (event) => {
  // Destructive buttons ask once before posting (delete a team, revoke a token).
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

document.addEventListener("DOMContentLoaded", () => {
  // Live preview of how the employee appears on boards while they choose.
  const form = document.querySelector("[data-presence-form]");
  if (form) {
    const preview = form.querySelector("[data-presence-preview]");
    const pseudonym = form.querySelector("#pseudonym");
    const update = () => {
      const chosen = form.querySelector("input[name=presence]:checked");
      const presence = chosen ? chosen.value : "named";
      if (presence === "hidden") preview.textContent = "nobody, you are hidden";
      else if (presence === "pseudonym") preview.textContent = pseudonym.value.trim() || "Anonymous advocate";
      else preview.textContent = form.dataset.name;
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
  }
  // A new API token's secret is selected on focus, ready to copy.
  for (const field of document.querySelectorAll("[data-select-on-focus]")) {
    field.addEventListener("focus", () => field.select());
  }
});
