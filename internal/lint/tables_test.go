package lint

import (
	"strings"
	"testing"
)

// TestKubernetesAndOtherTablesChecked: every table GitLab Runner's schema
// knows is checked, [runners.kubernetes] included (it was skipped whole).
func TestKubernetesAndOtherTablesChecked(t *testing.T) {
	src := `concurrent = 2

[[runners]]
  name = "k8s"
  url = "https://gitlab.example.com"
  token = "glrt-k8sk8sk8sk8sk8sk8s"
  executor = "kubernetes"
  [runners.kubernetes]
    namespace = "gitlab"
    cpus = "2"
    memory = "4Gi"
    service_cpus = "1"
    service_memory = "1Gi"
    privilaged = true
    poll_timeout = "600"
    [[runners.kubernetes.pod_spec]]
      name = "tolerations"
      patch_type = "strategic"
      patch = "[]"
      paatch = "y"
    [[runners.kubernetes.volumes.host_path]]
      name = "docker"
      mount_path = "/var/run/docker.sock"
      host_path = "/var/run/docker.sock"
      readonly = true
    [runners.kubernetes.pod_security_context]
      run_as_non_root = true
      run_as_user = 1000
  [runners.machine]
    IdleCount = 1
    IdleTim = 600
  [runners.autoscaler]
    capacity_per_instance = 1
    max_instance = 10
  [runners.custom]
    run_exec = "/opt/run.sh"
    runexec = "/opt/run.sh"
  [runners.cache]
    Type = "s3"
    [runners.cache.s3]
      BucketName = "cache"
      Bucket = "cache"
  [runners.ssh]
    host = "build"
    hostname = "build"
  [runners.parallels]
    base_name = "vm"
    basename = "vm"
  [runners.virtualbox]
    base_name = "vm"
    snapshot = "s"
  [runners.instance]
    allowed_images = ["*"]
    alowed_images = ["*"]
`
	got := Lint([]byte(src), Options{})
	wants := []want{
		{id: "key.unknown", sev: Warning, line: 10},
		{id: "key.unknown", sev: Warning, line: 11},
		{id: "key.unknown", sev: Warning, line: 12},
		{id: "key.unknown", sev: Warning, line: 13},
		{id: "key.unknown", sev: Warning, line: 14, fix: `did you mean "privileged"?`},
		{id: "key.type", sev: Error, line: 15, fix: "write poll_timeout = 600, without quotes"},
		{id: "key.unknown", sev: Warning, line: 20, fix: `did you mean "patch"?`},
		{id: "key.unknown", sev: Warning, line: 25},
		{id: "key.unknown", sev: Warning, line: 31, fix: `did you mean "IdleTime"?`},
		{id: "key.unknown", sev: Warning, line: 34, fix: `did you mean "max_instances"?`},
		{id: "key.unknown", sev: Warning, line: 37, fix: `did you mean "run_exec"?`},
		{id: "key.unknown", sev: Warning, line: 42},
		{id: "key.unknown", sev: Warning, line: 45},
		{id: "key.unknown", sev: Warning, line: 48},
		{id: "key.unknown", sev: Warning, line: 51},
		{id: "key.unknown", sev: Warning, line: 54, fix: `did you mean "allowed_images"?`},
	}
	checkFindings(t, got, wants)
	if len(got) != len(wants) {
		for _, f := range got {
			t.Logf("%s", f)
		}
		t.Errorf("%d findings, want %d", len(got), len(wants))
	}
}

// TestMisplacedTableHeader: a header with a typo in its first segment
// ([[runner.…]] for [[runners.…]]) after the first runner is reported at
// its own line, as a table, with the header it probably meant.
func TestMisplacedTableHeader(t *testing.T) {
	src := `concurrent = 1

[[runners]]
  name = "k8s"
  url = "https://gitlab.example.com"
  token = "glrt-k8sk8sk8sk8sk8sk8s"
  executor = "kubernetes"
  [runners.kubernetes]
    namespace = "gitlab"
[[runner.kubernetes.volumes.pvc]]
  name = "cache"
  mount_path = "/cache"
`
	got := Lint([]byte(src), Options{})
	checkFindings(t, got, []want{{id: "key.unknown", sev: Warning, line: 10, fix: "did you mean [[runners.kubernetes.volumes.pvc]]?"}})
	if len(got) != 1 {
		t.Fatalf("findings = %v", got)
	}
	if m := got[0].Message; !strings.Contains(m, "[[runner.kubernetes.volumes.pvc]]") || strings.Contains(m, "above the first") {
		t.Errorf("message = %q", m)
	}
}

// TestNFSVolumeKeys: [[runners.kubernetes.volumes.nfs]] is decoded by the
// runner's own UnmarshalTOML, which reads six keys and drops the rest
// without a trace in BurntSushi's undecoded keys; lint names them.
func TestNFSVolumeKeys(t *testing.T) {
	src := `[[runners]]
  name = "k8s"
  url = "https://gitlab.example.com"
  token = "glrt-k8sk8sk8sk8sk8sk8s"
  executor = "kubernetes"
  [runners.kubernetes]
    [[runners.kubernetes.volumes.nfs]]
      name = "share"
      mount_path = "/share"
      server = "nfs.example.com"
      path = "/export"
      readonly = true
`
	checkFindings(t, Lint([]byte(src), Options{}), []want{{id: "key.unknown", sev: Warning, line: 12, fix: `did you mean "read_only"?`}})
}
