//go:build race

package outbox

// raceDetector is true under -race, where each child kiosk takes several
// times longer to start.
const raceDetector = true
