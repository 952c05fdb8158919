package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
)

// kafkaCorrelation is the correlation id of the probe's one request.
const kafkaCorrelation = 0x656e7663 // "envc"

// checkKafka sends ApiVersions v0 (every broker since 0.10 answers it, before any
// authentication) and reads the error code: 0 is ready.
func checkKafka(rw io.ReadWriter) (bool, string, error) {
	if _, err := rw.Write(kafkaRequest()); err != nil {
		return false, "", err
	}
	return readKafka(rw)
}

func kafkaRequest() []byte {
	const client = "envctl-probe"
	var b []byte
	b = binary.BigEndian.AppendUint16(b, 18) // ApiVersions
	b = binary.BigEndian.AppendUint16(b, 0)  // version 0
	b = binary.BigEndian.AppendUint32(b, kafkaCorrelation)
	b = binary.BigEndian.AppendUint16(b, uint16(len(client)))
	b = append(b, client...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func readKafka(r io.Reader) (bool, string, error) {
	var hdr [4]byte
	if err := readFull(r, hdr[:], "an answer to ApiVersions"); err != nil {
		return false, "", err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 6 || n > maxMessage {
		return false, fmt.Sprintf("not a Kafka answer (response of %d bytes)", n), nil
	}
	body := make([]byte, n)
	if err := readFull(r, body, "an answer to ApiVersions"); err != nil {
		return false, "", err
	}
	if c := binary.BigEndian.Uint32(body); c != kafkaCorrelation {
		return false, fmt.Sprintf("not a Kafka answer (correlation id %d)", c), nil
	}
	code := int16(binary.BigEndian.Uint16(body[4:]))
	if code != 0 {
		return false, fmt.Sprintf("ApiVersions error code %d", code), nil
	}
	detail := "ApiVersions ok"
	if len(body) >= 10 {
		if k := int32(binary.BigEndian.Uint32(body[6:])); k >= 0 {
			detail += fmt.Sprintf(" (%d APIs)", k)
		}
	}
	return true, detail, nil
}
