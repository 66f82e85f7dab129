package tubo

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The Go code values come from the header through cgo (C.TUBO_E_*), so only
// the sentinels can drift from the C library: this test fails when a code is
// added to tubo.h (or to any header it includes) without its Err* sentinel.

// sentinelsByName is every exported Err* variable of the package; the test
// checks it against the package's source, so a new sentinel must be added
// here too.
var sentinelsByName = map[string]error{
	"ErrOther":           ErrOther,
	"ErrInvalidArgument": ErrInvalidArgument,
	"ErrSystem":          ErrSystem,
	"ErrClosed":          ErrClosed,
	"ErrTruncated":       ErrTruncated,
	"ErrBadLength":       ErrBadLength,
	"ErrTooLarge":        ErrTooLarge,
	"ErrPeerClosed":      ErrPeerClosed,
	"ErrTimeout":         ErrTimeout,
	"ErrSpawn":           ErrSpawn,
	"ErrChannel":         ErrChannel,
	"ErrWorkerDied":      ErrWorkerDied,
	"ErrTaskFailed":      ErrTaskFailed,
	"ErrCancelled":       ErrCancelled,
	"ErrBufferTooSmall":  ErrBufferTooSmall,
	"ErrNoMemory":        ErrNoMemory,
}

func TestEveryCodeHasExactlyOneSentinel(t *testing.T) {
	checkSentinelTable(t)
	codes := headerCodes(t)
	if len(codes) == 0 {
		t.Fatal("no TUBO_E_* code found in tubo.h")
	}
	// The codes the library names: they must all be in the header too.
	inHeader := map[int]string{}
	for name, v := range codes {
		inHeader[v] = name
	}
	for c := -1; c >= -1000; c-- {
		if name := Code(c).String(); name != "unknown" && inHeader[c] == "" {
			t.Errorf("the library names code %d %q, but tubo.h has no TUBO_E_* code of that value", c, name)
		}
	}
	matched := map[string]string{} // sentinel name -> code name
	for _, name := range sortedKeys(codes) {
		v := codes[name]
		if v >= 0 {
			t.Errorf("%s = %d: an error code must be negative", name, v)
			continue
		}
		if Code(v).String() == "unknown" {
			t.Errorf("%s (%d): tubo_code_name does not know it", name, v)
		}
		// An error as the library reports it (takeError).
		err := error(&Error{Code: Code(v), Message: "tubo: a failure of code " + strconv.Itoa(v)})
		var which []string
		for _, s := range sortedKeys(sentinelsByName) {
			if errors.Is(err, sentinelsByName[s]) {
				which = append(which, s)
			}
		}
		if len(which) != 1 {
			t.Errorf("%s (%d): want exactly one Err* sentinel matching it (errors.Is), got %v; add Err%s to errors.go",
				name, v, which, camel(strings.TrimPrefix(name, "TUBO_E_")))
			continue
		}
		s := which[0]
		matched[s] = name
		if got := sentinelsByName[s].(*Error).Code; got != Code(v) {
			t.Errorf("%s.Code = %d, want %s = %d", s, got, name, v)
		}
		if want := "Err" + camel(strings.TrimPrefix(name, "TUBO_E_")); s != want {
			t.Errorf("%s is matched by %s; docs/names.md spells it %s", name, s, want)
		}
	}
	for _, s := range sortedKeys(sentinelsByName) {
		if matched[s] == "" {
			t.Errorf("%s (code %d) matches no TUBO_E_* code of tubo.h", s, sentinelsByName[s].(*Error).Code)
		}
	}
}

// checkSentinelTable checks that sentinelsByName lists exactly the exported
// Err* variables declared in the package's (non-test) source.
func checkSentinelTable(t *testing.T) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(id.Name, "Err") && id.IsExported() {
						declared[id.Name] = true
					}
				}
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("no exported Err* variable found in the package's source")
	}
	for name := range declared {
		if sentinelsByName[name] == nil {
			t.Errorf("the package declares %s, which sentinelsByName lacks: add it", name)
		}
	}
	for name := range sentinelsByName {
		if !declared[name] {
			t.Errorf("sentinelsByName lists %s, which the package does not declare", name)
		}
	}
}

var codeToken = regexp.MustCompile(`\bTUBO_E_[A-Z0-9_]+\b\s*\(?`)

// headerCodes returns the TUBO_E_* codes (name and value) of the tubo.h cgo
// compiles against (found by pkg-config, as `#cgo pkg-config: tubo` does):
// the C preprocessor reads it with every header it includes, and a small C
// program compiled against it prints the values.
func headerCodes(t *testing.T) map[string]int {
	t.Helper()
	out, err := exec.Command("pkg-config", "--cflags", "tubo").Output()
	if err != nil {
		t.Fatalf("pkg-config --cflags tubo: %v", err)
	}
	cflags := strings.Fields(string(out))
	cc := strings.Fields(os.Getenv("CC"))
	if len(cc) == 0 {
		cc = []string{"cc"}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "codes.c")
	if err := os.WriteFile(src, []byte("#include \"tubo.h\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// -dD keeps the #defines, in case a code is ever a macro.
	args := append(append(append([]string{}, cc[1:]...), cflags...), "-E", "-dD", src)
	pre, err := exec.Command(cc[0], args...).Output()
	if err != nil {
		t.Fatalf("%s -E tubo.h: %v", cc[0], err)
	}
	var names []string
	seen := map[string]bool{}
	for _, tok := range codeToken.FindAllString(string(pre), -1) {
		if strings.HasSuffix(tok, "(") { // a function-like macro, not a code
			continue
		}
		name := strings.TrimSpace(tok)
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	prog := "#include <stdio.h>\n#include \"tubo.h\"\nint main(void) {\n"
	for _, name := range names {
		prog += "  printf(\"%s %d\\n\", \"" + name + "\", (int)(" + name + "));\n"
	}
	prog += "  return 0;\n}\n"
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "codes")
	args = append(append(append([]string{}, cc[1:]...), cflags...), "-o", bin, src)
	if msg, err := exec.Command(cc[0], args...).CombinedOutput(); err != nil {
		t.Fatalf("compiling the code printer: %v\n%s", err, msg)
	}
	printed, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("running the code printer: %v", err)
	}
	codes := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(printed)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("code printer line %q", line)
		}
		v, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("code printer line %q: %v", line, err)
		}
		codes[f[0]] = v
	}
	return codes
}

// camel turns BUFFER_TOO_SMALL into BufferTooSmall.
func camel(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(s), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
