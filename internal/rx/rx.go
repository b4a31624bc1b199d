// Package rx compiles the regular expressions agents and people type
// (grep filters, wait conditions) and words their mistakes the same way
// wherever they are typed.
package rx

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Compile compiles pattern, the value of the argument named field. Its
// error says what is wrong: `"grep" "(" is not a valid RE2 regular
// expression: missing closing ): ` + "`(`".
func Compile(field, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%q %q is not a valid RE2 regular expression: %s", field, pattern, reason(err))
	}
	return re, nil
}

// reason is the parse error without the regexp package's prefix.
func reason(err error) string {
	var syn *syntax.Error
	if errors.As(err, &syn) {
		return syn.Code.String() + ": `" + syn.Expr + "`"
	}
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}
