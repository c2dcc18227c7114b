package rest

// NewRouterForTest exposes newRouter, so tests can add a route (one that
// panics) behind the real middleware.
var NewRouterForTest = newRouter
