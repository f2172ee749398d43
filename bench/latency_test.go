//go:build bench

package bench

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// latencyProxy stands in front of a registry as the network would: every
// byte takes rtt/2 each way, so a request costs one round trip (and a new
// connection's first request no more: loopback connects at once). It
// counts the TCP connections the registry is asked for.
type latencyProxy struct {
	Addr  string // 127.0.0.1:PORT
	conns atomic.Int64
}

func startLatencyProxy(t *testing.T, backend string, rtt time.Duration) *latencyProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &latencyProxy{Addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				b, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer b.Close()
				done := make(chan struct{}, 2)
				go func() { delayCopy(b, c, rtt/2); done <- struct{}{} }()
				go func() { delayCopy(c, b, rtt/2); done <- struct{}{} }()
				<-done // either side closing ends both
			}()
		}
	}()
	return p
}

// Connections is how many TCP connections the proxy accepted.
func (p *latencyProxy) Connections() int64 { return p.conns.Load() }

// delayCopy copies src to dst, each chunk d after it was read, in order.
func delayCopy(dst io.WriteCloser, src io.Reader, d time.Duration) {
	type chunk struct {
		at   time.Time
		data []byte
	}
	ch := make(chan chunk, 256)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{time.Now().Add(d), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	dst.Close()
}
