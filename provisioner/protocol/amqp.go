package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
)

// amqpHeader is the AMQP 0-9-1 protocol header a client opens with.
var amqpHeader = []byte("AMQP\x00\x00\x09\x01")

// checkAMQP sends the protocol header and reads the first frame: a method frame carrying
// Connection.Start (class 10, method 10) is the broker's first step of every client's
// handshake: ready. A broker that does not speak 0-9-1 answers with the header it does speak.
func checkAMQP(rw io.ReadWriter) (bool, string, error) {
	if _, err := rw.Write(amqpHeader); err != nil {
		return false, "", err
	}
	return readAMQP(rw)
}

func readAMQP(r io.Reader) (bool, string, error) {
	var hdr [7]byte
	if err := readFull(r, hdr[:], "Connection.Start"); err != nil {
		return false, "", err
	}
	if string(hdr[:4]) == "AMQP" {
		var rest [1]byte
		_ = readFull(r, rest[:], "its protocol header")
		return false, fmt.Sprintf("the server speaks AMQP %d-%d-%d, not 0-9-1", hdr[5], hdr[6], rest[0]), nil
	}
	typ, size := hdr[0], binary.BigEndian.Uint32(hdr[3:])
	if typ != 1 {
		return false, fmt.Sprintf("not an AMQP method frame (frame type %d)", typ), nil
	}
	if size < 4 || size > maxMessage {
		return false, fmt.Sprintf("not an AMQP method frame (payload of %d bytes)", size), nil
	}
	payload := make([]byte, size+1) // and the frame-end octet
	if err := readFull(r, payload, "Connection.Start"); err != nil {
		return false, "", err
	}
	if payload[size] != 0xce {
		return false, "not an AMQP frame (no frame end)", nil
	}
	class, method := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
	if class != 10 || method != 10 {
		return false, fmt.Sprintf("the first method is %d.%d, not Connection.Start (10.10)", class, method), nil
	}
	detail := "Connection.Start"
	if size >= 6 {
		detail += fmt.Sprintf(" (AMQP %d-%d)", payload[4], payload[5])
	}
	return true, detail, nil
}
