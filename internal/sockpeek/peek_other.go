//go:build !unix

package sockpeek

// PeekFD cannot peek without blocking here.
func PeekFD(uintptr) State { return Unknown }
