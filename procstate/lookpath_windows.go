package procstate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lookPath finds the program to execute the way exec.LookPath does on
// Windows (PATH, then the extensions in PATHEXT), but with the child's PATH
// and PATHEXT and relative to the child's directory. The current directory
// is searched only if PATH names it, as exec.LookPath does since Go 1.19.
func lookPath(name string, env []string, dir string) (string, error) {
	exts := pathExts(envValue(env, "PATHEXT"))
	if strings.ContainsAny(name, `/\:`) {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		found, err := findExecutable(path, exts)
		if err != nil {
			return "", fmt.Errorf("program %q: %w", name, err)
		}
		return found, nil
	}
	for _, d := range filepath.SplitList(envValue(env, "PATH")) {
		if d == "" {
			continue
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if found, err := findExecutable(filepath.Join(d, name), exts); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("program %q not found in PATH", name)
}

// findExecutable tries path as it is if it has an extension, then with each
// of exts appended. Windows has no executable bit: a file is enough.
func findExecutable(path string, exts []string) (string, error) {
	err := errors.New("no such file")
	if filepath.Ext(path) != "" {
		if err = checkFile(path); err == nil {
			return path, nil
		}
	}
	for _, ext := range exts {
		if checkFile(path+ext) == nil {
			return path + ext, nil
		}
	}
	return "", err
}

func checkFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errors.New("no such file")
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory")
	}
	return nil
}

// pathExts splits PATHEXT, with the default of cmd.exe when it is empty.
func pathExts(pathext string) []string {
	if pathext == "" {
		return []string{".com", ".exe", ".bat", ".cmd"}
	}
	var exts []string
	for _, e := range strings.Split(strings.ToLower(pathext), ";") {
		if e == "" {
			continue
		}
		if e[0] != '.' {
			e = "." + e
		}
		exts = append(exts, e)
	}
	return exts
}

// envValue returns the last value of key in env; Windows compares
// environment keys without regard to case ("Path", "PATH").
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, key) {
			v = val
		}
	}
	return v
}
