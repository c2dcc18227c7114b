// Starts GraphiQL against this server's /graphql. The Headers pane opens
// with a placeholder for the access token from POST /v1/auth/login; headers
// are not saved in the browser unless you switch that on in the settings.
(function () {
  'use strict';
  var headers = {
    'Authorization': 'Bearer PASTE_YOUR_ACCESS_TOKEN_HERE',
    'X-Leadron-Environment': 'live'
  };
  var query = [
    '# Put your access token in the Headers pane below, then run.',
    'query Dashboard {',
    '  viewer {',
    '    user { email role }',
    '    tenant { slug plan }',
    '    environment',
    '  }',
    '  leads(first: 10, orderBy: [{field: CREATED_AT, direction: DESC}]) {',
    '    totalCount',
    '    edges { node { id email firstName lastName status score assignee { email } } }',
    '    pageInfo { hasNextPage endCursor }',
    '  }',
    '}',
    ''
  ].join('\n');
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql' });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: query,
    headers: JSON.stringify(headers, null, 2),
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: false
  }));
})();
