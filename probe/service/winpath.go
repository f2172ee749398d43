package service

import "strings"

// Windows paths and command lines are handled with strings, not
// path/filepath: filepath follows the OS this package is built for, and
// Detect reads Windows services by their text whatever the build OS (tests
// run on Linux with GOOS "windows").

// splitWindowsCommandLine splits a Windows command line (a service's
// BINARY_PATH_NAME) into argv.
//
// The first word is the program, read as CreateProcess and
// CommandLineToArgvW read it: from an opening double quote to the next
// one, with no escapes, else up to the first space or tab. The other words
// follow the rules of Go's os package (commandLineToArgv in
// os/exec_windows.go), which is how the runner, a Go program, sees its
// arguments: spaces and tabs separate words except inside double quotes;
// 2n backslashes before a double quote are n backslashes and the quote
// opens or closes quoting, 2n+1 backslashes before it are n backslashes
// and a literal quote; backslashes not before a quote are literal; and
// inside quotes "" is a literal quote that also ends the quoting (the
// pre-2008 msvcrt rule Go keeps). An unclosed quote runs to the end.
func splitWindowsCommandLine(s string) []string {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return nil
	}
	var args []string
	if s[0] == '"' {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return []string{s[1:]}
		}
		args = append(args, s[1:1+end])
		s = s[2+end:]
	} else {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return []string{s}
		}
		args = append(args, s[:end])
		s = s[end:]
	}
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return args
		}
		var arg string
		arg, s = readWindowsArg(s)
		args = append(args, arg)
	}
}

// readWindowsArg reads one word after the program name; see
// splitWindowsCommandLine.
func readWindowsArg(s string) (arg, rest string) {
	var b strings.Builder
	inQuote := false
	slashes := 0
	for ; s != ""; s = s[1:] {
		c := s[0]
		switch c {
		case ' ', '\t':
			if !inQuote {
				b.WriteString(strings.Repeat(`\`, slashes))
				return b.String(), s[1:]
			}
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes/2))
			if slashes%2 == 0 {
				if inQuote && len(s) > 1 && s[1] == '"' {
					b.WriteByte('"')
					s = s[1:]
				}
				inQuote = !inQuote
			} else {
				b.WriteByte('"')
			}
			slashes = 0
			continue
		case '\\':
			slashes++
			continue
		}
		b.WriteString(strings.Repeat(`\`, slashes))
		slashes = 0
		b.WriteByte(c)
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	return b.String(), ""
}

// isWinSep reports whether c separates Windows path elements.
func isWinSep(c byte) bool { return c == '\\' || c == '/' }

// winVolume splits p into its volume ("C:", `\\server\share`, or "") and
// the rest.
func winVolume(p string) (vol, rest string) {
	if len(p) >= 2 && p[1] == ':' && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z') {
		return p[:2], p[2:]
	}
	if len(p) >= 2 && isWinSep(p[0]) && isWinSep(p[1]) {
		// \\server\share: the volume ends after the share name.
		i := 2
		for i < len(p) && !isWinSep(p[i]) {
			i++
		}
		if i < len(p) {
			i++
			for i < len(p) && !isWinSep(p[i]) {
				i++
			}
		}
		return p[:i], p[i:]
	}
	return "", p
}

// winIsAbs reports whether p is an absolute Windows path: `C:\x`, `C:/x`
// or a UNC path `\\server\share\x`. `\x` (rooted on the current drive) and
// `C:x` (relative to drive C's current directory) are not.
func winIsAbs(p string) bool {
	vol, rest := winVolume(p)
	switch {
	case vol == "":
		return false
	case isWinSep(vol[0]):
		return true
	}
	return rest != "" && isWinSep(rest[0])
}

// winClean cleans a Windows path as filepath.Clean does on Windows:
// separators become backslashes, repeated ones collapse, "." elements go
// and ".." removes the element before it (never the volume or root).
func winClean(p string) string {
	vol, rest := winVolume(p)
	vol = strings.ReplaceAll(vol, "/", `\`)
	rooted := rest != "" && isWinSep(rest[0])
	var elems []string
	for _, e := range strings.FieldsFunc(rest, func(r rune) bool { return r == '\\' || r == '/' }) {
		switch {
		case e == ".":
		case e == ".." && len(elems) > 0 && elems[len(elems)-1] != "..":
			elems = elems[:len(elems)-1]
		case e == ".." && rooted:
			// Above the root is the root.
		default:
			elems = append(elems, e)
		}
	}
	out := strings.Join(elems, `\`)
	switch {
	case rooted:
		out = `\` + out
	case out == "" && vol == "":
		out = "."
	case vol == "":
		// `.\C:\x` must not become the absolute C:\x.
		if v, _ := winVolume(out); v != "" {
			out = `.\` + out
		}
	}
	return vol + out
}

// winJoin resolves p against the absolute directory dir the way Windows
// resolves a relative path against a process's current directory: an
// absolute p stands alone; `\x` is rooted on dir's volume; `C:x` is
// relative to dir when dir is on drive C, else (a drive whose current
// directory is unknown, the root for a service) to that drive's root; any
// other p is relative to dir. "" when p is relative and dir is "".
func winJoin(dir, p string) string {
	switch {
	case winIsAbs(p):
		return winClean(p)
	case dir == "":
		return ""
	}
	dirVol, _ := winVolume(dir)
	vol, rest := winVolume(p)
	switch {
	case vol != "" && !strings.EqualFold(vol, dirVol):
		return winClean(vol + `\` + rest)
	case vol != "":
		p = rest
	case p != "" && isWinSep(p[0]):
		return winClean(dirVol + p)
	}
	return winClean(dir + `\` + p)
}
