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
	return TrapFunc(t, nil)
}

// TrapFunc is Trap calling onAccept (when not nil) for each connection
// before closing it: the client's call fails only after onAccept returns,
// so a test can change the world at the moment of the first contact.
func TrapFunc(t testing.TB, onAccept func(n int64)) (addr string, conns func() int64) {
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
			count := n.Add(1)
			if onAccept != nil {
				onAccept(count)
			}
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), n.Load
}
