package mesostest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gogo/protobuf/proto"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// maxBody bounds a call body; the master has no such limit, but a test
// double should not be made to allocate without bound.
const maxBody = 64 << 20

// serveScheduler is POST /api/v1/scheduler, checking requests in the order
// of Master::Http::scheduler (mesos.md §1.1).
func (m *Master) serveScheduler(w http.ResponseWriter, r *http.Request) {
	rec := Call{Endpoint: "scheduler", ContentType: r.Header.Get("Content-Type"), StreamID: r.Header.Get("Mesos-Stream-Id")}
	reply := func(code int, msg string) {
		rec.Status = code
		m.record(rec)
		if msg != "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(code)
			io.WriteString(w, msg)
			return
		}
		w.WriteHeader(code)
	}
	if !m.gate(w, r, "/api/v1/scheduler", reply) {
		return
	}
	ct := r.Header.Get("Content-Type")
	if _, ok := r.Header["Content-Type"]; !ok {
		reply(http.StatusBadRequest, "Expecting 'Content-Type' to be present")
		return
	}
	if ct != mediaJSON && ct != mediaProtobuf { // byte-exact, as in http.cpp
		reply(http.StatusUnsupportedMediaType, fmt.Sprintf("Expecting 'Content-Type' of %s or %s", mediaJSON, mediaProtobuf))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		reply(http.StatusBadRequest, "Failed to read body: "+err.Error())
		return
	}
	call, hasType, err := decodeCall(ct, body)
	if err != nil {
		reply(http.StatusBadRequest, err.Error())
		return
	}
	rec.Type = call.Type.String()
	if call.FrameworkID != nil {
		rec.FrameworkID = call.FrameworkID.Value
	}
	if msg := validateCall(call, hasType); msg != "" {
		reply(http.StatusBadRequest, "Failed to validate scheduler::Call: "+msg)
		return
	}
	if call.Type == scheduler.Call_SUBSCRIBE {
		media, ok := negotiate(r.Header.Values("Accept"))
		if !ok {
			reply(http.StatusNotAcceptable, fmt.Sprintf("Expecting 'Accept' to allow %s or %s", mediaJSON, mediaProtobuf))
			return
		}
		if _, ok := r.Header["Mesos-Stream-Id"]; ok {
			reply(http.StatusBadRequest, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
			return
		}
		m.serveSubscribe(w, r, call, media, &rec)
		return
	}

	m.mu.Lock()
	fw := m.frameworks[call.FrameworkID.Value]
	var code int
	var msg string
	switch {
	case fw == nil:
		code, msg = http.StatusBadRequest, "Framework cannot be found"
	case !fw.connected:
		code, msg = http.StatusForbidden, "Framework is not subscribed"
	case rec.StreamID == "" && len(r.Header.Values("Mesos-Stream-Id")) == 0:
		code, msg = http.StatusBadRequest, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
	case rec.StreamID != fw.stream.id:
		code, msg = http.StatusBadRequest, fmt.Sprintf("The stream ID '%s' included in this request didn't match the stream ID currently associated with framework ID %s", rec.StreamID, fw.id)
	case call.Type == scheduler.Call_UNKNOWN:
		code, msg = http.StatusNotImplemented, ""
	}
	if code != 0 {
		m.mu.Unlock()
		reply(code, msg)
		return
	}
	code = http.StatusAccepted
	switch call.Type {
	case scheduler.Call_TEARDOWN:
		m.removeFrameworkLocked(fw)
	case scheduler.Call_ACCEPT:
		rec.Tasks = m.acceptLocked(fw, call.Accept)
	case scheduler.Call_DECLINE:
		m.declineLocked(fw, call.Decline.OfferIDs, call.Decline.Filters)
	case scheduler.Call_REVIVE:
		var roles []string
		if call.Revive != nil {
			roles = call.Revive.Roles
		}
		m.reviveLocked(fw, roles)
	case scheduler.Call_SUPPRESS:
		var roles []string
		if call.Suppress != nil {
			roles = call.Suppress.Roles
		}
		m.suppressLocked(fw, roles)
	case scheduler.Call_KILL:
		m.killLocked(fw, call.Kill)
	case scheduler.Call_ACKNOWLEDGE:
		m.acknowledgeLocked(fw, call.Acknowledge)
	case scheduler.Call_RECONCILE:
		m.reconcileLocked(fw, call.Reconcile.Tasks)
	case scheduler.Call_UPDATE_FRAMEWORK:
		if msg := m.updateFrameworkLocked(fw, call.UpdateFramework); msg != "" {
			m.mu.Unlock()
			reply(http.StatusBadRequest, msg)
			return
		}
		code = http.StatusOK
	default:
		// SHUTDOWN (custom executors only), MESSAGE, REQUEST and the
		// inverse-offer and operation calls are accepted and have no
		// effect with built-in executors.
	}
	rec.Status = code
	m.recordLocked(rec)
	m.mu.Unlock()
	w.WriteHeader(code)
}

