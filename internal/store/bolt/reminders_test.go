package bolt

import (
	"testing"

	"github.com/sportello/sportello/internal/reminder/remindertest"
)

func TestReminders(t *testing.T) { remindertest.Run(t, openHub) }
