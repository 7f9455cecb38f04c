// Starts GraphiQL on /graphql. Kept out of index.html so the page needs no inline
// script (a Content-Security-Policy with script-src 'self' works).
(function () {
  'use strict';
  var defaultQuery = [
    '# Welcome to mlte-graphql.',
    '#',
    '# Every field except `login` needs a token:',
    '#  1. run the login mutation below,',
    '#  2. copy its accessToken,',
    '#  3. open "Headers" (bottom pane) and set',
    '#       {"Authorization": "Bearer <accessToken>"}',
    '#  4. then try: query { me { username role groups { name } } }',
    '',
    'mutation Login {',
    '  login(username: "admin", password: "your-password") {',
    '    accessToken',
    '    expiresIn',
    '  }',
    '}',
    '',
  ].join('\n');

  var fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    // Plain POST JSON; no multipart/incremental delivery, no websocket.
    enableIncrementalDelivery: false,
  });

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      // Tokens stay in this tab: not written to localStorage.
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();
