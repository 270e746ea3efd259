// Chorus: the share dialog and copy buttons. Every form works without this file; the
// server checks the taboo guard and the caps again whatever this script showed.
"use strict";

(() => {
  const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  // The same rule as scoring.sharing.with_disclosure: tags are appended when missing.
  const withDisclosure = (text, disclosure, hashtag) => {
    text = text.trim();
    const missing = [disclosure, hashtag]
      .map((tag) => (tag || "").trim())
      .filter((tag) => tag && !new RegExp("(?<!\\w)" + escapeRegExp(tag) + "(?!\\w)", "i").test(text));
    return missing.length ? [text, ...missing].join(" ") : text;
  };

  const csrfToken = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  const setupDialog = (form) => {
    const text = form.querySelector("#text");
    const preview = form.querySelector("[data-share-preview]");
    const templates = form.querySelector("[data-templates]");
    const tabooResult = form.querySelector("[data-taboo-result]");
    const counter = form.querySelector("[data-length-counter]");
    // Counted as the server counts: the text with its tags, plus the link where the
    // network counts one. The server checks again on submit.
    const count = (full) => {
      if (!counter) return;
      const chosen = form.querySelector("input[name=channel]:checked");
      if (!chosen) return;
      const limit = Number(chosen.dataset.lengthLimit || 0);
      const length = [...full].length + Number(chosen.dataset.linkLength || 0);
      if (!limit) {
        counter.textContent = `${length} characters with the disclosure and hashtag.`;
        counter.classList.remove("field-error");
        return;
      }
      const link = Number(chosen.dataset.linkLength || 0) ? " and link" : "";
      const over = length - limit;
      counter.textContent =
        `${length} of ${limit} characters on ${chosen.dataset.label}, with the disclosure, hashtag${link}` +
        (over > 0 ? `: ${over} too many.` : ".");
      counter.classList.toggle("field-error", over > 0);
    };
    const update = () => {
      const full = withDisclosure(text.value, form.dataset.disclosure, form.dataset.hashtag);
      preview.textContent = full;
      count(full);
    };

    // Picking a network offers its texts first; picking a text fills the editor.
    const showTemplatesFor = (channel) => {
      if (!templates) return;
      for (const option of templates.options) {
        if (option.dataset.channel) option.hidden = option.dataset.channel !== channel;
      }
      const selected = templates.selectedOptions[0];
      if (selected && selected.dataset.channel && selected.dataset.channel !== channel) {
        const first = [...templates.options].find((o) => o.dataset.channel === channel);
        templates.value = first ? first.value : "";
        if (first) text.value = first.dataset.text;
        update();
        checkTaboo();
      }
    };
    form.addEventListener("change", (event) => {
      if (event.target.name === "channel") {
        showTemplatesFor(event.target.value);
        update();
      }
      if (event.target === templates) {
        const chosen = templates.selectedOptions[0];
        if (chosen && chosen.dataset.text) text.value = chosen.dataset.text;
        update();
        checkTaboo();
      }
    });

    // Live taboo check; if the endpoint is unavailable the server still checks on submit.
    let timer = null;
    let latest = 0;
    const checkTaboo = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const ticket = ++latest;
        try {
          const response = await fetch(form.dataset.tabooUrl, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
            body: JSON.stringify({ text: text.value }),
          });
          if (!response.ok || ticket !== latest) return;
          const result = await response.json();
          const hits = result.hits || [];
          tabooResult.replaceChildren();
          text.toggleAttribute("aria-invalid", hits.length > 0);
          for (const hit of hits) {
            const line = document.createElement("p");
            line.className = "field-error";
            line.textContent = `${hit.topic} (“${hit.matched}”): ${hit.explanation}`;
            tabooResult.append(line);
          }
        } catch (error) {
          // Offline or no endpoint: say nothing; the server decides on submit.
        }
      }, 300);
    };
    text.addEventListener("input", () => {
      update();
      checkTaboo();
    });
    const checked = form.querySelector("input[name=channel]:checked");
    if (checked) showTemplatesFor(checked.value);
    update();
  };

  const copy = async (button) => {
    const source = document.querySelector(button.dataset.copy);
    const status = document.querySelector("[data-copy-status]");
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.value);
    } catch (error) {
      source.select(); // older browsers, or no permission: select it for Ctrl-C
      document.execCommand && document.execCommand("copy");
    }
    if (status) status.textContent = button.textContent.replace("Copy", "Copied") + ".";
  };

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("[data-share-form]")) setupDialog(form);
    for (const button of document.querySelectorAll("[data-copy]")) {
      button.addEventListener("click", () => copy(button));
    }
  });
})();
