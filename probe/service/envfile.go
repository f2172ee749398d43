package service

import "strings"

// parseEnvFile reads an EnvironmentFile= the way systemd does: KEY=VALUE
// lines, # and ; comment lines, a trailing backslash continues a line,
// values may be single-quoted (literal) or double-quoted (\" \\ \$ \`
// escapes), and unquoted values lose trailing whitespace. Assignments come
// back in file order; lines without '=' are skipped, as systemd warns and
// skips them.
func parseEnvFile(b []byte) []string {
	var out []string
	for _, line := range logicalLines(string(b), "") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !isEnvName(key) {
			continue
		}
		out = append(out, key+"="+envFileValue(strings.TrimLeft(val, " \t")))
	}
	return out
}

// envFileValue decodes one value of an environment file.
func envFileValue(v string) string {
	var b strings.Builder
	var spaces strings.Builder // unquoted whitespace, kept only if more follows
	flush := func() {
		b.WriteString(spaces.String())
		spaces.Reset()
	}
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0:
				b.WriteByte(v[i+1])
				i++
			default:
				b.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			spaces.WriteByte(c)
		default:
			flush()
			switch {
			case c == '\'' || c == '"':
				quote = c
			case c == '\\' && i+1 < len(v):
				b.WriteByte(v[i+1])
				i++
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// logicalLines splits text into lines, joining a line that ends in a
// backslash with the next one through join: systemd replaces the backslash
// with a space in unit files and drops it in environment files.
func logicalLines(text, join string) []string {
	var out []string
	var cur strings.Builder
	cont := false
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if cont {
			// systemd ignores comment lines inside a continuation.
			if t := strings.TrimSpace(line); t != "" && (t[0] == '#' || t[0] == ';') {
				continue
			}
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s)
			cur.WriteString(join)
			cont = true
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
		cont = false
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
