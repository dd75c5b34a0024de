//go:build !(amd64 || arm64 || 386)

package requests

import "encoding/binary"

// le64 is the little-endian word at b[i:i+8] (see load_unaligned.go).
func le64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
