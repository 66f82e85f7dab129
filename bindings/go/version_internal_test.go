package tubo

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckVersionAcceptsTheSameMajor(t *testing.T) {
	if err := checkVersion(10203, 1); err != nil {
		t.Fatalf("checkVersion(1.2.3, major 1) = %v, want nil", err)
	}
}

func TestCheckVersionRejectsAnotherMajor(t *testing.T) {
	err := checkVersion(20001, 1)
	if err == nil || !strings.Contains(err.Error(), "2.0.1") || !strings.Contains(err.Error(), "major version 1") {
		t.Fatalf("checkVersion(2.0.1, major 1) = %v, want an error naming both", err)
	}
	if !errors.Is(err, ErrOther) {
		t.Errorf("the version error is not ErrOther: %v", err)
	}
}

func TestTheLoadedLibraryPassesTheCheck(t *testing.T) {
	if versionErr != nil {
		t.Fatal(versionErr)
	}
}
