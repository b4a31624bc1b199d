package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// maxArgBytes bounds the arguments of one call. Nothing a tool takes needs
// more; a larger payload is refused before it is decoded.
const maxArgBytes = 1 << 20

// validator is an argument struct that checks itself.
type validator interface{ validate() error }

// bindArgs decodes and validates a call's arguments into a T. A mistake in
// them comes back as the tool error to return.
func bindArgs[T any, PT interface {
	*T
	validator
}](req mcp.CallToolRequest) (*T, *mcp.CallToolResult) {
	args := PT(new(T))
	if err := decodeArgs(rawArgs(req), args); err != nil {
		return nil, toolError("%v", err)
	}
	if err := args.validate(); err != nil {
		return nil, toolError("%v", err)
	}
	return args, nil
}

// rawArgs returns the call's arguments as JSON ("{}" when absent).
func rawArgs(req mcp.CallToolRequest) []byte {
	switch a := req.GetRawArguments().(type) {
	case json.RawMessage:
		return a
	case nil:
		return nil
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return []byte("null")
		}
		return b
	}
}

// decodeArgs binds JSON arguments into dst strictly and explains every
// mistake in terms of the tool's argument names: unknown arguments, wrong
// types, malformed JSON, trailing data.
func decodeArgs(data []byte, dst any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		data = []byte("{}")
	}
	if len(data) > maxArgBytes {
		return fmt.Errorf("arguments are %d bytes, more than the %d allowed", len(data), maxArgBytes)
	}
	if data[0] != '{' {
		return errors.New("arguments must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return argError(err, dst)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("arguments must be a single JSON object")
	}
	return nil
}

// argError rewrites encoding/json errors into messages for a model.
func argError(err error, dst any) error {
	var fe fieldError
	if errors.As(err, &fe) {
		return fe.error // worded by the nested argument itself
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return errors.New("arguments must be a JSON object")
		}
		top, _, _ := strings.Cut(field, ".")
		return fmt.Errorf("%q must be %s, got %s", top, kindWords(dst, top), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("arguments are not valid JSON: %v", syntaxErr)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown argument %s (allowed: %s)", name, strings.Join(argNames(dst), ", "))
	}
	return fmt.Errorf("arguments: %v", err)
}

// argNames lists the JSON names of dst's fields, sorted.
func argNames(dst any) []string {
	t := reflect.TypeOf(dst).Elem()
	var names []string
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n != "" && n != "-" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// kindWords describes the JSON type expected for argument name of dst.
func kindWords(dst any, name string) string {
	t := reflect.TypeOf(dst).Elem()
	for i := range t.NumField() {
		f := t.Field(i)
		if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n != name {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.String:
			return "a string"
		case reflect.Int, reflect.Int64, reflect.Int32:
			return "an integer"
		case reflect.Uint, reflect.Uint64, reflect.Uint32:
			return "a non-negative integer"
		case reflect.Bool:
			return "a boolean"
		case reflect.Slice:
			return "an array of strings"
		case reflect.Map:
			return "an object of string values"
		}
	}
	return "another type"
}
