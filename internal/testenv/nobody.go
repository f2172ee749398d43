//go:build linux

package testenv

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// NobodyUID is the account tests run a process as when it must not be
// root nor in the group of the daemon's socket: uid and gid 65534.
const NobodyUID = 65534

// RunTestBinaryAsNobody re-executes the running test binary as uid 65534
// with only env (plus PATH and a HOME it may write), running no tests:
// the package's TestMain reads env and does the work. Root runs the
// integration tests and is never denied anything, so permission failures
// can only be shown this way. The binary is copied first, because go test
// builds it under a 0700 directory nobody cannot enter.
func RunTestBinaryAsNobody(t testing.TB, env ...string) (stdout []byte) {
	t.Helper()
	bin := copyTestBinary(t)
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + filepath.Dir(bin)}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: NobodyUID, Gid: NobodyUID}}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv: test binary as uid %d: %v\nstderr: %s", NobodyUID, err, errOut.String())
	}
	return out.Bytes()
}

func copyTestBinary(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "testenv-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(dir, filepath.Base(self))
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}
