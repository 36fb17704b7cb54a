// Starts GraphiQL on the gateway's GET /graphql page. A file of its own (not inline) so the page's
// Content-Security-Policy can forbid inline scripts.
(function () {
  const placeholder = 'Bearer <token from data/demo-tokens.json>';
  const http = GraphiQL.createFetcher({ url: window.location.pathname });
  // Until a token is filled in (Headers tab), answer here instead of sending a request the gateway
  // would refuse with 401: opening the page then makes no failing request.
  const fetcher = (params, options) => {
    const headers = (options && options.headers) || {};
    const authorization = Object.keys(headers)
      .filter((name) => name.toLowerCase() === 'authorization')
      .map((name) => String(headers[name]))[0];
    if (!authorization || authorization === placeholder) {
      return Promise.resolve({
        errors: [
          {
            message:
              'Put an organisation token in the Headers tab ("Authorization": "Bearer ..."; in ggzhub dev: data/demo-tokens.json), then reload the schema.',
          },
        ],
      });
    }
    return http(params, options);
  };
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultHeaders: JSON.stringify({ Authorization: placeholder }),
    }),
  );
})();
