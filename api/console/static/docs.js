// Swagger UI over /openapi.json, authorised with the console's saved token when there is one.
(function () {
  const node = document.getElementById("swagger-ui");
  const ui = SwaggerUIBundle({ url: node.dataset.spec, dom_id: "#swagger-ui", deepLinking: true, tryItOutEnabled: false });
  const saved = localStorage.getItem("streamrec.token");
  if (saved) ui.preauthorizeApiKey("bearer", saved);
})();
