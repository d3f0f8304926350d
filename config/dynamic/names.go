package dynamic

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Qualify returns name@provider unless name already names its provider.
func Qualify(name, provider string) string {
	if name == "" || strings.Contains(name, "@") {
		return name
	}
	return name + "@" + provider
}

// SplitQualified splits "name@provider" into its parts; provider is empty
// for an unqualified name.
func SplitQualified(qualified string) (name, provider string) {
	i := strings.LastIndex(qualified, "@")
	if i < 0 {
		return qualified, ""
	}
	return qualified[:i], qualified[i+1:]
}

// Hash is a stable digest of any configuration object, used to detect
// unchanged configurations and to key state that outlives a reload.
func Hash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
