package fleettest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnerup/runnerup/internal/systemid"
	"github.com/runnerup/runnerup/internal/testenv"
)

// testCloudInit: examples/cloud-init/user-data.yaml is valid for Debian's
// cloud-init and works: cloud-init's own write_files and runcmd code turn
// it into files and the runcmd script, which runs against the shared
// dockerd, registry and fake GitLab, first as a fresh instance with its
// secrets in mounted files, whose packaged service already wrote this
// host's system id (kept), then as a clone of an image that already held
// config.toml and another host's .runner_system_id (replaced once), with
// its secrets and an API token in instance metadata.
func (f *fleet) testCloudInit(t *testing.T) {
	userData := filepath.Join(f.repo, "examples", "cloud-init", "user-data.yaml")

	t.Run("schema", func(t *testing.T) {
		res := f.run(t, "", nil, "cloud-init", "schema", "--config-file", userData)
		if res.code != 0 || !strings.Contains(res.out, "Valid cloud-config") {
			t.Errorf("cloud-init schema: exit %d\n%s", res.code, res.out)
		}
		// Control: the validator rejects a broken copy.
		broken := filepath.Join(f.work, "broken-user-data.yaml")
		writeFile(t, broken, strings.Replace(readFile(t, userData), "runcmd:\n", "runcmd: not-a-list\nbootcmd:\n", 1), 0o644)
		if res := f.run(t, "", nil, "cloud-init", "schema", "--config-file", broken); res.code == 0 {
			t.Errorf("cloud-init schema accepted runcmd that is not a list:\n%s", res.out)
		}
	})

	// The example's placeholders, replaced by this test's services. A
	// placeholder the example no longer holds fails the test rather than
	// silently testing something else.
	text := readFile(t, userData)
	for _, p := range []string{"https://gitlab.example.com", "registry.example.com:5000/ci/build:1",
		"registry.example.com:5000/ci/postgres:16", `username = "ci"`} {
		if !strings.Contains(text, p) {
			t.Fatalf("the example no longer contains %q; update this test", p)
		}
	}
	if f.reg.Username != "ci" {
		t.Fatalf("the registry user is %q, the example's is ci", f.reg.Username)
	}
	text = strings.NewReplacer("https://gitlab.example.com", f.gl.URL, "registry.example.com:5000", f.reg.Host).Replace(text)
	local := filepath.Join(f.work, "cloud-init", "user-data.yaml")
	writeFile(t, local, text, 0o600)

	token := f.secret("cloud-init runner token", "glrt-CLOUDcloudCLOUDcloud7")
	apiToken := f.secret("cloud-init API token", "glpat-CLOUDapiTOKENcloud01")
	f.gl.AddRunner(token, 707)
	f.gl.AddAPIToken(apiToken)
	var freshRoot, firstID string

	t.Run("fresh instance", func(t *testing.T) {
		root := filepath.Join(f.work, "cloud-init", "fresh")
		freshRoot = root
		secrets := filepath.Join(root, "run", "secrets", "runnerup")
		writeFile(t, filepath.Join(secrets, "runner-token"), token+"\n", 0o600)
		writeFile(t, filepath.Join(secrets, "registry-password"), f.reg.Password, 0o600)
		// The packaged gitlab-runner service started before runcmd and
		// wrote the id it derives from this host's machine id: the guard
		// must keep it (it is this host's, not a clone's).
		mid, err := systemid.MachineID()
		if err != nil || mid == "" {
			t.Fatalf("this host has no machine id (%v): the test needs one to stand for the instance's", err)
		}
		serviceID := systemid.FromMachineID(mid)
		writeFile(t, filepath.Join(root, "etc", "gitlab-runner", ".runner_system_id"), serviceID+"\n", 0o600)
		out, code := f.runcmd(t, local, root, nil)
		if code != 0 {
			t.Fatalf("runcmd exit %d:\n%s", code, out)
		}
		configPath := filepath.Join(root, "etc", "gitlab-runner", "config.toml")
		assertMode(t, configPath, 0o600)
		assertMode(t, filepath.Join(root, "etc", "runnerup", "runner.toml"), 0o600)
		testenv.CheckRunnerConfig(t, []byte(readFile(t, configPath)))
		firstID = strings.TrimSpace(readFile(t, filepath.Join(root, "etc", "gitlab-runner", ".runner_system_id")))
		if firstID != serviceID {
			t.Errorf("a fresh instance got system id %q, want %s, the one its service derived from the machine id (no --fresh-system-id)", firstID, serviceID)
		}
		dockerDir := filepath.Join(root, "root", ".docker")
		if _, stderr, err := f.d.Docker(t, dockerDir, "pull", f.image); err != nil {
			t.Errorf("docker pull with the config.json the recipe wrote: %v\n%s", err, stderr)
		}
		if n := f.countManagerReads(); n != 0 {
			t.Errorf("without an API token the recipe waited for contact (%d manager reads)", n)
		}
		f.collect("cloud-init fresh runcmd output", out)
		f.collect("cloud-init runcmd script", readFile(t, filepath.Join(root, "var", "lib", "cloud", "instance", "scripts", "runcmd")))
	})

	t.Run("clone of a baked image", func(t *testing.T) {
		if freshRoot == "" || firstID == "" {
			t.Skip("needs the fresh instance")
		}
		root := filepath.Join(f.work, "cloud-init", "clone")
		configDir := filepath.Join(root, "etc", "gitlab-runner")
		// The image was captured after its first boot on another host:
		// config.toml and that host's system id come with it.
		writeFile(t, filepath.Join(configDir, "config.toml"), readFile(t, filepath.Join(freshRoot, "etc", "gitlab-runner", "config.toml")), 0o600)
		bakedID := systemid.FromMachineID("0123456789abcdef0123456789abcdef")
		writeFile(t, filepath.Join(configDir, ".runner_system_id"), bakedID+"\n", 0o600)
		f.metadataMu.Lock()
		f.metadata["runner-token"] = token
		f.metadata["registry-password"] = f.reg.Password
		f.metadata["gitlab-api-token"] = apiToken
		f.metadataMu.Unlock()

		// The runner service: once running with a system id, it polls
		// GitLab (here: the fake's Contact, what a job request does).
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				b, err := os.ReadFile(filepath.Join(configDir, ".runner_system_id"))
				if id := strings.TrimSpace(string(b)); err == nil && id != bakedID {
					f.gl.Contact(token, id)
				}
			}
		}()
		out, code := f.runcmd(t, local, root, []string{
			"RUNNERUP_SECRETS_URL=" + f.httpURL + "/metadata",
			"RUNNERUP_WAIT_CONTACT=20s",
		})
		cancel()
		wg.Wait()
		if code != 0 {
			t.Fatalf("runcmd exit %d:\n%s", code, out)
		}
		newID := strings.TrimSpace(readFile(t, filepath.Join(configDir, ".runner_system_id")))
		if !strings.HasPrefix(newID, "r_") || newID == bakedID {
			t.Errorf("the clone's system id is %q (baked: %q), want a fresh r_ id", newID, bakedID)
		}
		if managers := f.gl.Managers(token); !slices.Contains(managers, firstID) || !slices.Contains(managers, newID) {
			t.Errorf("GitLab's runner managers %v, want the fresh instance's %s and the clone's %s apart", managers, firstID, newID)
		}
		// The apply that writes the fresh id verifies with it: the clone
		// never shows up under the baked id.
		if managers := f.gl.Managers(token); slices.Contains(managers, bakedID) {
			t.Errorf("GitLab's runner managers %v include the baked id %s", managers, bakedID)
		}
		if f.countManagerReads() == 0 {
			t.Error("with an API token the recipe did not wait for contact (no GET /runners/:id/managers)")
		}
		if !strings.Contains(out, "gitlab.contact") {
			t.Errorf("the wait's check is not in the output:\n%s", out)
		}
		if n := strings.Count(readFile(t, filepath.Join(configDir, "config.toml")), "[[runners]]"); n != 1 {
			t.Errorf("config.toml has %d runners after the clone's first boot, want the one merged entry", n)
		}
		f.collect("cloud-init clone runcmd output", out)
	})
}