func (m *Master) serveSubscribe(w http.ResponseWriter, r *http.Request, call *scheduler.Call, media string, rec *Call) {
	m.mu.Lock()
	s := newStream(media, m.faults.subDelay)
	rec.Status = http.StatusOK
	rec.StreamID = s.id
	m.recordLocked(*rec)
	m.subscribeLocked(call, s)
	m.mu.Unlock()
	s.serve(w, r)
	s.mu.Lock()
	aborted := s.aborted
	s.mu.Unlock()
	m.streamEnded(s)
	if aborted {
		panic(http.ErrAbortHandler) // break the connection without the chunked terminator
	}
}

// decodeCall parses a body with the master's rules. hasType reports whether
// the call named a type at all ("no type" is a validation error, UNKNOWN is 501).
func decodeCall(ct string, body []byte) (*scheduler.Call, bool, error) {
	call := &scheduler.Call{}
	if ct == mediaJSON {
		if err := unmarshalJSON(body, call); err != nil {
			return nil, false, err
		}
		return call, jsonHasEnum(body, "type", scheduler.Call_Type_value), nil
	}
	if err := call.Unmarshal(body); err != nil {
		return nil, false, errors.New("Failed to parse body into Call protobuf: " + err.Error())
	}
	return call, wireHasField(body, 2), nil
}

// wireHasField reports whether a protobuf message carries field num at its
// top level. gogo's generated struct cannot tell an absent enum from 0.
func wireHasField(b []byte, num uint64) bool {
	buf := proto.NewBuffer(b)
	for {
		key, err := buf.DecodeVarint()
		if err != nil {
			return false
		}
		if key>>3 == num {
			return true
		}
		switch key & 7 {
		case 0:
			_, err = buf.DecodeVarint()
		case 1:
			_, err = buf.DecodeFixed64()
		case 2:
			_, err = buf.DecodeRawBytes(false)
		case 5:
			_, err = buf.DecodeFixed32()
		default:
			return false
		}
		if err != nil {
			return false
		}
	}
}

