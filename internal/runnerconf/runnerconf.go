// Package runnerconf decodes the [[runners]] entries of GitLab Runner's
// config.toml and finds the entry a command is about: the one decoder
// render, probe, wizard, tui and the CLI read entries with. Keys are
// decoded with the types GitLab Runner gives them (common/config.go), so a
// file the runner would refuse for a key's type is refused here too.
package runnerconf

import (
	"fmt"
	"net"
	neturl "net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/BurntSushi/toml"
)

// File is a config.toml decoded once: the global keys runnerup reads and
// its [[runners]] entries, in file order.
type File struct {
	// Concurrent is the global concurrent; nil when absent or not an
	// integer (a wrong type is the linter's to report: an edit that does
	// not set it keeps its bytes).
	Concurrent *int
	Runners    []Runner
	// OtherRunnersKey is a top-level key that differs from "runners" only
	// in case ([[Runners]]): BurntSushi, which GitLab Runner decodes with,
	// matches keys to fields case-insensitively, so the runner reads it
	// as its runners list too. "" when there is none.
	OtherRunnersKey string `toml:"-"`
}

// Runner is one [[runners]] entry: every key some part of runnerup reads.
type Runner struct {
	// Index is the entry's position among the [[runners]] entries.
	Index           int       `toml:"-"`
	Name            string    `toml:"name"`
	URL             string    `toml:"url"`
	ID              int64     `toml:"id"`
	Token           string    `toml:"token"`
	TokenObtainedAt time.Time `toml:"token_obtained_at"`
	TokenExpiresAt  time.Time `toml:"token_expires_at"`
	TLSCAFile       string    `toml:"tls-ca-file"`
	Executor        string    `toml:"executor"`
	Shell           string    `toml:"shell"`
	Environment     []string  `toml:"environment"`
	Docker          *Docker   `toml:"docker"`
}

// Docker is an entry's [runners.docker] table.
type Docker struct {
	Host                string       `toml:"host"`
	Image               string       `toml:"image"`
	Privileged          bool         `toml:"privileged"`
	Volumes             []string     `toml:"volumes"`
	PullPolicy          StringOrList `toml:"pull_policy"`
	AllowedPullPolicies StringOrList `toml:"allowed_pull_policies"`
	HelperImage         string       `toml:"helper_image"`
	HelperImageFlavor   string       `toml:"helper_image_flavor"`
	Services            []Service    `toml:"services"`
}

// Service is one [[runners.docker.services]] entry.
type Service struct {
	Name        string   `toml:"name"`
	Alias       string   `toml:"alias,omitempty"`
	Command     []string `toml:"command,omitempty"`
	Entrypoint  []string `toml:"entrypoint,omitempty"`
	Environment []string `toml:"environment,omitempty"`
}

// StringOrList decodes a string or a list of strings, as GitLab Runner
// reads pull_policy.
type StringOrList []string

// UnmarshalTOML implements toml.Unmarshaler.
func (s *StringOrList) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*s = StringOrList{v}
	case []any:
		out := make(StringOrList, 0, len(v))
		for i, e := range v {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("element %d is %T, want a string", i, e)
			}
			out = append(out, str)
		}
		*s = out
	default:
		return fmt.Errorf("want a string or a list of strings, got %T", v)
	}
	return nil
}

// lenientInt decodes an integer and ignores any other type.
type lenientInt struct{ value *int }

// UnmarshalTOML implements toml.Unmarshaler.
func (n *lenientInt) UnmarshalTOML(v any) error {
	if i, ok := v.(int64); ok {
		n.value = new(int(i))
	}
	return nil
}

// counts are how often this process decoded config.toml bytes and
// searched the entries for a runner (see Counted).
var counts struct{ decodes, lookups atomic.Int64 }

// Counts say how often Parse and Find ran in this process.
type Counts struct{ Decodes, Lookups int64 }

// Counted returns the counts so far: tests take the difference around a
// command to pin that it reads config.toml once and finds its runner once.
func Counted() Counts {
	return Counts{Decodes: counts.decodes.Load(), Lookups: counts.lookups.Load()}
}

// Parse decodes config.toml bytes (nil or empty: no entries). The error
// is BurntSushi's, which names the line and the last key.
func Parse(data []byte) (*File, error) {
	counts.decodes.Add(1)
	var doc struct {
		Concurrent lenientInt `toml:"concurrent"`
		Runners    []Runner   `toml:"runners"`
	}
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		return nil, err
	}
	f := File{Concurrent: doc.Concurrent.value, Runners: doc.Runners}
	for _, k := range md.Keys() {
		if len(k) == 1 && k[0] != "runners" && strings.EqualFold(k[0], "runners") {
			f.OtherRunnersKey = k[0]
			break
		}
	}
	for i := range f.Runners {
		f.Runners[i].Index = i
	}
	return &f, nil
}

// DuplicateNameError: several entries share the name (on the url's
// GitLab), and the token does not tell which one is meant.
type DuplicateNameError struct {
	Name, URL string
	Count     int
}

func (e *DuplicateNameError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("%d runners are named %q; rename or remove the duplicates first", e.Count, e.Name)
	}
	return fmt.Sprintf("%d runners are named %q with url %s; rename or remove the duplicates first", e.Count, e.Name, e.URL)
}

// Find locates a runner: the entry named name on the GitLab at url
// (several such: the one holding token), else the entry holding url and
// token. An entry with the name but another GitLab's url is not this
// runner (its token belongs to that GitLab; OtherGitLab lists them). url
// "" matches by name alone. It returns -1 and nil when there is none.
func (f *File) Find(name, url, token string) (int, *Runner, error) {
	counts.lookups.Add(1)
	var byName []int
	for i, r := range f.Runners {
		if r.Name == name && (url == "" || SameGitLab(r.URL, url)) {
			byName = append(byName, i)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], &f.Runners[byName[0]], nil
	case 0:
	default:
		// Two that still tie are both live runners; editing one of them
		// would leave the other as it was without a word.
		if token != "" {
			for _, i := range byName {
				if f.Runners[i].Token == token {
					return i, &f.Runners[i], nil
				}
			}
		}
		return -1, nil, &DuplicateNameError{Name: name, URL: url, Count: len(byName)}
	}
	if token != "" {
		for i, r := range f.Runners {
			if r.Token == token && SameGitLab(r.URL, url) {
				return i, &f.Runners[i], nil
			}
		}
	}
	return -1, nil, nil
}

// OtherGitLab lists the entries named name whose url is another GitLab
// than url: not the runner Find looks for, but worth a word (a migration,
// or answers copied from another host).
func (f *File) OtherGitLab(name, url string) []Runner {
	var out []Runner
	for _, r := range f.Runners {
		if r.Name == name && !SameGitLab(r.URL, url) {
			out = append(out, r)
		}
	}
	return out
}

// SameGitLab reports whether two GitLab urls name the same instance as the
// runner uses them: scheme and host compared case-insensitively, a
// default port equal to none, a trailing / or legacy /ci ignored.
func SameGitLab(a, b string) bool { return gitlabKey(a) == gitlabKey(b) }

func gitlabKey(raw string) string {
	s := strings.TrimRight(strings.TrimSpace(raw), "/")
	s = strings.TrimRight(strings.TrimSuffix(s, "/ci"), "/")
	u, err := neturl.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	return scheme + "://" + host + u.EscapedPath()
}
