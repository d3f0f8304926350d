package mqtt

// Connack returns the CONNACK that refuses a connection of the given
// protocol level for reason, or nil when that version's specification says
// to close without one:
//
//	reason              3.1 / 3.1.1 return code        5 reason code
//	malformed           none (close)                    0x81 Malformed Packet
//	unsupported version 0x01 Unacceptable protocol ver. 0x84 Unsupported Protocol Version
//	too large           none (close)                    0x95 Packet too large
//	quota exceeded      0x03 Server unavailable         0x97 Quota exceeded
//
// An unknown level (0) gets the 3.1.1 answer for an unsupported version,
// as MQTT 5 §3.1.2.2 allows, and nothing otherwise.
func Connack(level byte, reason Reason) []byte {
	if level == Level5 {
		var code byte
		switch reason {
		case ReasonMalformed:
			code = 0x81
		case ReasonUnsupportedVersion:
			code = 0x84
		case ReasonTooLarge:
			code = 0x95
		case ReasonQuotaExceeded:
			code = 0x97
		default:
			return nil
		}
		// type 2, remaining length 3: acknowledge flags, reason code,
		// property length 0.
		return []byte{0x20, 0x03, 0x00, code, 0x00}
	}
	var code byte
	switch reason {
	case ReasonUnsupportedVersion:
		code = 0x01
	case ReasonQuotaExceeded:
		if level == 0 {
			return nil
		}
		code = 0x03
	default:
		return nil
	}
	return []byte{0x20, 0x02, 0x00, code}
}
