package apperr

import "net/http"

// httpStatus maps each error code to its HTTP status: the one table of it,
// for both APIs.
var httpStatus = map[Code]int{
	Validation:           http.StatusUnprocessableEntity,
	IdempotencyReused:    http.StatusUnprocessableEntity,
	NotFound:             http.StatusNotFound,
	Conflict:             http.StatusConflict,
	Forbidden:            http.StatusForbidden,
	InsufficientScope:    http.StatusForbidden,
	InvalidOnBehalfOf:    http.StatusForbidden,
	InvalidAPIKey:        http.StatusUnauthorized,
	InvalidCredentials:   http.StatusUnauthorized,
	InvalidJSON:          http.StatusBadRequest,
	BadRequest:           http.StatusBadRequest,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	RateLimited:          http.StatusTooManyRequests,
	PreconditionFailed:   http.StatusPreconditionFailed,
	ServiceUnavailable:   http.StatusServiceUnavailable,
	Internal:             http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status of an error with code c: 500 for a code
// without one.
func HTTPStatus(c Code) int {
	if s, ok := httpStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}
