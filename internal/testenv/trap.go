package testenv

import (
	"net"
	"sync/atomic"
	"testing"
)

// Trap listens on a loopback TCP port and counts the connections it gets,
// closing each at once: it stands for a proxy or a remote daemon that a
// test proves is never contacted. addr is host:port.
func Trap(t testing.TB) (addr string, conns func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), n.Load
}
