package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// jsonPOST is gqlgen's POST transport (transport.POST, v0.17.98) whose
// responses are written by writeResponse. gqlgen writes them with
// json.Marshal, which compacts and re-validates the data it has just
// marshalled itself, about a tenth of a 50-row page's CPU.
// TestTransportMatchesGqlgen holds the two to the same statuses, content
// types and bytes. Where they differ on purpose:
//   - a body that is not JSON is refused without echoing the body back
//     (the error presenter rewrites the message anyway);
//   - reading the body cannot fail here: readBody has read it already;
//   - no ResponseHeaders or UseGrapQLResponseJsonByDefault options.
//
// The data is sent as gqlgen's marshalers wrote it, so they must write
// compact JSON: gqlgen's own do, but for Map, whose encoder adds a newline
// (graph/gqlscalar has ours).
type jsonPOST struct{}

var _ graphql.Transport = jsonPOST{}

const (
	contentTypeJSON            = "application/json"
	contentTypeGraphQLResponse = "application/graphql-response+json"
)

func (jsonPOST) Supports(r *http.Request) bool { return transport.POST{}.Supports(r) }

func (jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()

	var params graphql.RawParams
	body, err := io.ReadAll(r.Body) // in memory already: readBody bounded and read it
	if err == nil && !jsontext.Value(body).IsValid() {
		// As REST's decoder: a member named twice is refused rather than
		// one of its values kept, and so is anything else not strict JSON.
		err = errors.New("not valid JSON, or an object names a member twice")
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		err = dec.Decode(&params)
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %+v", err)}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		w.WriteHeader(statusFor(contentType, opErr))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// responseContentType negotiates as gqlgen does: application/json unless
// the client asks for application/graphql-response+json, or for nothing we
// know.
func responseContentType(accept string) string {
	if accept == "" {
		return contentTypeJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", contentTypeJSON:
			return contentTypeJSON
		case contentTypeGraphQLResponse:
			return contentTypeGraphQLResponse
		}
	}
	return contentTypeGraphQLResponse
}

// statusFor is the status of a request refused before it ran: 422 for a
// query that does not parse or validate (400 under graphql-response+json,
// as the GraphQL-over-HTTP draft says), else 200.
func statusFor(contentType string, errs gqlerror.List) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == contentTypeGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// writeResponse writes resp as json.Marshal would. The data is gqlgen's own
// compact JSON, so it goes out as is, unless it holds a character that
// json.Marshal escapes for HTML (<, >, &, U+2028, U+2029): then, and for the
// fields we never set (label, path, hasNext, extensions), json.Marshal
// writes the whole response.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if resp == nil {
		// The executor's answer once the request's context has ended.
		_, _ = w.Write([]byte("null"))
		return
	}
	if !writtenAsIs(resp) {
		b, err := json.Marshal(resp)
		if err != nil {
			b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"internal_error"}}],"data":null}`)
		}
		_, _ = w.Write(b)
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(resp.Data) + 32)
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			errs = []byte(`[{"message":"internal error","extensions":{"code":"internal_error"}}]`)
		}
		buf.WriteString(`"errors":`)
		buf.Write(errs)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		buf.WriteString("null")
	} else {
		buf.Write(resp.Data)
	}
	buf.WriteByte('}')
	_, _ = w.Write(buf.Bytes())
}

// writtenAsIs reports whether writeResponse can write resp's data as it is.
func writtenAsIs(resp *graphql.Response) bool {
	return resp.Label == "" && len(resp.Path) == 0 && resp.HasNext == nil && len(resp.Extensions) == 0 && !escapesForHTML(resp.Data)
}

// escapesForHTML reports whether data holds a byte json.Marshal would
// rewrite: <, > and &, and 0xE2, the first byte of U+2028 and U+2029 (a
// false positive only sends the response the slow way).
func escapesForHTML(data []byte) bool {
	return bytes.IndexByte(data, '<') >= 0 || bytes.IndexByte(data, '>') >= 0 ||
		bytes.IndexByte(data, '&') >= 0 || bytes.IndexByte(data, 0xE2) >= 0
}
