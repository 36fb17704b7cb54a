// Starts GraphiQL on the gateway's GET /graphql page. A file of its own (not inline) so the page's
// Content-Security-Policy can forbid inline scripts.
(function () {
  const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultHeaders: '{"Authorization": "Bearer <token from data/demo-tokens.json>"}',
    }),
  );
})();
