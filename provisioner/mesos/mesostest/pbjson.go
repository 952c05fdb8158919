package mesostest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/gogo/protobuf/proto"
)

// This file is a JSON codec for mesos-go's generated types that follows the
// real master's rules (stout/protobuf.hpp) rather than mesos-go's ffjson
// code: unset optional fields and empty repeated fields are omitted instead of
// written as null, enums must be strings, bytes are standard base64, unknown
// keys and nulls are ignored, and missing required fields are an error. It
// reads the `protobuf` struct tags that gogo generates, so it needs no
// descriptors.

// fieldTag is the parsed `protobuf:"..."` struct tag of one field.
type fieldTag struct {
	name     string // proto field name, the JSON key
	wire     string // varint, bytes, fixed64, ...
	label    string // req, opt, rep
	enum     string // fully qualified enum name, or ""
	index    int    // Go struct field index
	keyTag   string // protobuf_key of a map field
	valueTag string // protobuf_val of a map field
}

func parseTag(tag string) fieldTag {
	var ft fieldTag
	for i, part := range strings.Split(tag, ",") {
		switch {
		case i == 0:
			ft.wire = part
		case i == 2:
			ft.label = part
		case strings.HasPrefix(part, "name="):
			ft.name = part[len("name="):]
		case strings.HasPrefix(part, "enum="):
			ft.enum = part[len("enum="):]
		}
	}
	return ft
}

func fieldsOf(t reflect.Type) []fieldTag {
	var out []fieldTag
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("protobuf")
		if !ok {
			continue
		}
		ft := parseTag(tag)
		ft.index = i
		ft.keyTag = sf.Tag.Get("protobuf_key")
		ft.valueTag = sf.Tag.Get("protobuf_val")
		out = append(out, ft)
	}
	return out
}

