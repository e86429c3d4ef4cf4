package kiosk

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// Speaker says texts aloud for speech mode. Say replaces whatever it was
// saying: a screen that changes interrupts the speech of the one before
// (EN 301 549 V3.2.1 clause 5.1.3.5, speech output automatic
// interruption). Neither call blocks while it speaks.
type Speaker interface {
	Say(lang Lang, text string) error
	Stop()
}

// Espeak speaks with espeak-ng (Debian package espeak-ng), one process an
// utterance, the text on its standard input so nothing of it shows in the
// process list. The voices are espeak-ng's own "it" and "en".
type Espeak struct {
	// Path is the program; "espeak-ng" (looked up on PATH) when empty.
	Path string
	// Speed in words a minute (espeak-ng -s; its default 175 is fast for
	// a first-time listener, 150 when 0). Volume is espeak-ng -a, 0–200
	// (100 when 0).
	Speed, Volume int
	// WAV, when set, writes the audio to this file instead of the sound
	// card (espeak-ng -w): the tests, and a check without speakers.
	WAV string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

var _ Speaker = (*Espeak)(nil)

// voices maps the kiosk's languages to espeak-ng's voice names.
var voices = map[Lang]string{Italian: "it", English: "en"}

// Say stops what was being said and starts saying text in lang.
func (e *Espeak) Say(lang Lang, text string) error {
	voice, ok := voices[lang]
	if !ok {
		return fmt.Errorf("espeak-ng: no voice for language %q", lang)
	}
	e.Stop()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	path := e.Path
	if path == "" {
		path = "espeak-ng"
	}
	speed, volume := e.Speed, e.Volume
	if speed <= 0 {
		speed = 150
	}
	if volume <= 0 {
		volume = 100
	}
	args := []string{"-v", voice, "-s", fmt.Sprint(speed), "-a", fmt.Sprint(volume), "--stdin"}
	if e.WAV != "" {
		args = append(args, "-w", e.WAV)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = strings.NewReader(text)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("espeak-ng cannot start (install the Debian package espeak-ng): %w", err)
	}
	done := make(chan struct{})
	e.mu.Lock()
	e.cmd, e.done = cmd, done
	e.mu.Unlock()
	go func() {
		cmd.Wait()
		close(done)
	}()
	return nil
}

// Stop silences the utterance in progress, if any, and waits for its
// process to end.
func (e *Espeak) Stop() {
	e.mu.Lock()
	cmd, done := e.cmd, e.done
	e.cmd, e.done = nil, nil
	e.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill() // an utterance that ended already has nothing to stop
	<-done
}

// Wait blocks until the utterance in progress has been said (for the WAV
// tests and the command-line check).
func (e *Espeak) Wait() {
	e.mu.Lock()
	done := e.done
	e.mu.Unlock()
	if done != nil {
		<-done
	}
}
