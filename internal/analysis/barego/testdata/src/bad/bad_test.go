package bad

import "testing"

// Test files may start goroutines (servers, helpers): no diagnostic.
func TestSpawn(t *testing.T) {
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
}
