// The API reference (/api/docs): Swagger UI, served by the app, reading the OpenAPI
// document named on the page. A file of its own because the page allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("api-reference");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // Sections start closed: the reader opens the one they need. With every one of the
    // document's 140-odd operations listed at once, Swagger UI stopped rendering after
    // the first sections, so nothing below "me" could be read.
    docExpansion: "none",
    defaultModelsExpandDepth: 0,
    validatorUrl: null, // the public validator is another origin; the document is ours
    // "Try it out" authenticates by the token given under "Authorize" alone: the
    // session cookie stays behind, as the API takes one means per request.
    requestInterceptor: (request) => {
      request.credentials = "omit";
      return request;
    },
  });
});