// validateCall is validation::scheduler::call::validate.
func validateCall(c *scheduler.Call, hasType bool) string {
	if !hasType {
		return "Expecting 'type' to be present"
	}
	if c.Type == scheduler.Call_SUBSCRIBE {
		if c.Subscribe == nil {
			return "Expecting 'subscribe' to be present"
		}
		var a, b string
		if c.FrameworkID != nil {
			a = c.FrameworkID.Value
		}
		if c.Subscribe.FrameworkInfo.ID != nil {
			b = c.Subscribe.FrameworkInfo.ID.Value
		}
		if (c.FrameworkID != nil) != (c.Subscribe.FrameworkInfo.ID != nil) || a != b {
			return "'framework_id' differs from 'subscribe.framework_info.id'"
		}
		return ""
	}
	if c.FrameworkID == nil {
		return "Expecting 'framework_id' to be present"
	}
	need := func(ok bool, name string) string {
		if !ok {
			return "Expecting '" + name + "' to be present"
		}
		return ""
	}
	switch c.Type {
	case scheduler.Call_ACCEPT:
		return need(c.Accept != nil, "accept")
	case scheduler.Call_DECLINE:
		return need(c.Decline != nil, "decline")
	case scheduler.Call_ACCEPT_INVERSE_OFFERS:
		return need(c.AcceptInverseOffers != nil, "accept_inverse_offers")
	case scheduler.Call_DECLINE_INVERSE_OFFERS:
		return need(c.DeclineInverseOffers != nil, "decline_inverse_offers")
	case scheduler.Call_KILL:
		return need(c.Kill != nil, "kill")
	case scheduler.Call_SHUTDOWN:
		return need(c.Shutdown != nil, "shutdown")
	case scheduler.Call_ACKNOWLEDGE:
		if c.Acknowledge == nil {
			return need(false, "acknowledge")
		}
		if len(c.Acknowledge.UUID) != 16 {
			return "Not a valid UUID" // Mesos 1.12's words (TestDifferential)
		}
	case scheduler.Call_ACKNOWLEDGE_OPERATION_STATUS:
		if c.AcknowledgeOperationStatus == nil {
			return need(false, "acknowledge_operation_status")
		}
		if len(c.AcknowledgeOperationStatus.UUID) != 16 {
			return "Invalid UUID"
		}
	case scheduler.Call_RECONCILE:
		return need(c.Reconcile != nil, "reconcile")
	case scheduler.Call_RECONCILE_OPERATIONS:
		return need(c.ReconcileOperations != nil, "reconcile_operations")
	case scheduler.Call_MESSAGE:
		return need(c.Message != nil, "message")
	case scheduler.Call_REQUEST:
		return need(c.Request != nil, "request")
	case scheduler.Call_UPDATE_FRAMEWORK:
		return need(c.UpdateFramework != nil, "update_framework")
	}
	return ""
}

// negotiate picks the SUBSCRIBE response type from Accept headers: JSON if
// acceptable (also with no header or */*), else protobuf, else none.
func negotiate(values []string) (string, bool) {
	if len(values) == 0 {
		return mediaJSON, true
	}
	accepts := func(media string) bool {
		typ, _, _ := strings.Cut(media, "/")
		for _, v := range values {
			for _, part := range strings.Split(v, ",") {
				mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
				if err != nil {
					continue
				}
				if q, ok := params["q"]; ok {
					if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
						continue
					}
				}
				if mt == "*/*" || mt == media || mt == typ+"/*" {
					return true
				}
			}
		}
		return false
	}
	if accepts(mediaJSON) {
		return mediaJSON, true
	}
	if accepts(mediaProtobuf) {
		return mediaProtobuf, true
	}
	return "", false
}

// updateFrameworkLocked applies UPDATE_FRAMEWORK: the same ID and user are
// required, the rest is replaced.
func (m *Master) updateFrameworkLocked(fw *framework, u *scheduler.Call_UpdateFramework) string {
	info := u.FrameworkInfo
	if info.ID == nil || info.ID.Value != fw.id {
		return "Updating 'FrameworkInfo.id' is unsupported"
	}
	if info.User != fw.info.User {
		return "Updating 'FrameworkInfo.user' is unsupported"
	}
	if msg := m.validateFrameworkLocked(&info); msg != "" {
		return msg
	}
	fw.info = info
	fw.suppressed = map[string]bool{}
	for _, r := range u.SuppressedRoles {
		fw.suppressed[r] = true
	}
	// Offers for roles the framework left are rescinded.
	keep := map[string]bool{}
	for _, r := range fwRoles(&info) {
		keep[r] = true
	}
	for id, o := range m.offers {
		if o.fw == fw && !keep[o.role] {
			m.removeOfferLocked(o)
			m.sendLocked(fw, &scheduler.Event{Type: scheduler.Event_RESCIND,
				Rescind: &scheduler.Event_Rescind{OfferID: mesos.OfferID{Value: id}}})
		}
	}
	return ""
}
