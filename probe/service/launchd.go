package service

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
)

const plistName = "gitlab-runner.plist"

// detectLaunchd finds the plists `gitlab-runner install` writes on macOS:
// a user agent in ~/Library/LaunchAgents when run as a user, a daemon in
// /Library/LaunchDaemons when run as root. Whether launchd has them loaded
// is not asked (State "unknown"): the file says which config they read.
func detectLaunchd(o Options) ([]Install, error) {
	var installs []Install
	var errs []error
	type place struct {
		file  string
		agent bool
	}
	var places []place
	if o.HomeDir != "" {
		places = append(places, place{filepath.Join(o.HomeDir, "Library", "LaunchAgents", plistName), true})
	}
	places = append(places, place{filepath.Join(o.LaunchDaemonsDir, plistName), false})
	for _, pl := range places {
		b, err := os.ReadFile(pl.file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", pl.file, err))
			continue
		}
		in, err := launchdInstall(o, pl.file, b, pl.agent)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		installs = append(installs, in)
	}
	return installs, errors.Join(errs...)
}

func launchdInstall(o Options, file string, b []byte, agent bool) (Install, error) {
	dict, err := parsePlist(b)
	if err != nil {
		return Install{}, fmt.Errorf("parsing %s: %w", file, err)
	}
	str := func(k string) string { s, _ := dict[k].(string); return s }
	in := Install{Kind: Launchd, Name: str("Label"), Source: []string{file}, State: "unknown", UserService: agent}
	if in.Name == "" {
		in.Name = "gitlab-runner"
	}
	if envDict, ok := dict["EnvironmentVariables"].(map[string]any); ok {
		keys := make([]string, 0, len(envDict))
		for k := range envDict {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok := envDict[k].(string); ok {
				in.Environment = append(in.Environment, k+"="+v)
			}
		}
	}
	env := envMap(in.Environment)

	// The runner's own `restart` talks to launchd for the right plist; a
	// daemon's needs root.
	in.RestartCommand = "gitlab-runner restart"
	switch {
	case agent:
		in.User = o.UserName
		in.Home = o.HomeDir
	default:
		in.User = str("UserName")
		if in.User == "" {
			in.User = "root"
		}
		if o.Euid != 0 {
			in.RestartCommand = "sudo gitlab-runner restart"
		}
	}
	if h := env["HOME"]; h != "" {
		in.Home = h
	}
	if in.Home == "" {
		h, err := o.LookupHome(in.User)
		if err != nil {
			in.Notes = append(in.Notes, fmt.Sprintf("home of %s unknown: %v", in.User, err))
		}
		in.Home = h
	}
	if in.Home != "" {
		in.DockerConfigPath = path.Join(in.Home, ".docker", "config.json")
	}

	var argv []string
	if args, ok := dict["ProgramArguments"].([]any); ok {
		for _, a := range args {
			if s, ok := a.(string); ok {
				argv = append(argv, s)
			}
		}
	}
	ra, ok := parseRunArgv(argv)
	in.Executable = runnerExecutable(argv)
	if !ok {
		in.Notes = append(in.Notes, "ProgramArguments do not run `gitlab-runner run`: config.toml location unknown")
		return in, nil
	}
	cwd := str("WorkingDirectory")
	if cwd == "" {
		cwd = "/"
	}
	rf := resolveRunnerFiles(ra, env, cwd, isRootUser(in.User), in.Home)
	in.ConfigPath, in.ConfigPathFromDefault, in.WorkingDirectory = rf.configPath, rf.fromDefault, rf.workDir
	in.BuildUser = ra.buildUser
	return in, nil
}

// parsePlist decodes an XML property list whose top value is a dict into
// strings, bools, []any and map[string]any; numbers and dates stay text.
func parsePlist(b []byte) (map[string]any, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("no <dict> in the property list: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "dict" {
			v, err := plistValue(d, se)
			if err != nil {
				return nil, err
			}
			return v.(map[string]any), nil
		}
	}
}

// plistValue decodes the element started by se.
func plistValue(d *xml.Decoder, se xml.StartElement) (any, error) {
	switch se.Name.Local {
	case "dict":
		m := map[string]any{}
		key := ""
		for {
			child, end, err := nextChild(d)
			if err != nil || end {
				return m, err
			}
			if child.Name.Local == "key" {
				if err := d.DecodeElement(&key, &child); err != nil {
					return nil, err
				}
				continue
			}
			v, err := plistValue(d, child)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
	case "array":
		var a []any
		for {
			child, end, err := nextChild(d)
			if err != nil || end {
				return a, err
			}
			v, err := plistValue(d, child)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case "true", "false":
		return se.Name.Local == "true", d.Skip()
	default: // string, integer, real, date, data
		var s string
		err := d.DecodeElement(&s, &se)
		return s, err
	}
}

// nextChild returns the next child element, or end=true at the parent's
// end tag.
func nextChild(d *xml.Decoder) (xml.StartElement, bool, error) {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return xml.StartElement{}, false, io.ErrUnexpectedEOF
		}
		if err != nil {
			return xml.StartElement{}, false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, false, nil
		case xml.EndElement:
			return xml.StartElement{}, true, nil
		}
	}
}
