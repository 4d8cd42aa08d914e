// Swagger UI on this API's OpenAPI document. No validator badge: it would call another site.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: {{ openapi_url|tojson }},
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
