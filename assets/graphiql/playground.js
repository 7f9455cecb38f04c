// Starts GraphiQL and its login form. Kept out of index.html so the page needs no
// inline script (a Content-Security-Policy with script-src 'self' works).
//
// Nothing goes to browser storage (RULES §1): GraphiQL gets a storage that lives in
// this page's memory (its tabs, query text, variables, headers and history), and the
// token lives in a variable of this script. A reload forgets everything.
(function () {
  'use strict';

  // Relative: the page is served at <prefix>/graphql, so this is <prefix>/graphql.
  var ENDPOINT = 'graphql';
  var token = null;

  /** A Storage (the interface GraphiQL writes through) held in memory only. */
  function memoryStorage() {
    var items = new Map();
    return {
      getItem: function (key) { return items.has(key) ? items.get(key) : null; },
      setItem: function (key, value) { items.set(key, String(value)); },
      removeItem: function (key) { items.delete(key); },
      clear: function () { items.clear(); },
      key: function (i) { var keys = Array.from(items.keys()); return i < keys.length ? keys[i] : null; },
      get length() { return items.size; },
    };
  }

  /** POSTs a GraphQL request with the session's token, if any. */
  function post(body, headers) {
    var all = Object.assign({ 'Content-Type': 'application/json', Accept: 'application/json' }, headers || {});
    if (token && !Object.keys(all).some(function (k) { return k.toLowerCase() === 'authorization'; })) {
      all.Authorization = 'Bearer ' + token;
    }
    return fetch(ENDPOINT, { method: 'POST', headers: all, body: JSON.stringify(body), credentials: 'omit' })
      .then(function (response) { return response.json(); });
  }

  var form = document.getElementById('login');
  var username = document.getElementById('login-username');
  var password = document.getElementById('login-password');
  var logout = document.getElementById('logout');
  var status = document.getElementById('login-status');

  function show(loggedInAs, message) {
    status.textContent = message;
    logout.hidden = !loggedInAs;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var login = 'mutation Login($username: String!, $password: String!) { ' +
      'login(username: $username, password: $password) { accessToken expiresIn } }';
    var typed = password.value;
    // The password leaves the field at once: it is sent as a variable, never as query text.
    password.value = '';
    post({ query: login, variables: { username: username.value, password: typed }, operationName: 'Login' })
      .then(function (result) {
        var issued = result && result.data && result.data.login;
        if (issued) {
          token = issued.accessToken;
          show(username.value, 'Logged in as ' + username.value + ' (for ' + issued.expiresIn +
            ' s): every request carries the token.');
        } else {
          token = null;
          var error = result && result.errors && result.errors[0];
          show(null, 'Login failed: ' + (error ? error.message : 'no answer'));
        }
      })
      .catch(function (error) { show(null, 'Login failed: ' + error); });
  });

  logout.addEventListener('click', function () {
    token = null;
    show(null, 'Logged out: only login and introspection answer.');
  });

  var defaultQuery = [
    '# Welcome to mlte-graphql.',
    '#',
    '# Log in above: every request then carries your token.',
    '# Then run this query, or press Ctrl-Space for completion.',
    '',
    'query Me {',
    '  me {',
    '    username',
    '    role',
    '    groups { name }',
    '  }',
    '}',
    '',
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: function (params, options) { return post(params, options && options.headers); },
      defaultQuery: defaultQuery,
      storage: memoryStorage(),
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
