package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

const opMsg = 2013

// checkMongo runs `hello` in an OP_MSG (MongoDB 3.6 and later) and reads ok. A server older
// than 4.4.2 does not know hello and answers CommandNotFound: the probe then asks the older
// isMaster on the same connection. ok: 1 is ready.
func checkMongo(rw io.ReadWriter) (bool, string, error) {
	for i, cmd := range []string{"hello", "isMaster"} {
		if _, err := rw.Write(mongoCommand(cmd, int32(i+1))); err != nil {
			return false, "", err
		}
		doc, err := readOpMsg(rw)
		if err != nil {
			return false, "", err
		}
		f, perr := bsonTop(doc)
		if perr != "" {
			return false, "not a MongoDB answer (" + perr + ")", nil
		}
		if f.ok {
			return true, cmd + " ok", nil
		}
		if cmd == "hello" && f.code == 59 { // CommandNotFound
			continue
		}
		return false, fmt.Sprintf("%s: ok 0, code %d: %s", cmd, f.code, printable(f.errmsg)), nil
	}
	return false, "isMaster: not ok", nil
}

// mongoCommand is an OP_MSG with one body section: {<cmd>: 1, $db: "admin"}.
func mongoCommand(cmd string, id int32) []byte {
	var doc []byte
	doc = append(doc, 0x10)
	doc = append(doc, cmd...)
	doc = append(doc, 0)
	doc = binary.LittleEndian.AppendUint32(doc, 1)
	doc = append(doc, 0x02)
	doc = append(doc, "$db\x00"...)
	doc = binary.LittleEndian.AppendUint32(doc, 6)
	doc = append(doc, "admin\x00"...)
	doc = append(doc, 0)
	doc = append(binary.LittleEndian.AppendUint32(nil, uint32(len(doc)+4)), doc...)

	var msg []byte
	msg = binary.LittleEndian.AppendUint32(msg, uint32(16+4+1+len(doc)))
	msg = binary.LittleEndian.AppendUint32(msg, uint32(id))
	msg = binary.LittleEndian.AppendUint32(msg, 0)
	msg = binary.LittleEndian.AppendUint32(msg, opMsg)
	msg = binary.LittleEndian.AppendUint32(msg, 0) // flagBits
	msg = append(msg, 0)                           // section kind 0: the body
	return append(msg, doc...)
}

// readOpMsg reads one OP_MSG and returns its body document.
func readOpMsg(r io.Reader) ([]byte, error) {
	var hdr [16]byte
	if err := readFull(r, hdr[:], "an answer to hello"); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	op := binary.LittleEndian.Uint32(hdr[12:])
	if n < 16+4+1+5 || n > maxMessage {
		return nil, short("not a MongoDB answer (message of %d bytes)", n)
	}
	if op != opMsg {
		return nil, short("not a MongoDB answer (opcode %d)", op)
	}
	body := make([]byte, n-16)
	if err := readFull(r, body, "an answer to hello"); err != nil {
		return nil, err
	}
	if body[4] != 0 {
		return nil, short("not a MongoDB answer (section kind %d)", body[4])
	}
	return body[5:], nil
}

// bsonFields are the few top-level fields of a command's answer that the probe reads.
type bsonFields struct {
	ok     bool
	code   int64
	errmsg string
}

// bsonTop reads a document's top-level ok, code and errmsg, skipping every other element; the
// string is why it could not, "" when it could.
func bsonTop(doc []byte) (bsonFields, string) {
	var f bsonFields
	if len(doc) < 5 {
		return f, "a document shorter than 5 bytes"
	}
	n := int(binary.LittleEndian.Uint32(doc))
	if n < 5 || n > len(doc) {
		return f, fmt.Sprintf("a document of %d bytes in %d", n, len(doc))
	}
	b := doc[4 : n-1]
	for len(b) > 0 {
		typ := b[0]
		end := 1
		for end < len(b) && b[end] != 0 {
			end++
		}
		if end >= len(b) {
			return f, "an element name without its end"
		}
		name := string(b[1:end])
		b = b[end+1:]
		size, num, str, ok := bsonValue(typ, b)
		if !ok {
			return f, fmt.Sprintf("element %q of type 0x%02x", printable(name), typ)
		}
		switch name {
		case "ok":
			f.ok = num == 1
		case "code":
			f.code = int64(num)
		case "errmsg":
			f.errmsg = str
		}
		b = b[size:]
	}
	return f, ""
}

// bsonValue measures one value of type typ at the start of b, and reads it as a number or a
// string where it is one.
func bsonValue(typ byte, b []byte) (size int, num float64, str string, ok bool) {
	fixed := func(n int) (int, float64, string, bool) {
		if len(b) < n {
			return 0, 0, "", false
		}
		return n, 0, "", true
	}
	switch typ {
	case 0x01: // double
		if len(b) < 8 {
			return 0, 0, "", false
		}
		return 8, math.Float64frombits(binary.LittleEndian.Uint64(b)), "", true
	case 0x10: // int32
		if len(b) < 4 {
			return 0, 0, "", false
		}
		return 4, float64(int32(binary.LittleEndian.Uint32(b))), "", true
	case 0x12: // int64
		if len(b) < 8 {
			return 0, 0, "", false
		}
		return 8, float64(int64(binary.LittleEndian.Uint64(b))), "", true
	case 0x08: // bool
		if len(b) < 1 {
			return 0, 0, "", false
		}
		return 1, float64(b[0]), "", true
	case 0x02, 0x0d, 0x0e: // string, JavaScript, symbol
		if len(b) < 4 {
			return 0, 0, "", false
		}
		n := int(int32(binary.LittleEndian.Uint32(b)))
		if n < 1 || 4+n > len(b) {
			return 0, 0, "", false
		}
		return 4 + n, 0, string(b[4 : 4+n-1]), true
	case 0x03, 0x04: // document, array
		if len(b) < 4 {
			return 0, 0, "", false
		}
		n := int(int32(binary.LittleEndian.Uint32(b)))
		if n < 5 || n > len(b) {
			return 0, 0, "", false
		}
		return n, 0, "", true
	case 0x05: // binary
		if len(b) < 5 {
			return 0, 0, "", false
		}
		n := int(int32(binary.LittleEndian.Uint32(b)))
		if n < 0 || 5+n > len(b) {
			return 0, 0, "", false
		}
		return 5 + n, 0, "", true
	case 0x06, 0x0a, 0x7f, 0xff: // undefined, null, max key, min key
		return 0, 0, "", true
	case 0x07: // ObjectId
		return fixed(12)
	case 0x09, 0x11: // datetime, timestamp
		return fixed(8)
	case 0x13: // decimal128
		return fixed(16)
	}
	return 0, 0, "", false
}