// marshalJSON encodes a generated message the way the master does.
func marshalJSON(msg any) ([]byte, error) {
	var buf bytes.Buffer
	v := reflect.ValueOf(msg)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if err := encodeMessage(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeMessage(buf *bytes.Buffer, v reflect.Value) error {
	buf.WriteByte('{')
	first := true
	for _, ft := range fieldsOf(v.Type()) {
		fv := v.Field(ft.index)
		if !present(fv, ft) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeString(buf, ft.name)
		buf.WriteByte(':')
		if err := encodeField(buf, fv, ft); err != nil {
			return fmt.Errorf("%s: %w", ft.name, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

// present reports whether a field counts as set. Pointers and slices are
// set when non-nil and non-empty; required non-pointer fields always are;
// optional non-pointer fields (gogo nullable=false) when non-zero.
func present(fv reflect.Value, ft fieldTag) bool {
	switch fv.Kind() {
	case reflect.Pointer:
		return !fv.IsNil()
	case reflect.Slice:
		if fv.Type().Elem().Kind() == reflect.Uint8 { // bytes
			return fv.Len() > 0 || (ft.label == "req" && !fv.IsNil())
		}
		return fv.Len() > 0
	case reflect.Map:
		return fv.Len() > 0
	}
	if ft.label == "req" {
		return true
	}
	return !fv.IsZero()
}

func encodeField(buf *bytes.Buffer, fv reflect.Value, ft fieldTag) error {
	switch fv.Kind() {
	case reflect.Slice:
		if fv.Type().Elem().Kind() == reflect.Uint8 {
			writeString(buf, base64.StdEncoding.EncodeToString(fv.Bytes()))
			return nil
		}
		buf.WriteByte('[')
		for i := 0; i < fv.Len(); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, fv.Index(i), ft); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case reflect.Map:
		keys := fv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, fmt.Sprint(k.Interface()))
			buf.WriteByte(':')
			if err := encodeValue(buf, fv.MapIndex(k), parseTag(ft.valueTag)); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	}
	return encodeValue(buf, fv, ft)
}

func encodeValue(buf *bytes.Buffer, v reflect.Value, ft fieldTag) error {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if ft.enum != "" {
		names := proto.EnumValueMap(ft.enum)
		n := v.Int()
		for name, num := range names {
			if int64(num) == n {
				writeString(buf, name)
				return nil
			}
		}
		// An enum value this proto does not know: the master would not
		// produce one, so say so rather than invent a name.
		return fmt.Errorf("unknown value %d of enum %s", n, ft.enum)
	}
	switch v.Kind() {
	case reflect.Struct:
		return encodeMessage(buf, v)
	case reflect.String:
		writeString(buf, v.String())
	case reflect.Bool:
		buf.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int32, reflect.Int64:
		buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint32, reflect.Uint64:
		buf.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("cannot encode %v", f)
		}
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0" // stout prints doubles with a fraction: 15.0
		}
		buf.WriteString(s)
	case reflect.Slice: // bytes inside a map value
		writeString(buf, base64.StdEncoding.EncodeToString(v.Bytes()))
	default:
		return fmt.Errorf("unsupported kind %s", v.Kind())
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}

// unmarshalJSON decodes data into msg (a pointer to a generated message)
// with the master's rules. Errors read like stout's.
func unmarshalJSON(data []byte, msg any) error {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		// Mesos 1.12 (picojson through stout) says where; the place is not imitated.
		return fmt.Errorf("Failed to parse body into JSON: syntax error at line 1 near: ")
	}
	if dec.More() {
		return fmt.Errorf("Failed to parse body into JSON: trailing data")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("Failed to convert JSON into Call protobuf: Expecting a JSON object")
	}
	v := reflect.ValueOf(msg).Elem()
	if err := decodeMessage(obj, v, ""); err != nil {
		return fmt.Errorf("Failed to convert JSON into Call protobuf: %v", err)
	}
	return nil
}

func decodeMessage(obj map[string]any, v reflect.Value, path string) error {
	var missing []string
	for _, ft := range fieldsOf(v.Type()) {
		jv, ok := obj[ft.name]
		if !ok || jv == nil { // null means unset, as in stout
			if ft.label == "req" {
				missing = append(missing, path+ft.name)
			}
			continue
		}
		fv := v.Field(ft.index)
		set, err := decodeField(jv, fv, ft, path+ft.name+".")
		if err != nil {
			return fmt.Errorf("field '%s': %v", path+ft.name, err)
		}
		if !set && ft.label == "req" {
			missing = append(missing, path+ft.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("Missing required fields: %s", strings.Join(missing, ", "))
	}
	return nil
}

// decodeField stores jv into fv; set is false when an unknown enum string
// in an optional field was dropped.
func decodeField(jv any, fv reflect.Value, ft fieldTag, path string) (set bool, err error) {
	switch fv.Kind() {
	case reflect.Slice:
		if fv.Type().Elem().Kind() == reflect.Uint8 {
			return decodeScalar(jv, fv, ft)
		}
		arr, ok := jv.([]any)
		if !ok {
			return false, fmt.Errorf("Expecting a JSON array")
		}
		out := reflect.MakeSlice(fv.Type(), 0, len(arr))
		for i, e := range arr {
			if e == nil {
				continue
			}
			ev := reflect.New(fv.Type().Elem()).Elem()
			ok, err := decodeField(e, ev, ft, fmt.Sprintf("%s%d.", path, i))
			if err != nil {
				return false, err
			}
			if ok {
				out = reflect.Append(out, ev)
			}
		}
		fv.Set(out)
		return true, nil
	case reflect.Map:
		m, ok := jv.(map[string]any)
		if !ok {
			return false, fmt.Errorf("Expecting a JSON object")
		}
		out := reflect.MakeMap(fv.Type())
		vt := parseTag(ft.valueTag)
		for k, e := range m {
			if e == nil {
				continue
			}
			ev := reflect.New(fv.Type().Elem()).Elem()
			if _, err := decodeField(e, ev, vt, path+k+"."); err != nil {
				return false, err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(fv.Type().Key()), ev)
		}
		fv.Set(out)
		return true, nil
	case reflect.Pointer:
		nv := reflect.New(fv.Type().Elem())
		ok, err := decodeField(jv, nv.Elem(), ft, path)
		if err != nil || !ok {
			return ok, err
		}
		fv.Set(nv)
		return true, nil
	case reflect.Struct:
		m, ok := jv.(map[string]any)
		if !ok {
			return false, fmt.Errorf("Expecting a JSON object")
		}
		return true, decodeMessage(m, fv, path)
	}
	return decodeScalar(jv, fv, ft)
}

func decodeScalar(jv any, fv reflect.Value, ft fieldTag) (bool, error) {
	if ft.enum != "" {
		s, ok := jv.(string)
		if !ok {
			return false, fmt.Errorf("Not expecting a JSON %s for enum field", jsonKind(jv))
		}
		n, ok := proto.EnumValueMap(ft.enum)[s]
		if !ok {
			if ft.label == "req" {
				return false, fmt.Errorf("Failed to find enum for '%s'", s)
			}
			return false, nil // stout drops unknown optional enum values
		}
		fv.SetInt(int64(n))
		return true, nil
	}
	switch fv.Kind() {
	case reflect.String:
		s, ok := jv.(string)
		if !ok {
			return false, fmt.Errorf("Not expecting a JSON %s", jsonKind(jv))
		}
		fv.SetString(s)
	case reflect.Slice: // bytes
		s, ok := jv.(string)
		if !ok {
			return false, fmt.Errorf("Not expecting a JSON %s", jsonKind(jv))
		}
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return false, fmt.Errorf("Failed to base64 decode: %v", err)
		}
		fv.SetBytes(b)
	case reflect.Bool:
		b, ok := jv.(bool)
		if !ok {
			return false, fmt.Errorf("Not expecting a JSON %s", jsonKind(jv))
		}
		fv.SetBool(b)
	case reflect.Int32, reflect.Int64:
		s, err := numberText(jv)
		if err != nil {
			return false, err
		}
		n, err := strconv.ParseInt(s, 10, fv.Type().Bits())
		if err != nil {
			return false, err
		}
		fv.SetInt(n)
	case reflect.Uint32, reflect.Uint64:
		s, err := numberText(jv)
		if err != nil {
			return false, err
		}
		n, err := strconv.ParseUint(s, 10, fv.Type().Bits())
		if err != nil {
			return false, err
		}
		fv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		s, err := numberText(jv)
		if err != nil {
			return false, err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false, err
		}
		fv.SetFloat(f)
	default:
		return false, fmt.Errorf("unsupported kind %s", fv.Kind())
	}
	return true, nil
}

// numberText accepts a JSON number, or a string holding one, as stout does
// for numeric fields.
func numberText(jv any) (string, error) {
	switch x := jv.(type) {
	case json.Number:
		return x.String(), nil
	case string:
		return x, nil
	}
	return "", fmt.Errorf("Not expecting a JSON %s for numeric field", jsonKind(jv))
}

func jsonKind(jv any) string {
	switch jv.(type) {
	case json.Number:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// jsonHasEnum reports whether the top-level JSON object sets key to a
// name in values: stout drops unknown names of optional enums, which then
// count as absent.
func jsonHasEnum(data []byte, key string, values map[string]int32) bool {
	var obj map[string]any
	if json.Unmarshal(data, &obj) != nil {
		return false
	}
	s, ok := obj[key].(string)
	if !ok {
		return false
	}
	_, ok = values[s]
	return ok
}