// runcmd materialises user-data under root with cloud-init's own code and
// runs the runcmd script as scripts-user would, with the settings the
// recipe reads from the environment pointed under root. It returns the
// script's combined output and exit code.
func (f *fleet) runcmd(t *testing.T, userData, root string, env []string) (string, int) {
	t.Helper()
	materialize, err := filepath.Abs("testdata/cloudinit_materialize.py")
	if err != nil {
		t.Fatal(err)
	}
	res := f.run(t, "", nil, python, materialize, userData, root)
	if res.code != 0 {
		t.Fatalf("materialising user-data: exit %d\n%s", res.code, res.out)
	}
	script := strings.TrimSpace(res.out)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"RUNNERUP_URL="+f.archiveURL,
		"RUNNERUP_SHA256="+f.archiveSHA,
		"RUNNERUP_BIN_DIR="+filepath.Join(root, "usr", "local", "bin"),
		"RUNNERUP_ANSWERS="+filepath.Join(root, "etc", "runnerup", "runner.toml"),
		"RUNNERUP_CONFIG="+filepath.Join(root, "etc", "gitlab-runner", "config.toml"),
		"RUNNERUP_DOCKER_CONFIG="+filepath.Join(root, "root", ".docker"),
		"RUNNERUP_SECRETS_DIR="+filepath.Join(root, "run", "secrets", "runnerup"),
	)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("runcmd timed out:\n%s", out)
	}
	code := 0
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("runcmd: %v", err)
		}
		code = exitErr.ExitCode()
	}
	return string(out), code
}

// countManagerReads counts GET /api/v4/runners/:id/managers requests.
func (f *fleet) countManagerReads() int {
	n := 0
	for _, r := range f.gl.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/managers") {
			n++
		}
	}
	return n
}

func (f *fleet) collect(where, text string) {
	f.outputsMu.Lock()
	defer f.outputsMu.Unlock()
	f.outputs[where] = text
}
