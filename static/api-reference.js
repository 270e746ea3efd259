// The API reference (/api/docs): Swagger UI, served by the app, reading the OpenAPI
// document named on the page. A file of its own because the page allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("api-reference");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    docExpansion: "list",
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
