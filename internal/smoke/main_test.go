//go:build integration

package smoke

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the tests, and the testenv fixtures they use, leave no goroutine behind:
// the packages that reuse testenv check for leaks too.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
