package wire

// Exported for the tests of package wire_test.

// ErrorShape is one modeled error for TestErrorShapesMatchSDK.
type ErrorShape struct {
	Shape, Code string
	Server      bool
}

// ErrorShapes returns errorShapes.
func ErrorShapes() []ErrorShape {
	out := make([]ErrorShape, len(errorShapes))
	for i, s := range errorShapes {
		out[i] = ErrorShape{s.shape, s.code, s.server}
	}
	return out
}
