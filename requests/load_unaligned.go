//go:build amd64 || arm64 || 386

package requests

import "unsafe"

// le64 is the little-endian word at b[i:i+8], which the caller has made
// sure lies within b: one unaligned load, with none of the bounds checks
// binary.LittleEndian.Uint64(b[i:]) costs (a fifth of a page's check time
// in the shape matcher). These architectures are little-endian and load
// words at any address.
func le64(b []byte, i int) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}
