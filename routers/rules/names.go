package rules

import (
	"strconv"
	"strings"
)

// Resolve maps a matcher name as written to its canonical spelling among
// known. Like Traefik, each matcher is accepted as written ("PathPrefix"),
// in lower case ("pathprefix"), upper case ("PATHPREFIX") and title case
// ("Pathprefix"); other spellings are unknown.
func Resolve(name string, known ...string) (string, bool) {
	for _, k := range known {
		if k == "" || name == "" {
			continue
		}
		if name == k {
			return k, true
		}
		lower := strings.ToLower(k)
		if name == lower || name == strings.ToUpper(k) || name == strings.ToUpper(lower[:1])+lower[1:] {
			return k, true
		}
	}
	return "", false
}

// arity is the accepted argument counts of a matcher.
type arity struct{ min, max int }

func (a arity) describe() string {
	plural := func(n int) string {
		if n == 1 {
			return "argument"
		}
		return "arguments"
	}
	if a.min == a.max {
		return strconv.Itoa(a.min) + " " + plural(a.min)
	}
	return strconv.Itoa(a.min) + " or " + strconv.Itoa(a.max) + " " + plural(a.max)
}

// CheckArgs validates a matcher node's argument count (between min and max)
// and that no argument is empty (Traefik rejects empty arguments for every
// matcher). canonical is the name used in the error. For rule compilers
// other than HTTP's, e.g. TCP's.
func CheckArgs(n *Node, canonical string, min, max int) error {
	return checkArgs(n, canonical, arity{min, max})
}

func checkArgs(n *Node, canonical string, a arity) error {
	if len(n.Args) < a.min || len(n.Args) > a.max {
		return errorf(n.Pos, "%s expects %s, got %d", canonical, a.describe(), len(n.Args))
	}
	for i, v := range n.Args {
		if v == "" {
			return errorf(n.Pos, "%s: argument %d is empty", canonical, i+1)
		}
	}
	return nil
}
